package main

import "golang.org/x/sys/windows"

// transientErrnos are the system errors a later attempt may not meet; on
// Windows also a file another process holds without sharing it.
var transientErrnos = []error{
	windows.ERROR_DISK_FULL, windows.ERROR_HANDLE_DISK_FULL, windows.ERROR_DISK_QUOTA_EXCEEDED,
	windows.ERROR_NOT_READY, windows.ERROR_CRC, windows.ERROR_IO_DEVICE, windows.ERROR_WRITE_PROTECT,
	windows.ERROR_TOO_MANY_OPEN_FILES, windows.ERROR_SHARING_VIOLATION, windows.ERROR_LOCK_VIOLATION,
}
