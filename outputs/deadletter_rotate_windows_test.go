package outputs

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/record"
)

// TestDeadLetterRotationHeldThroughout: a viewer holding <path>.1 open
// without delete sharing (os.Open on Windows) stops the rotation once the
// retries run out; the failure is reported, and the next write after the
// viewer let go rotates.
func TestDeadLetterRotationHeldThroughout(t *testing.T) {
	path := filepath.Join(testdir.New(t), "dead.jsonl")
	if err := os.WriteFile(path+".1", []byte("older\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	viewer, err := os.Open(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	dead, err := OpenDeadLetter(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	failed := 0
	dead.ReplaceFailed = func(string) { failed++ }
	write := func(i int) error {
		return dead.Write("s", "r", nil, &testReq{rec: record.Record{Body: fmt.Appendf(nil, "rejected %d", i)}})
	}
	var werr error
	i := 0
	for ; i < 10 && werr == nil; i++ {
		werr = write(i)
	}
	if werr == nil || failed != 1 {
		t.Fatalf("write while .1 is held: %v, %d failures reported; want an error and one", werr, failed)
	}
	viewer.Close()
	if err := write(i); err != nil {
		t.Fatalf("write once .1 was released: %v", err)
	}
	if b, err := os.ReadFile(path + ".1"); err != nil || len(b) == 0 || string(b) == "older\n" {
		t.Fatalf("%s.1 after the rotation: %q, %v", path, b, err)
	}
}
