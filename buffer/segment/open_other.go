//go:build !windows

package segment

import "os"

// createFile creates path for reading and writing, failing if it exists.
// Unix: os.OpenFile already lets others rename and unlink an open file;
// 0600 because a segment holds log lines.
func createFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// openFile opens an existing file, read-only or for reading and writing.
func openFile(path string, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	return os.OpenFile(path, flag, 0)
}
