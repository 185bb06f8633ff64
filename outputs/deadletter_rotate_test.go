package outputs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// TestDeadLetterCountsFailedRotations: when the full file cannot be renamed
// (here <path>.1 is a folder that is not empty) the write fails and the
// failure reaches ReplaceFailed, labelled dead_letter.
func TestDeadLetterCountsFailedRotations(t *testing.T) {
	dir := testdir.New(t)
	path := filepath.Join(dir, "dead.jsonl")
	if err := os.MkdirAll(filepath.Join(path+".1", "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	dead, err := OpenDeadLetter(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	var failed []string
	dead.ReplaceFailed = func(file string) { failed = append(failed, file) }
	var werr error
	for i := 0; i < 10 && werr == nil; i++ {
		werr = dead.Write("s", "r", nil, &testReq{rec: record.Record{Body: fmt.Appendf(nil, "rejected %d", i)}})
	}
	if werr == nil {
		t.Fatal("every write succeeded although the file could not rotate")
	}
	if len(failed) != 1 || failed[0] != "dead_letter" {
		t.Fatalf("failures reported %q, want one dead_letter", failed)
	}
}
