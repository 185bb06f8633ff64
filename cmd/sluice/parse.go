package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/inputs/file/glob"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/parse"
	"github.com/sluicelog/sluice/parse/multiline"
	"github.com/sluicelog/sluice/parse/structured"
)

// parseConfig maps inputs.files.parsers onto the parse stage; an error
// names the key whose pattern or rule does not compile.
func parseConfig(f config.Files, pods enrich.PodSource, log *slog.Logger, m *metrics.Registry) (parse.Config, error) {
	c := parse.Config{
		Pods:   pods,
		Limits: parse.Limits{MaxBytes: int(f.MaxLineSize)},
		Logger: log.With("component", "parse"),
	}
	if f.DetectLogMonitor {
		c.Format = structured.Auto
	}
	var errs []error
	var err error
	c.Parser, err = structured.New(structured.Options{
		Prefix: f.JSON.Prefix, NoPrefix: f.JSON.Prefix == "", MaxDepth: f.JSON.MaxDepth, MaxFields: f.JSON.MaxFields, Time: f.JSON.Time,
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("inputs.files.json: %w", err))
	}
	if m != nil {
		c.Events = m
	}
	for i, p := range f.Parsers {
		key := fmt.Sprintf("inputs.files.parsers[%d]", i)
		match, err := glob.Compile(p.Match, glob.Native)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.match: %w", key, err))
		}
		pat := parse.Pattern{Match: match, Limits: parse.Limits{
			MaxLines: p.MaxLines, MaxBytes: int(p.MaxBytes), FlushTimeout: p.FlushTimeout,
		}}
		if pat.Limits.MaxBytes == 0 {
			pat.Limits.MaxBytes = int(f.MaxLineSize)
		}
		pat.Format = c.Format
		if p.Parse != "" {
			if pat.Format, err = structured.ParseFormat(p.Parse); err != nil {
				errs = append(errs, fmt.Errorf("%s.parse: %w", key, err))
			}
		}
		if p.Multiline != "" {
			if pat.Multiline, err = multiline.Parse(p.Multiline, p.Continue); err != nil {
				errs = append(errs, fmt.Errorf("%s.multiline: %w", key, err))
			}
		}
		c.Patterns = append(c.Patterns, pat)
	}
	return c, errors.Join(errs...)
}

// checkParsers reports what parseConfig would refuse, for sluice validate
// and before sluice run opens anything.
func checkParsers(f config.Files) error {
	_, err := parseConfig(f, nil, slog.New(slog.DiscardHandler), nil)
	return err
}
