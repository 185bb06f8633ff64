package outputs

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
)

// TestDeadLetterUntearsAfterFailedWrite fills the disk in the middle of a
// dead-letter write (a file-size limit makes the kernel write part of it,
// as a full disk does) and checks that the retry leaves only whole JSON
// lines. The limit is per process, so the writing happens in a child.
func TestDeadLetterUntearsAfterFailedWrite(t *testing.T) {
	if path := os.Getenv("SLUICE_DEADLETTER_CHILD"); path != "" {
		deadLetterChild(t, path)
		return
	}
	path := filepath.Join(testdir.New(t), "dead.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeadLetterUntearsAfterFailedWrite$", "-test.v")
	cmd.Env = append(os.Environ(), "SLUICE_DEADLETTER_CHILD="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines, headers int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d is torn: %v: %.80q", lines, err, sc.Text())
		}
		if _, ok := v["rejected_at"]; ok {
			headers++
		}
	}
	// The small request, then the big one once (its failed attempt cut away).
	if headers != 2 || lines != 4 {
		t.Fatalf("file holds %d lines with %d headers, want 4 lines with 2 headers", lines, headers)
	}
}

func deadLetterChild(t *testing.T, path string) {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG instead of dying
	d, err := OpenDeadLetter(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	small := &batchReq{lines: []string{"small"}}
	big := &batchReq{lines: []string{strings.Repeat("x", 16<<10)}}
	if err := d.Write("loki", "status_400", nil, small); err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 8 << 10, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	werr := d.Write("loki", "status_400", nil, big)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if werr == nil {
		t.Fatal("write past the size limit succeeded")
	}
	t.Logf("first attempt: %v", werr)
	if err := d.Write("loki", "status_400", nil, big); err != nil {
		t.Fatal(err)
	}
}
