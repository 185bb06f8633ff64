package file

import (
	"strings"
	"testing"
)

// Windows programs end lines with "\r\n": the '\r' is part of the line
// end, not of the message, whatever the file's format, and wherever the
// runtime or the size limit cut the line.
func TestCRLFTrimmed(t *testing.T) {
	const ts = "2026-12-04T04:20:01.5Z"
	long := strings.Repeat("x", 20)
	for _, tc := range []struct {
		name, format, data string
		max                int
		want               []string
	}{
		{name: "CRI", format: FormatCRI, data: ts + " stdout F one\r\n" + ts + " stderr F two\r\n",
			want: []string{"one", "two"}},
		{name: "CRI joined", format: FormatCRI, data: ts + " stdout P par\n" + ts + " stdout F t\r\n",
			want: []string{"part"}},
		{name: "CRI cut between CR and LF", format: FormatCRI, data: ts + " stdout P whole\r\n" + ts + " stdout F\n",
			want: []string{"whole"}},
		{name: "CRI cut between CR and LF, empty F with a space", format: FormatCRI, data: ts + " stdout P whole\r\n" + ts + " stdout F \n",
			want: []string{"whole"}},
		{name: "Docker", format: FormatDocker, data: `{"log":"one\r\n","stream":"stdout","time":"` + ts + `"}` + "\r\n",
			want: []string{"one"}},
		{name: "Docker joined", format: FormatDocker, data: `{"log":"par","stream":"stdout","time":"` + ts + `"}` + "\n" +
			`{"log":"t\r\n","stream":"stdout","time":"` + ts + `"}` + "\n",
			want: []string{"part"}},
		{name: "Docker cut between CR and LF", format: FormatDocker, data: `{"log":"whole\r","stream":"stdout","time":"` + ts + `"}` + "\n" +
			`{"log":"\n","stream":"stdout","time":"` + ts + `"}` + "\n",
			want: []string{"whole"}},
		{name: "raw", format: FormatRaw, data: "one\r\ntwo\r\n", want: []string{"one", "two"}},
		{name: "raw cut at the size limit", format: FormatRaw, max: 16, data: long + "\r\nnext\r\n",
			want: []string{long[:16], long[16:], "next"}},
		{name: "raw cut just before CR", format: FormatRaw, max: 20, data: long + "\r\nnext\r\n",
			want: []string{long, "next"}},
		{name: "CR inside a line kept", format: FormatRaw, data: "a\rb\r\n", want: []string{"a\rb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 1 << 10
			}
			var got []string
			for _, r := range decodeFrom([]byte(tc.data), max, tc.format, 0) {
				got = append(got, string(r.Body))
			}
			if !equalStrings(got, tc.want) {
				t.Errorf("bodies %q, want %q", got, tc.want)
			}
		})
	}
}
