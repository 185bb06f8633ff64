package e2e

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDecodeRecord checks the output decoder's shortcut against
// encoding/json on lines the stdout sink writes.
func TestDecodeRecord(t *testing.T) {
	tests := []struct {
		name string
		line string
	}{
		{"plain", `{"time":"2026-11-26T00:54:07.123456789Z","stream":"stdout","message":"p=a seq=000000001 bcd","path":"/p/0.log","offset":81}`},
		{"flags", `{"time":"2026-11-26T00:54:07Z","stream":"","message":"xx","path":"/p/0.log","offset":0,"flags":["split","no_newline"]}`},
		{"escapes", `{"time":"2026-11-26T00:54:07Z","stream":"stderr","message":"a\"b\\c\u0001\ufffd","path":"/p/0.log","offset":7}`},
		{"utf8", `{"time":"2026-11-26T00:54:07Z","stream":"stdout","message":"é ✓","path":"/p/0.log","offset":7}`},
		{"empty message", `{"time":"2026-11-26T00:54:07Z","stream":"stdout","message":"","path":"/p/0.log","offset":12}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want, got outRecord
			if err := json.Unmarshal([]byte(tt.line), &want); err != nil {
				t.Fatal(err)
			}
			if err := decodeRecord([]byte(tt.line), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decodeRecord = %+v, want %+v", got, want)
			}
		})
	}
	for _, bad := range []string{`{"time":"x","stream":"stdout","message":"m","path":"/p","offset":}`, `{"time":"x"`, `{`} {
		var r outRecord
		if err := decodeRecord([]byte(bad), &r); err == nil {
			t.Errorf("decodeRecord(%q) = %+v, want an error", bad, r)
		}
	}
}

// TestWriterLine checks the writer's line layout and that the collector
// reads back what it wrote.
func TestWriterLine(t *testing.T) {
	for _, seq := range []int{0, 1, 25, 26, 999_999_999} {
		line := appendLine(nil, time.Date(2026, 11, 26, 0, 54, 7, 5, time.UTC), "pod", seq)
		if len(line) != lineLen+1 || line[len(line)-1] != '\n' {
			t.Fatalf("line %q: %d bytes, want %d with its newline", line, len(line), lineLen+1)
		}
		msg := strings.TrimSuffix(string(line[headerLen:]), "\n")
		pod, got, ok := parseMessage(msg)
		if !ok || pod != "pod" || got != seq {
			t.Fatalf("parseMessage(%q) = %q, %d, %v; want pod, %d", msg, pod, got, ok, seq)
		}
		if !strings.HasPrefix(string(line), "2026-11-26T00:54:07.000000005Z stdout F p=pod seq=") {
			t.Fatalf("line %q: header is not CRI", line)
		}
	}
}
