package glob

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzMatch(f *testing.F) {
	for _, c := range windowsCases() {
		f.Add(c.pattern, c.path)
	}
	for _, c := range unixCases() {
		f.Add(c.pattern, c.path)
	}
	f.Add(`/./??/x`, `/??/x`)
	f.Add(`x`, `/./??/x`)
	f.Add(`a/{b,{c,d}e,}/[!x-z]*?`, `/a/de/w1`)
	f.Add(`**/**/..`, `..\..`)
	f.Fuzz(func(t *testing.T, pattern, path string) {
		for _, fl := range []Flavor{Unix, Windows} {
			clean := Clean(path, fl)
			if again := Clean(clean, fl); again != clean {
				t.Errorf("%v: Clean(%q) = %q, but Clean of that is %q", fl, path, clean, again)
			}
			p, err := Compile(pattern, fl)
			if err != nil {
				continue
			}
			_ = p.Base()
			if got, want := p.Match(clean), p.Match(path); got != want {
				t.Errorf("%v: Compile(%q).Match(%q) = %v, but Match(Clean: %q) = %v", fl, pattern, path, want, clean, got)
			}
			if literal(path) {
				if q, err := Compile(path, fl); err == nil && !q.Match(path) {
					t.Errorf("%v: the pattern %q does not match itself", fl, path)
				}
			}
		}
		checkFlavoursAgree(t, pattern, path)
	})
}

// checkFlavoursAgree checks that on inputs where case and separators make
// no difference (ASCII, lower case, "/" only, no drive, no \\?\ or UNC
// anchor) the Windows flavour answers as the Unix flavour does.
func checkFlavoursAgree(t *testing.T, pattern, path string) {
	pattern, ok1 := unixLike(pattern)
	path, ok2 := unixLike(path)
	if !ok1 || !ok2 || !literal(path) || strings.Contains(pattern, "[") && strings.Contains(pattern, "-") {
		return // a range such as [@-_] holds upper-case letters that lower-casing cannot reach
	}
	pu, errU := Compile(pattern, Unix)
	pw, errW := Compile(pattern, Windows)
	if (errU == nil) != (errW == nil) {
		t.Fatalf("Compile(%q): unix error %v, windows error %v", pattern, errU, errW)
	}
	if errU != nil {
		return
	}
	if u, w := pu.Match(path), pw.Match(path); u != w {
		t.Errorf("Compile(%q).Match(%q): unix %v, windows %v", pattern, path, u, w)
	}
}

// unixLike lower-cases s and turns "\" into "/"; it fails for what would
// still read differently: non-ASCII, a colon (drive letters), or an anchor
// that only Windows has (//server/share, //?/, /??/).
func unixLike(s string) (string, bool) {
	s = strings.ToLower(strings.ReplaceAll(s, `\`, "/"))
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == ':' {
			return "", false
		}
	}
	r, _ := splitRoot(s, Windows)
	return s, r.kind == rootNone || r.kind == rootSlash
}

// literal reports whether s has no wildcard syntax.
func literal(s string) bool { return !strings.ContainsAny(s, "*?[{") }
