package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sluicelog/sluice/config"
)

// recordedEvents keeps what would go to the event log, which Wine does
// not keep.
type recordedEvents struct{ got []string }

func (r *recordedEvents) Info(_ uint32, m string) error    { return r.add("info", m) }
func (r *recordedEvents) Warning(_ uint32, m string) error { return r.add("warning", m) }
func (r *recordedEvents) Error(_ uint32, m string) error   { return r.add("error", m) }
func (r *recordedEvents) Close() error                     { return nil }

func (r *recordedEvents) add(level, m string) error {
	r.got = append(r.got, level+": "+m)
	return nil
}

// TestServiceLogsRouting checks that the service's log file gets every
// line of both log formats and the event log the warnings and errors, each
// at its own level.
func TestServiceLogsRouting(t *testing.T) {
	var file bytes.Buffer
	ev := &recordedEvents{}
	logs := &serviceLogs{file: &file, closeFile: func() error { return nil }, el: ev}
	for _, format := range []string{"json", "text"} {
		log := newLogger(config.Log{Level: "debug", Format: format}, logs)
		log.Debug("a debug line")
		log.Info("an info line")
		log.Warn("a warning", "key", "value")
		log.Error("an error", "err", "disk full")
	}
	if n := strings.Count(file.String(), "\n"); n != 8 {
		t.Errorf("the log file has %d lines, want 8:\n%s", n, file.String())
	}
	want := []string{
		`warning: {`, `"msg":"a warning","key":"value"}`,
		`error: {`, `"msg":"an error","err":"disk full"}`,
		`warning: time=`, `msg="a warning" key=value`,
		`error: time=`, `msg="an error" err="disk full"`,
	}
	if len(ev.got) != 4 {
		t.Fatalf("event log got %d events, want 4: %q", len(ev.got), ev.got)
	}
	for i, e := range ev.got {
		if !strings.HasPrefix(e, want[2*i]) || !strings.HasSuffix(e, want[2*i+1]) {
			t.Errorf("event %d = %q, want %q…%q", i, e, want[2*i], want[2*i+1])
		}
	}
}
