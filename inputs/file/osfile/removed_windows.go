package osfile

import (
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// fileStandardInfo is FILE_STANDARD_INFO, which x/sys/windows does not define.
type fileStandardInfo struct {
	AllocationSize int64
	EndOfFile      int64
	NumberOfLinks  uint32
	DeletePending  byte // BOOLEAN
	Directory      byte // BOOLEAN
}

// Removed reports whether the file f is open on has been deleted.
// Windows: a deleted file stays "delete pending" while any handle is open, so FileStandardInfo is asked.
func Removed(f *os.File) (bool, error) {
	info, err := standardInfo(f)
	if err != nil {
		return false, err
	}
	// A POSIX-semantics delete (newer NTFS) unlinks the name at once: no links left.
	return info.DeletePending != 0 || info.NumberOfLinks == 0, nil
}

// Size returns the size of the file f is open on, with one call where
// f.Stat makes several and an os.FileInfo: the tailer asks every idle file
// several times a second.
func Size(f *os.File) (int64, error) {
	info, err := standardInfo(f)
	if err != nil {
		return 0, err
	}
	return info.EndOfFile, nil
}

func standardInfo(f *os.File) (fileStandardInfo, error) {
	var info fileStandardInfo
	err := withHandle(f, func(h windows.Handle) error {
		return windows.GetFileInformationByHandleEx(h, windows.FileStandardInfo,
			(*byte)(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	})
	if err != nil {
		return info, &fs.PathError{Op: "GetFileInformationByHandleEx", Path: f.Name(), Err: err}
	}
	return info, nil
}
