//go:build !linux

package e2e

import "os"

// fileID is a file's identity; the tests that use it run on Linux only.
type fileID struct{ name string }

func fileIDOf(path string, _ os.FileInfo) (fileID, error) { return fileID{name: path}, nil }

func pidHolds(int, []fileID) (bool, error) { return false, errUnsupported }

func processesNamed(string) []int { return nil }

type inode struct{ name string }

func (id fileID) inode() inode { return inode(id) }

func pidFiles(int) []inode { return nil }
