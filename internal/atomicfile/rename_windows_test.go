package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/sluicelog/sluice/internal/testdir"
)

// holdFile opens path the way a viewer or a scanner does: os.Open on Windows
// shares read and write but not delete, so nothing can replace the file.
func holdFile(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWriteWaitsForAHeldFile: while another handle holds the checkpoint
// without delete sharing the rename fails (as under Wine, which enforces
// share modes); Write retries and succeeds once
// the handle is closed. The hook hands the release to another goroutine and
// waits for it, so the outcome does not depend on timing.
func TestWriteWaitsForAHeldFile(t *testing.T) {
	path := filepath.Join(testdir.New(t), "files.json")
	if err := Write(path, []byte("old"), true); err != nil {
		t.Fatal(err)
	}
	held := holdFile(t, path)
	release, released := make(chan struct{}), make(chan error)
	go func() {
		<-release
		released <- held.Close()
	}()
	var retries []error
	err := write(path, []byte("new"), true, func(attempt int, err error) {
		retries = append(retries, err)
		if attempt == 1 {
			close(release)
			if err := <-released; err != nil {
				t.Errorf("release the file: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatalf("write after the file was released: %v", err)
	}
	// Windows and Wine report a held destination as access denied, a held
	// source as a sharing violation.
	if len(retries) != 1 || !blocked(retries[0]) {
		t.Fatalf("retries %v, want one after the file was found held", retries)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "new" {
		t.Fatalf("content %q, %v; want new", got, err)
	}
}

// TestWriteGivesUpOnAFileHeldThroughout: a file held for longer than the
// retries last is not replaced: the error says why and the old content
// stays, as does the new one in the temporary file for the next attempt.
func TestWriteGivesUpOnAFileHeldThroughout(t *testing.T) {
	path := filepath.Join(testdir.New(t), "files.json")
	if err := Write(path, []byte("old"), true); err != nil {
		t.Fatal(err)
	}
	held := holdFile(t, path)
	defer held.Close()
	retries := 0
	err := write(path, []byte("new"), true, func(int, error) { retries++ })
	if !errors.Is(err, windows.ERROR_ACCESS_DENIED) && !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		t.Fatalf("write to a held file: %v, want access denied or a sharing violation", err)
	}
	if retries != renameAttempts-1 {
		t.Errorf("%d retries, want %d", retries, renameAttempts-1)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
		t.Fatalf("content %q, %v; want old", got, err)
	}
	held.Close()
	os.Remove(path + ".tmp")
}

// TestRenameDoesNotRetryLastingErrors: a missing source is not a held file.
func TestRenameDoesNotRetryLastingErrors(t *testing.T) {
	dir := testdir.New(t)
	retries := 0
	err := rename(filepath.Join(dir, "missing"), filepath.Join(dir, "to"), func(int, error) { retries++ })
	if err == nil || retries != 0 {
		t.Fatalf("rename of a missing file: %v after %d retries, want an error and none", err, retries)
	}
}
