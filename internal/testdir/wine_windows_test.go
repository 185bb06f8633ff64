package testdir

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// errorSharingViolation is ERROR_SHARING_VIOLATION, which package syscall
// does not name.
const errorSharingViolation syscall.Errno = 32

// underWine reports whether the test runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return syscall.NewLazyDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

// TestShareModeBlocksRename checks what sluice's Windows tailer relies on and
// what the Windows tests need Wine to reproduce: a file held open by os.Open,
// which omits FILE_SHARE_DELETE, cannot be renamed through another handle,
// while a file opened with FILE_SHARE_DELETE can.
func TestShareModeBlocksRename(t *testing.T) {
	if underWine() {
		t.Log("running under Wine")
	}
	dir := New(t)

	t.Run("os.Open blocks rename", func(t *testing.T) {
		path := filepath.Join(dir, "0.log")
		if err := os.WriteFile(path, []byte("line\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		err = os.Rename(path, path+".20240101-000000")
		if err == nil {
			f.Close()
			t.Fatal("rename of a file held open without FILE_SHARE_DELETE succeeded, want a sharing violation")
		}
		if !errors.Is(err, errorSharingViolation) && !errors.Is(err, syscall.ERROR_ACCESS_DENIED) {
			t.Errorf("rename failed with %v, want a sharing violation or access denied", err)
		}
		t.Logf("rename while open: %v", err)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path, path+".20240101-000000"); err != nil {
			t.Fatalf("rename after close: %v", err)
		}
	})

	t.Run("FILE_SHARE_DELETE allows rename", func(t *testing.T) {
		path := filepath.Join(dir, "1.log")
		if err := os.WriteFile(path, []byte("line\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		name, err := syscall.UTF16PtrFromString(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := syscall.CreateFile(name, syscall.GENERIC_READ,
			syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
			nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL, 0)
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		defer syscall.CloseHandle(h)
		if err := os.Rename(path, path+".20240101-000000"); err != nil {
			t.Fatalf("rename of a file open with FILE_SHARE_DELETE: %v", err)
		}
	})
}
