package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWriteReplaces(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "state.json")
	for _, tc := range []struct {
		content string
		sync    bool
	}{{"first", true}, {"second", false}, {"third", true}} {
		if err := Write(path, []byte(tc.content), tc.sync); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tc.content {
			t.Fatalf("after writing %q (sync %v): %q, %v", tc.content, tc.sync, got, err)
		}
		if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
			t.Fatalf("temporary file left behind: %v", err)
		}
	}
	if err := Write(filepath.Join(dir, "missing", "x"), []byte("x"), true); err == nil {
		t.Fatal("want an error for a missing folder")
	}
}

// TestWriteFuncKeepsOldOnError: what fill streams replaces the file only
// when fill succeeds; a failure half-way leaves the old content.
func TestWriteFuncKeepsOldOnError(t *testing.T) {
	path := filepath.Join(testdir.New(t), "state.json")
	if err := WriteFunc(path, true, func(w io.Writer) error {
		for i := range 3 {
			fmt.Fprintf(w, "part %d;", i)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bad := errors.New("entry 2 does not encode")
	err := WriteFunc(path, true, func(w io.Writer) error {
		io.WriteString(w, "half")
		return bad
	})
	if !errors.Is(err, bad) {
		t.Fatalf("WriteFunc = %v, want an error wrapping %v", err, bad)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "part 0;part 1;part 2;" {
		t.Fatalf("after the failed write: %q, %v", got, err)
	}
}
