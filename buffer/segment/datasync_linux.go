package segment

import (
	"os"
	"syscall"
)

// dataSync flushes f's data and the metadata needed to read it back.
// Linux: fdatasync skips the timestamp updates that fsync also writes.
func dataSync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for serr = syscall.Fdatasync(int(fd)); serr == syscall.EINTR; serr = syscall.Fdatasync(int(fd)) {
		}
	}); err != nil {
		return err
	}
	return serr
}
