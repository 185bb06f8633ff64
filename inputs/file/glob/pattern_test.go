package glob

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		pattern string
		flavor  Flavor
		offset  int
		problem string
	}{
		{"unclosed class", `/var/log/[ab.log`, Unix, 9, "unclosed ["},
		{"unclosed class after negation", `/var/log/a[!`, Unix, 10, "unclosed ["},
		{"empty class is unclosed", `/var/log/[]`, Unix, 9, "unclosed ["},
		{"class across a separator", `C:\var\[a\b]`, Windows, 7, "unclosed ["},
		{"class across a forward slash", `C:\var\[a/b]`, Windows, 7, "unclosed ["},
		{"unclosed brace", `/var/log/*.{log,txt`, Unix, 11, "unclosed {"},
		{"unclosed nested brace", `/var/{a,{b,c}`, Unix, 5, "unclosed {"},
		{"brace across a separator", `C:\var\{containers,pods\x}\*.log`, Windows, 7, "unclosed {"},
		{"unclosed class in a brace", `/logs/{a,[b}`, Unix, 9, "unclosed ["},
		{"reversed range", `/logs/[z-a].log`, Unix, 9, "reversed range"},
		{"offset counts the long-path prefix", `\\?\C:\logs\[x`, Windows, 12, "unclosed ["},
		{"too many alternatives", "/logs/" + strings.Repeat("{a,b,c,d}", 6), Unix, 6, "alternatives"},
		{"empty pattern", ``, Unix, 0, "no path element"},
		{"only dots", `./.`, Windows, 0, "no path element"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.pattern, c.flavor)
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("Compile(%q) error = %v, want a *PatternError", c.pattern, err)
			}
			if pe.Offset != c.offset || !strings.Contains(pe.Problem, c.problem) || pe.Pattern != c.pattern {
				t.Errorf("Compile(%q) = %+v, want offset %d and problem %q", c.pattern, pe, c.offset, c.problem)
			}
			if !strings.Contains(err.Error(), c.pattern) {
				t.Errorf("error %q does not name the pattern", err)
			}
		})
	}
}

func TestCompileUnknownFlavor(t *testing.T) {
	if _, err := Compile("/var/log/*.log", Flavor(0)); err == nil {
		t.Error("Compile with the zero Flavor succeeded; a forgotten flavour must not pass silently")
	}
}

func TestBaseAndString(t *testing.T) {
	for _, c := range []struct {
		name    string
		pattern string
		flavor  Flavor
		base    string
	}{
		{"windows default", `C:\var\log\containers\*.log`, Windows, `C:\var\log\containers`},
		{"unix default", `/var/log/containers/*.log`, Unix, `/var/log/containers`},
		{"forward slashes become backslashes", `c:/var/log/containers/*.log`, Windows, `c:\var\log\containers`},
		{"long-path prefix dropped", `\\?\C:\var\log\**\*.log`, Windows, `C:\var\log`},
		{"UNC", `\\?\UNC\server\share\logs\*.log`, Windows, `\\server\share\logs`},
		{"no drive", `/var/log/pods/*/*/*.log`, Windows, `\var\log\pods`},
		{"wildcard right after the drive", `C:\*\x.log`, Windows, `C:\`},
		{"wildcard right after the root", `/*/x.log`, Unix, `/`},
		{"class stops the base", `/var/[l]og/x.log`, Unix, `/var`},
		{"braces stop the base", `/var/log/{containers,pods}/*.log`, Unix, `/var/log`},
		{"no wildcard at all", `/var/log/syslog`, Unix, `/var/log/syslog`},
		{"dots resolved", `/var/./log/../log/*.log`, Unix, `/var/log`},
		{"relative pattern has no base", `*.gz`, Unix, ``},
		{"relative literal has no base", `coredns/0.log`, Unix, ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Compile(c.pattern, c.flavor)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Base(); got != c.base {
				t.Errorf("Base() = %q, want %q", got, c.base)
			}
			if got := p.String(); got != c.pattern {
				t.Errorf("String() = %q, want %q", got, c.pattern)
			}
			if p.Flavor() != c.flavor {
				t.Errorf("Flavor() = %v, want %v", p.Flavor(), c.flavor)
			}
		})
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct {
		name   string
		path   string
		flavor Flavor
		want   string
	}{
		{"windows separators", `C:/var/log//containers/`, Windows, `C:\var\log\containers`},
		{"windows drive root", `C:/`, Windows, `C:\`},
		{"windows long path", `\\?\C:\var\log\a.log`, Windows, `C:\var\log\a.log`},
		{"windows long UNC", `\\?\UNC\server\share\a.log`, Windows, `\\server\share\a.log`},
		{"windows UNC forward", `//server/share/x/../a.log`, Windows, `\\server\share\a.log`},
		{"windows device", `\\.\pipe\x`, Windows, `\\?\pipe\x`},
		{"windows no drive", `/var/log/./a.log`, Windows, `\var\log\a.log`},
		{"windows drive-relative", `C:a\..\..\b`, Windows, `C:..\b`},
		{"windows keeps case", `C:\Var\LOG`, Windows, `C:\Var\LOG`},
		{"windows relative that looks like a drive", `.\C:x`, Windows, `.\C:x`},
		{"windows empty", ``, Windows, `.`},
		{"unix", `//var//log/./containers/../pods/`, Unix, `/var/log/pods`},
		{"unix backslash kept", `/var/log/a\b`, Unix, `/var/log/a\b`},
		{"unix above root", `/../x`, Unix, `/x`},
		{"unix relative dot-dot kept", `../x/../../y`, Unix, `../../y`},
		{"unix empty", ``, Unix, `.`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Clean(c.path, c.flavor); got != c.want {
				t.Errorf("Clean(%q, %v) = %q, want %q", c.path, c.flavor, got, c.want)
			}
		})
	}
}

func TestNewSetErrors(t *testing.T) {
	_, err := NewSet([]string{`containers\*.log`, `C:\var\log\[x`}, []string{`*.{gz`}, Windows)
	if err == nil {
		t.Fatal("NewSet accepted a relative include and two malformed patterns")
	}
	for _, want := range []string{`include: glob pattern "containers\*.log": not absolute`, `"C:\var\log\[x"`, `exclude: glob pattern "*.{gz"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	var pe *PatternError
	if !errors.As(err, &pe) {
		t.Errorf("errors.As(%v, *PatternError) failed", err)
	}
	if _, err := NewSet([]string{`\var\log\containers\*.log`, `\\server\share\*.log`}, nil, Windows); err != nil {
		t.Errorf("rooted includes without a drive were refused: %v", err)
	}
}
