package main

import (
	"log/slog"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/parse"
	"github.com/sluicelog/sluice/parse/multiline"
)

// parseConfig maps inputs.files.parsers onto the parse stage. The
// configuration was validated, so patterns and rules compile.
func parseConfig(f config.Files, pods enrich.PodSource, log *slog.Logger, m *metrics.Registry) (parse.Config, error) {
	c := parse.Config{
		Pods:   pods,
		Limits: parse.Limits{MaxBytes: int(f.MaxLineSize)},
		Events: m,
		Logger: log.With("component", "parse"),
	}
	for _, p := range f.Parsers {
		match, err := glob.Compile(p.Match, glob.Native)
		if err != nil {
			return c, err
		}
		pat := parse.Pattern{Match: match, Limits: parse.Limits{
			MaxLines: p.MaxLines, MaxBytes: int(p.MaxBytes), FlushTimeout: p.FlushTimeout,
		}}
		if pat.Limits.MaxBytes == 0 {
			pat.Limits.MaxBytes = int(f.MaxLineSize)
		}
		if p.Multiline != "" {
			if pat.Multiline, err = multiline.Parse(p.Multiline, p.Continue); err != nil {
				return c, err
			}
		}
		c.Patterns = append(c.Patterns, pat)
	}
	return c, nil
}
