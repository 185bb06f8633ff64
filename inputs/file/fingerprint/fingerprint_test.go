package fingerprint

import (
	"bytes"
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewReadsAtMostSize(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		size    int
		want    string
	}{
		{"shorter than size", "abc", 8, "abc"},
		{"exactly size", "abcdefgh", 8, "abcdefgh"},
		{"longer than size", "abcdefghij", 8, "abcdefgh"},
		{"empty", "", 8, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp, err := New(bytes.NewReader([]byte(tc.content)), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if !fp.Equal(FromBytes([]byte(tc.want))) || fp.Len() != len(tc.want) {
				t.Fatalf("head = %q, want %q", fp.head, tc.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk gone") }

func TestNewReportsReadError(t *testing.T) {
	if _, err := New(failingReader{}, 8); err == nil {
		t.Fatal("want error from failing reader")
	}
}

func TestStartsWith(t *testing.T) {
	for _, tc := range []struct {
		name     string
		now, old string
		want     bool
	}{
		{"grown file", "line1\nline2\n", "line1\n", true},
		{"same file", "line1\n", "line1\n", true},
		{"replaced content", "other\n", "line1\n", false},
		{"truncated file", "li", "line1\n", false},
		{"empty old matches", "x", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FromBytes([]byte(tc.now)).StartsWith(FromBytes([]byte(tc.old)))
			if got != tc.want {
				t.Fatalf("StartsWith = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTextRoundTrip(t *testing.T) {
	in := FromBytes([]byte("2026-11-26T00:54:07Z stdout F \x00\xff binary"))
	txt, err := in.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var out Fingerprint
	if err := out.UnmarshalText(txt); err != nil {
		t.Fatal(err)
	}
	if !out.Equal(in) {
		t.Fatalf("round trip changed the head: %q != %q", out.head, in.head)
	}
	if err := out.UnmarshalText([]byte("!!not base64")); err == nil {
		t.Fatal("want error for bad base64")
	}
}

func TestCovers(t *testing.T) {
	fp := FromBytes([]byte("abcd"))
	if !fp.Covers(4) || fp.Covers(5) {
		t.Fatalf("Covers wrong for len %d", fp.Len())
	}
}
