package record

import (
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Flag names come in bit order whatever the combination, and no flag has
// no name.
func TestFlagNames(t *testing.T) {
	for f, want := range map[Flags][]string{
		0:                         nil,
		FlagRaw:                   {"raw"},
		FlagNoNewline | FlagSplit: {"split", "no_newline"},
		FlagInvalidUTF8 | FlagRaw | FlagSplit | FlagNoNewline: {"split", "raw", "invalid_utf8", "no_newline"},
	} {
		if got := f.Names(); !slices.Equal(got, want) {
			t.Errorf("Flags(%d).Names() = %q, want %q", f, got, want)
		}
	}
}
