package config

import (
	"fmt"
	"time"
)

// Parser shapes the lines of the files whose path matches Match: which
// lines join into one event (Multiline) and how an event is parsed
// (Parse). The first entry that matches a file decides; a pod's
// sluice.io/multiline and sluice.io/parse annotations win over it.
type Parser struct {
	Match        string        `yaml:"match"`         // a pattern with include's syntax, on the path a file was found at
	Multiline    string        `yaml:"multiline"`     // dotnet, java, python, go, ruby or start:<regex>; empty: none
	Continue     string        `yaml:"continue"`      // with start:<regex>, what a continuation line matches
	Parse        string        `yaml:"parse"`         // json, logmonitor or none (empty)
	MaxLines     int           `yaml:"max_lines"`     // lines of one event; 0: 500
	MaxBytes     ByteSize      `yaml:"max_bytes"`     // bytes of one event; 0: inputs.files.max_line_size
	FlushTimeout time.Duration `yaml:"flush_timeout"` // an event nothing continued for this long goes out; 0: 1s
}

// ParseFormats are the values of Parser.Parse and of the sluice.io/parse
// annotation.
var ParseFormats = []string{"json", "logmonitor", "none"}

// validateParsers reports the invalid keys of inputs.files.parsers that
// need no input package to tell: the patterns and rules are compiled by
// the daemon (sluice run and sluice validate), so that this package stays
// free of them and the Fluent Bit plugin, which links it, too.
func (f *Files) validateParsers(bad func(key, format string, args ...any)) {
	if f.JSON.MaxDepth < 1 || f.JSON.MaxDepth > 32 {
		bad("inputs.files.json.max_depth", "%d is not between 1 and 32", f.JSON.MaxDepth)
	}
	if f.JSON.MaxFields < 1 || f.JSON.MaxFields > 1024 {
		bad("inputs.files.json.max_fields", "%d is not between 1 and 1024", f.JSON.MaxFields)
	}
	for i, p := range f.Parsers {
		key := fmt.Sprintf("inputs.files.parsers[%d]", i)
		if p.Match == "" {
			bad(key+".match", "must be set")
		}
		if p.Multiline == "" && p.Continue != "" {
			bad(key+".continue", "needs multiline: start:<regex>")
		}
		switch p.Parse {
		case "", "json", "logmonitor", "none":
		default:
			bad(key+".parse", "%q is not json, logmonitor or none", p.Parse)
		}
		if p.Multiline == "" && (p.Parse == "" || p.Parse == "none") {
			bad(key, "sets neither multiline nor parse")
		}
		if p.MaxLines < 0 {
			bad(key+".max_lines", "must not be negative")
		}
		if p.MaxBytes < 0 {
			bad(key+".max_bytes", "must not be negative")
		}
		if p.FlushTimeout < 0 {
			bad(key+".flush_timeout", "must not be negative")
		}
	}
}
