package glob

import (
	"errors"
	"fmt"
)

// Set is a list of include and exclude patterns of one flavour. A path is in
// the set when it matches an include pattern and no exclude pattern. A Set is
// immutable and safe for concurrent use.
type Set struct {
	flavor  Flavor
	include []*Pattern
	exclude []*Pattern
}

// NewSet compiles the patterns of a set. Include patterns must be absolute
// (rooted, with or without a volume), because they say where Expand walks and
// a daemon's working folder is arbitrary (C:\Windows\System32 for a Windows
// service). Exclude patterns may be relative: "*.gz" excludes any path whose
// last element ends in .gz. Every bad pattern is reported, joined.
func NewSet(include, exclude []string, f Flavor) (*Set, error) {
	s := &Set{flavor: f}
	var errs []error
	for _, src := range include {
		p, err := Compile(src, f)
		if err == nil && !p.root.rooted() {
			err = fmt.Errorf("glob pattern %s: not absolute", quote(src))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("include: %w", err))
			continue
		}
		s.include = append(s.include, p)
	}
	for _, src := range exclude {
		p, err := Compile(src, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("exclude: %w", err))
			continue
		}
		s.exclude = append(s.exclude, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Match reports whether path matches an include pattern and no exclude pattern.
func (s *Set) Match(path string) bool {
	return anyMatch(s.include, path) && !anyMatch(s.exclude, path)
}

func anyMatch(ps []*Pattern, path string) bool {
	for _, p := range ps {
		if p.Match(path) {
			return true
		}
	}
	return false
}
