package atomicfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// Retries of a blocked rename: 8 attempts, waits of 10 ms doubling up to
// 400 ms, about one second in all. Long enough for a virus scan or a backup
// agent's read of a small file, short enough that the caller (the buffer
// holds its lock while saving a cursor) is not stalled for long.
const (
	renameAttempts  = 8
	renameFirstWait = 10 * time.Millisecond
	renameMaxWait   = 400 * time.Millisecond
)

// blockedErrs are what MoveFileEx returns while another process holds the
// source or the destination: without FILE_SHARE_DELETE (sharing violation),
// open for deletion or mapped (access denied), or with a byte range locked.
var blockedErrs = [...]error{windows.ERROR_SHARING_VIOLATION, windows.ERROR_ACCESS_DENIED, windows.ERROR_LOCK_VIOLATION}

// rename retries os.Rename while another process blocks it.
// Windows: a file open without FILE_SHARE_DELETE cannot be replaced, and
// antivirus, backup and viewers open files that way for a moment.
func rename(from, to string, retry RetryFunc) error {
	wait := renameFirstWait
	for attempt := 1; ; attempt++ {
		err := os.Rename(from, to)
		if err == nil || attempt == renameAttempts || !blocked(err) {
			return err
		}
		if retry != nil {
			retry(attempt, err)
		}
		time.Sleep(wait)
		wait = min(wait*2, renameMaxWait)
	}
}

func blocked(err error) bool {
	for _, e := range blockedErrs {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
