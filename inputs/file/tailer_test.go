package file

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFormatsPerFile(t *testing.T) {
	h := newHarness(t, "", nil)
	appendFile(t, filepath.Join(h.dir, "cri.log"), "2026-11-26T00:54:07.5+01:00 stderr F from cri\r\n")
	appendFile(t, filepath.Join(h.dir, "docker.log"), `{"log":"from \"docker\"\n","stream":"stdout","time":"2026-11-26T00:54:07Z"}`+"\n")
	appendFile(t, filepath.Join(h.dir, "raw.log"), "plain text\n\nsecond\n")
	appendFile(t, filepath.Join(h.dir, "ignored.txt"), "not matched\n")
	h.start()
	h.waitCount(4)
	got := map[string]record.Record{}
	for _, r := range h.records() {
		got[string(r.Body)] = r
	}
	if r, ok := got["from cri"]; !ok || r.Stream != "stderr" || r.Time.UTC().Hour() != 23 {
		t.Errorf("cri record = %+v", r)
	}
	if r, ok := got[`from "docker"`]; !ok || r.Stream != "stdout" {
		t.Errorf("docker record = %+v", r)
	}
	if _, ok := got["plain text"]; !ok {
		t.Errorf("raw line missing: %v", h.bodies())
	}
	if _, ok := got["not matched"]; ok {
		t.Error("file outside the pattern was read")
	}
	h.waitFor("empty line counted", func() bool { return h.counts.Snapshot().Anomalies[SkipEmptyLine] == 1 })
}

func TestFollowsAppends(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "app.log")
	appendFile(t, path, criLines(0, 10))
	h.start()
	h.waitCount(10)
	appendFile(t, path, "2026-11-26T00:54:07Z stdout F half")
	appendFile(t, path, " done\n"+criLines(10, 20))
	h.waitCount(21)
	got := h.bodies()
	want := append(append(msgs(0, 10), "half done"), msgs(10, 20)...)
	if !equalStrings(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestRotation covers the ways kubelet and log rotators replace a file; every
// line must arrive exactly once and in order.
func TestRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rotate func(t *testing.T, path string)
	}{
		{"rename and create", func(t *testing.T, path string) {
			if err := os.Rename(path, path+".20261126-005407"); err != nil {
				t.Fatal(err)
			}
		}},
		{"rename, create, delete old", func(t *testing.T, path string) {
			if err := os.Rename(path, path+".20261126-005407"); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, "")
			if err := os.Remove(path + ".20261126-005407"); err != nil {
				t.Fatal(err)
			}
		}},
		{"copytruncate", func(t *testing.T, path string) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+".20261126-005407", b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			path := filepath.Join(h.dir, "0.log")
			appendFile(t, path, criLines(0, 100))
			h.start()
			h.waitCount(100)
			// Lines written after the last read but before rotation must survive it.
			appendFile(t, path, criLines(100, 150))
			tc.rotate(t, path)
			appendFile(t, path, criLines(150, 200))
			h.waitCount(200)
			if got := h.bodies(); !equalStrings(got, msgs(0, 200)) {
				t.Fatalf("got %d records, want msg-0..msg-199 in order once: %q", len(got), tail(got, 60))
			}
			for _, r := range h.records() {
				if r.Path != path {
					t.Fatalf("record path %q, want the discovered path %q", r.Path, path)
				}
			}
		})
	}
}

func TestPartialJoinedAcrossRotation(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, "2026-11-26T00:54:07Z stdout P first half, \n2026-11-26T00:54:07Z stderr F err\n")
	h.start()
	h.waitCount(1)
	if err := os.Rename(path, path+".20261126-005407"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "2026-11-26T00:54:08Z stdout F second half\n")
	h.waitCount(2)
	if got := h.bodies(); !equalStrings(got, []string{"err", "first half, second half"}) {
		t.Fatalf("got %q", got)
	}
}

func TestCheckpointResume(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 50)+"2026-11-26T00:54:07Z stdout P joined ")
	h.start()
	h.waitCount(50)
	h.stop()

	appendFile(t, path, "\n2026-11-26T00:54:07Z stdout F across a restart\n"+criLines(50, 60))
	h2 := newHarness(t, h.dir, nil)
	h2.start()
	h2.waitCount(11)
	want := append([]string{"joined across a restart"}, msgs(50, 60)...)
	if got := h2.bodies(); !equalStrings(got, want) {
		t.Fatalf("after restart got %q, want %q", got, want)
	}
}

func TestUnacknowledgedIsReadAgain(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "0.log")
	appendFile(t, path, criLines(0, 20))
	h.start()
	h.waitCount(20)
	h.mu.Lock()
	h.hold = true
	h.mu.Unlock()
	appendFile(t, path, criLines(20, 30))
	h.waitCount(30)
	h.stop()

	h2 := newHarness(t, h.dir, nil)
	h2.start()
	h2.waitCount(10)
	if got := h2.bodies(); !equalStrings(got, msgs(20, 30)) {
		t.Fatalf("unacknowledged lines after restart: got %q, want msg-20..29", got)
	}
}

func TestRestartFindsFileRotatedWhileStopped(t *testing.T) {
	for _, copyTruncate := range []bool{false, true} {
		name := map[bool]string{false: "renamed", true: "copytruncated"}[copyTruncate]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			path := filepath.Join(h.dir, "0.log")
			appendFile(t, path, criLines(0, 10))
			h.start()
			h.waitCount(10)
			h.stop()

			appendFile(t, path, criLines(10, 20))
			rotated := path + ".20261126-005407"
			if copyTruncate {
				b, _ := os.ReadFile(path)
				if err := os.WriteFile(rotated, b, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			} else if err := os.Rename(path, rotated); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, criLines(20, 30))

			h2 := newHarness(t, h.dir, nil)
			h2.start()
			h2.waitCount(20)
			if got := h2.bodies(); !equalStrings(got, msgs(10, 30)) {
				t.Fatalf("got %q, want msg-10..29 in order", got)
			}
		})
	}
}

func TestReadFromTail(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.ReadFromTail = true })
	path := filepath.Join(h.dir, "old.log")
	appendFile(t, path, criLines(0, 10))
	h.start()
	h.waitFor("first discovery", func() bool { return h.counts.Snapshot().Opens == 1 })
	appendFile(t, path, criLines(10, 12))
	appendFile(t, filepath.Join(h.dir, "new.log"), criLines(100, 101))
	h.waitCount(3)
	got := strings.Join(h.bodies(), ",")
	for _, want := range []string{"msg-10", "msg-11", "msg-100"} {
		if !strings.Contains(got, want) {
			t.Fatalf("got %s, missing %s", got, want)
		}
	}
	if strings.Contains(got, "msg-0,") {
		t.Fatalf("read_from tail read old lines: %s", got)
	}
}

func TestSameFileThroughTwoPathsReadOnce(t *testing.T) {
	h := newHarness(t, "", nil)
	path := filepath.Join(h.dir, "a.log")
	appendFile(t, path, criLines(0, 5))
	if err := os.Link(path, filepath.Join(h.dir, "b.log")); err != nil {
		t.Skipf("hard links not available: %v", err)
	}
	h.start()
	h.waitCount(5)
	h.waitFor("two discoveries", func() bool { return h.counts.Snapshot().Opens >= 1 })
	appendFile(t, path, criLines(5, 6))
	h.waitCount(6)
	if got := h.bodies(); !equalStrings(got, msgs(0, 6)) {
		t.Fatalf("got %q, want each line once", got)
	}
}

func TestMaxOpenFilesParksIdleFiles(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.MaxOpenFiles = 2 })
	for i := 0; i < 6; i++ {
		appendFile(t, filepath.Join(h.dir, string(rune('a'+i))+".log"), criLines(i*10, i*10+10))
	}
	h.start()
	h.waitCount(60)
	h.waitFor("handles bounded", func() bool { return h.counts.Snapshot().Open <= 2 })
	appendFile(t, filepath.Join(h.dir, "a.log"), criLines(60, 61))
	h.waitCount(61)
	if got := h.counts.Snapshot(); got.Open > 2 {
		t.Fatalf("%d handles open, max 2", got.Open)
	}
}

func TestBadInputIsCountedNotFatal(t *testing.T) {
	h := newHarness(t, "", func(c *Config) { c.MaxLineSize = 4096 })
	appendFile(t, filepath.Join(h.dir, "long.log"), strings.Repeat("x", 3*4096+100)+"\n")
	appendFile(t, filepath.Join(h.dir, "zeros.log"), strings.Repeat("\x00", 10000))
	appendFile(t, filepath.Join(h.dir, "utf8.log"), "2026-11-26T00:54:07Z stdout F bad \xff\xfe bytes\n")
	appendFile(t, filepath.Join(h.dir, "cri-bad.log"), "2026-11-26T00:54:07Z stdout F ok\n2026-13-45T00:54:07Z stdout F bad month\n")
	if err := os.Mkdir(filepath.Join(h.dir, "dir.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitCount(4 + 2 + 1) // 4 pieces, ok + bad month, bad bytes
	h.waitFor("anomalies counted", func() bool {
		a := h.counts.Snapshot().Anomalies
		return a[SkipSplitLine] >= 3 && a[SkipNULBytes] == 10000 && a[SkipInvalidUTF8] == 1 &&
			a[SkipParseError] == 1 && a[SkipNotRegular] == 1
	})
	var pieces int
	for _, r := range h.records() {
		if r.Flags&record.FlagSplit != 0 {
			pieces++
			if len(r.Body) > 4096 {
				t.Fatalf("piece of %d bytes exceeds max_line_size", len(r.Body))
			}
		}
		if strings.Contains(string(r.Body), "bad month") && r.Flags&record.FlagRaw == 0 {
			t.Fatalf("malformed CRI line not kept as raw: %+v", r)
		}
	}
	if pieces != 4 {
		t.Fatalf("long line cut into %d pieces, want 4", pieces)
	}
}

// A line longer than the read buffer the tailer starts with (readChunk)
// but within max_line_size comes out whole, with the lines around it.
func TestLineLongerThanReadChunk(t *testing.T) {
	h := newHarness(t, "", nil) // max_line_size 1 MiB
	long := strings.Repeat("y", 3*readChunk/2)
	appendFile(t, filepath.Join(h.dir, "a.log"), "before\n"+long+"\nafter\n")
	h.start()
	h.waitCount(3)
	recs := h.records()
	if len(recs) != 3 || string(recs[0].Body) != "before" || string(recs[1].Body) != long || string(recs[2].Body) != "after" {
		t.Fatalf("got %d records; bodies of %d, %d, %d bytes", len(recs), len(recs[0].Body), len(recs[min(1, len(recs)-1)].Body), len(recs[len(recs)-1].Body))
	}
	if recs[1].Flags&record.FlagSplit != 0 {
		t.Fatalf("the long line was cut: flags %v", recs[1].Flags)
	}
}

// A rotated file's last line without its newline, longer than the read
// buffer the tailer starts with, still comes out whole when the file is
// finished.
func TestLongTailWithoutNewlineAtRotation(t *testing.T) {
	h := newHarness(t, "", nil) // max_line_size 1 MiB
	path := filepath.Join(h.dir, "0.log")
	long := strings.Repeat("z", readChunk+readChunk/3)
	appendFile(t, path, "before\n"+long)
	h.start()
	h.waitCount(1)
	// Idle for many polls: the tailer lets go of the buffer it grew for
	// the long line, so the finish starts from a small one.
	time.Sleep(30 * testConfig("").PollInterval)
	if err := os.Rename(path, path+".20261126-005407"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, "after\n")
	h.waitCount(3)
	recs := h.records()
	var got *record.Record
	for i := range recs {
		if strings.HasPrefix(string(recs[i].Body), "z") {
			got = &recs[i]
		}
	}
	if got == nil || string(got.Body) != long || got.Flags&record.FlagNoNewline == 0 || got.Flags&record.FlagSplit != 0 {
		t.Fatalf("the unterminated last line did not come out whole: %d records, %v", len(recs), got != nil)
	}
}

func TestCorruptCheckpointStartsFromHead(t *testing.T) {
	h := newHarness(t, "", nil)
	appendFile(t, filepath.Join(h.dir, "a.log"), criLines(0, 3))
	if err := os.MkdirAll(filepath.Dir(h.cfg.CheckpointPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h.cfg.CheckpointPath, []byte("{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitCount(3)
	h.stop()
	if _, err := checkpoint.Load(h.cfg.CheckpointPath); err != nil {
		t.Fatalf("checkpoint not rewritten: %v", err)
	}
}
