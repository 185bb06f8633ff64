package atomicfile

import (
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
