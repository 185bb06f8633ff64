//go:build !windows

package main

import "syscall"

// transientErrnos are the system errors a later attempt may not meet: a full
// disk or quota, an I/O error, a file system mounted read-only for a while
// (as after an error), too many open files, a busy or stale resource.
var transientErrnos = []error{
	syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS,
	syscall.EMFILE, syscall.ENFILE, syscall.EBUSY, syscall.EAGAIN, syscall.ESTALE,
}
