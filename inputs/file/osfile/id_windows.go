package osfile

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// IDOf returns the identity of the file f is open on, from the handle.
// Windows: os.FileInfo does not expose the file index, so GetFileInformationByHandle is called on f's handle.
func IDOf(f *os.File) (ID, error) {
	var id ID
	err := withHandle(f, func(h windows.Handle) error {
		var err error
		id, err = handleID(h)
		return err
	})
	if err != nil {
		return ID{}, &fs.PathError{Op: "GetFileInformationByHandle", Path: f.Name(), Err: err}
	}
	return id, nil
}

// StatID returns the identity of the file at path, following symlinks.
// Windows: the file index is only known through a handle, so one is opened with no access and all share modes, asked, and closed.
func StatID(path string) (ID, error) {
	// FILE_FLAG_BACKUP_SEMANTICS lets the same call open a directory.
	h, err := createFile(path, 0, windows.FILE_FLAG_BACKUP_SEMANTICS)
	if err != nil {
		return ID{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	defer windows.CloseHandle(h)
	id, err := handleID(h)
	if err != nil {
		return ID{}, &fs.PathError{Op: "GetFileInformationByHandle", Path: path, Err: err}
	}
	return id, nil
}

// handleID asks Windows for the volume serial number and file index of h.
func handleID(h windows.Handle) (ID, error) {
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &info); err != nil {
		return ID{}, err
	}
	return ID{
		Dev: uint64(info.VolumeSerialNumber),
		Ino: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow),
	}, nil
}

// withHandle calls fn with f's handle, keeping f from being closed meanwhile.
func withHandle(f *os.File, fn func(windows.Handle) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var fnErr error
	if err := rc.Control(func(fd uintptr) { fnErr = fn(windows.Handle(fd)) }); err != nil {
		// Control fails only once f is closed, with an error that os does
		// not export; report the one f.Stat would.
		return os.ErrClosed
	}
	return fnErr
}
