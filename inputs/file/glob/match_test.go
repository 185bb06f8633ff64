package glob

import (
	"strings"
	"testing"
)

// Realistic kubelet names: <pod>_<namespace>_<container>-<container id>.log
// under containers, <namespace>_<pod>_<pod uid>\<container>\<restart>.log
// under pods.
const (
	containerID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	corednsLog  = "coredns-5d78c9869d-abcde_kube-system_coredns-" + containerID + ".log"
	podDir      = "kube-system_coredns-5d78c9869d-abcde_0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	rotated     = "0.log.20261126-005407"
)

type matchCase struct {
	name    string
	pattern string
	path    string
	want    bool
}

// longWindowsPath is a path of more than 300 characters under C:\var\log\pods.
func longWindowsPath() string {
	var b strings.Builder
	b.WriteString(`C:\var\log\pods\` + podDir)
	for b.Len() < 300 {
		b.WriteString(`\nested-folder-with-a-long-name`)
	}
	b.WriteString(`\0.log`)
	return b.String()
}

func windowsCases() []matchCase {
	long := longWindowsPath()
	return []matchCase{
		// kubelet defaults
		{"default pattern, coredns log", `C:\var\log\containers\*.log`, `C:\var\log\containers\` + corednsLog, true},
		{"default pattern, rotated file", `C:\var\log\containers\*.log`, `C:\var\log\containers\` + rotated, false},
		{"default pattern, other folder", `C:\var\log\containers\*.log`, `C:\var\log\pods\` + corednsLog, false},
		{"default pattern, file in subfolder", `C:\var\log\containers\*.log`, `C:\var\log\containers\sub\a.log`, false},
		{"default pattern, the folder itself", `C:\var\log\containers\*.log`, `C:\var\log\containers`, false},
		{"pods layout", `C:\var\log\pods\*\*\*.log`, `C:\var\log\pods\` + podDir + `\coredns\0.log`, true},
		{"pods layout, rotated", `C:\var\log\pods\*\*\*.log`, `C:\var\log\pods\` + podDir + `\coredns\` + rotated, false},
		// case
		{"lower-case drive in path", `C:\var\log\containers\*.log`, `c:\var\log\containers\a.log`, true},
		{"lower-case drive in pattern", `c:\var\log\containers\*.log`, `C:\var\log\containers\a.log`, true},
		{"upper-case path", `C:\var\log\containers\*.log`, `C:\VAR\LOG\CONTAINERS\A.LOG`, true},
		{"mixed-case pattern", `C:\Var\Log\Containers\*.LOG`, `C:\var\log\containers\a.log`, true},
		{"non-ASCII folding", `C:\logs\ÄRGER-Ωmega.log`, `c:\LOGS\ärger-ωMEGA.LOG`, true},
		{"final sigma folds", `C:\logs\ΣΑΣ.log`, `C:\logs\σας.log`, true},
		{"Kelvin sign folds to k", `C:\logs\k.log`, "C:\\logs\\\u212a.log", true},
		{"simple folding only: ß is not SS", `C:\logs\STRASSE.log`, `C:\logs\straße.log`, false},
		{"different name", `C:\var\log\containers\a.log`, `C:\var\log\containers\b.log`, false},
		// separators
		{"forward slashes in path", `C:\var\log\containers\*.log`, `C:/var/log/containers/a.log`, true},
		{"forward slashes in pattern", `C:/var/log/containers/*.log`, `C:\var\log\containers\a.log`, true},
		{"mixed separators", `C:/var\log/containers\*.log`, `C:\var/log\containers/a.log`, true},
		{"doubled separators", `C:\var\\log\containers\*.log`, `C:\var\log\\\containers\a.log`, true},
		{"trailing separator in path", `C:\var\log\containers`, `C:\var\log\containers\`, true},
		{"dot elements", `C:\var\.\log\containers\*.log`, `C:\var\log\.\containers\a.log`, true},
		{"dot-dot in path", `C:\var\log\containers\*.log`, `C:\var\log\pods\..\containers\a.log`, true},
		{"dot-dot in pattern", `C:\var\log\pods\..\containers\*.log`, `C:\var\log\containers\a.log`, true},
		{"dot-dot above the root", `C:\var\log\*.log`, `C:\..\..\var\log\a.log`, true},
		// drives
		{"other drive", `C:\var\log\containers\*.log`, `D:\var\log\containers\a.log`, false},
		{"pattern without drive, path on C", `\var\log\containers\*.log`, `C:\var\log\containers\a.log`, true},
		{"pattern without drive, path on D", `/var/log/containers/*.log`, `d:/var/log/containers/a.log`, true},
		{"pattern without drive, path without drive", `\var\log\containers\*.log`, `\var\log\containers\a.log`, true},
		{"pattern with drive, path without drive", `C:\var\log\containers\*.log`, `\var\log\containers\a.log`, false},
		{"drive-relative path", `C:\var\log\*.log`, `C:var\log\a.log`, false},
		{"drive-relative pattern", `C:logs\*.log`, `c:logs\a.log`, true},
		// \\?\ and UNC
		{`\\?\ pattern, plain path`, `\\?\C:\var\log\containers\*.log`, `C:\var\log\containers\a.log`, true},
		{`plain pattern, \\?\ path`, `C:\var\log\containers\*.log`, `\\?\C:\var\log\containers\a.log`, true},
		{`\\?\ with forward slashes`, `C:\var\log\containers\*.log`, `//?/c:/var/log/containers/a.log`, true},
		{`\\.\ device path`, `C:\var\log\containers\*.log`, `\\.\C:\var\log\containers\a.log`, true},
		{`\??\ NT path`, `C:\var\log\containers\*.log`, `\??\C:\var\log\containers\a.log`, true},
		{`\\?\ on another drive`, `C:\var\log\*.log`, `\\?\D:\var\log\a.log`, false},
		{"long path", `C:\var\log\pods\**\*.log`, long, true},
		{`long path with \\?\`, `C:\var\log\pods\**\*.log`, `\\?\` + long, true},
		{`\\?\ pattern, long path`, `\\?\C:\var\log\pods\**\0.log`, long, true},
		{"long path, literal pattern", long, `\\?\` + strings.ToUpper(long), true},
		{"long path, wrong file", `C:\var\log\pods\**\1.log`, long, false},
		{"UNC", `\\server\share\logs\*.log`, `\\server\share\logs\a.log`, true},
		{"UNC, case", `\\server\share\logs\*.log`, `\\SERVER\Share\LOGS\a.log`, true},
		{`UNC, \\?\UNC\ path`, `\\server\share\logs\*.log`, `\\?\UNC\server\share\logs\a.log`, true},
		{`UNC, \\?\UNC\ pattern`, `\\?\unc\server\share\logs\*.log`, `//server/share/logs/a.log`, true},
		{"UNC, other share", `\\server\share\logs\*.log`, `\\server\other\logs\a.log`, false},
		{"UNC, other server", `\\server\share\logs\*.log`, `\\elsewhere\share\logs\a.log`, false},
		{"UNC is not a drive", `\\server\share\logs\*.log`, `C:\server\share\logs\a.log`, false},
		{"volume GUID path", `\\?\Volume{0b1c2d3e-4f50}\logs\*.log`, `\\?\VOLUME{0B1C2D3E-4F50}\logs\a.log`, true},
		// *
		{"* within one element", `C:\logs\a*z.log`, `C:\logs\abcz.log`, true},
		{"* matches empty", `C:\logs\a*.log`, `C:\logs\a.log`, true},
		{"* does not cross separators", `C:\logs\*.log`, `C:\logs\a\b.log`, false},
		{"* does not cross forward slashes", `C:\logs\a*b.log`, `C:\logs\a/b.log`, false},
		{"* as a whole element", `C:\logs\*\0.log`, `C:\logs\coredns\0.log`, true},
		{"* as a whole element needs one element", `C:\logs\*\0.log`, `C:\logs\0.log`, false},
		{"several stars", `C:\logs\*_*_*-*.log`, `C:\logs\` + corednsLog, true},
		{"several stars, one missing", `C:\logs\*_*_*_*.log`, `C:\logs\` + corednsLog, false},
		{"** inside an element is *", `C:\logs\a**.log`, `C:\logs\abc.log`, true},
		// **
		{"** zero elements", `C:\var\log\**\*.log`, `C:\var\log\a.log`, true},
		{"** one element", `C:\var\log\**\*.log`, `C:\var\log\pods\a.log`, true},
		{"** many elements", `C:\var\log\**\*.log`, `C:\var\log\pods\` + podDir + `\coredns\0.log`, true},
		{"** then a wrong suffix", `C:\var\log\**\*.log`, `C:\var\log\pods\` + podDir + `\coredns\` + rotated, false},
		{"** at the end takes the folder", `C:\var\log\**`, `C:\var\log`, true},
		{"** at the end takes everything below", `C:\var\log\**`, `C:\var\log\pods\a\b\c`, true},
		{"** at the end, other folder", `C:\var\log\**`, `C:\var\lib\a`, false},
		{"** twice", `C:\**\pods\**\0.log`, `C:\var\log\pods\` + podDir + `\coredns\0.log`, true},
		{"** twice, zero each", `C:\**\pods\**\0.log`, `C:\pods\0.log`, true},
		{"** needs the element after it", `C:\**\pods\**\0.log`, `C:\var\log\containers\0.log`, false},
		{"** then literal must be last", `C:\**\coredns`, `C:\var\log\coredns\0.log`, false},
		{"** ** is **", `C:\var\**\**\0.log`, `C:\var\0.log`, true},
		// ?
		{"? one character", `C:\logs\?.log`, `C:\logs\0.log`, true},
		{"? not two", `C:\logs\?.log`, `C:\logs\10.log`, false},
		{"? not zero", `C:\logs\?.log`, `C:\logs\.log`, false},
		{"? one rune", `C:\logs\?.log`, `C:\logs\é.log`, true},
		{"? one rune, four bytes", `C:\logs\?.log`, "C:\\logs\\\U0001F600.log", true},
		{"? not a separator", `C:\logs\a?b.log`, `C:\logs\a\b.log`, false},
		// classes
		{"class", `C:\logs\[abc].log`, `C:\logs\b.log`, true},
		{"class, no member", `C:\logs\[abc].log`, `C:\logs\d.log`, false},
		{"class, folded", `C:\logs\[abc].log`, `C:\logs\B.log`, true},
		{"range", `C:\logs\[0-9].log`, `C:\logs\7.log`, true},
		{"range, folded", `C:\logs\[a-f].log`, `C:\logs\E.log`, true},
		{"range, Kelvin sign", `C:\logs\[a-z].log`, "C:\\logs\\\u212a.log", true},
		{"negated", `C:\logs\[!a].log`, `C:\logs\b.log`, true},
		{"negated, folded", `C:\logs\[!a].log`, `C:\logs\A.log`, false},
		{"caret negates", `C:\logs\[^0-9]*.log`, `C:\logs\app.log`, true},
		{"] first is a member", `C:\logs\[]a].log`, `C:\logs\].log`, true},
		{"- last is a member", `C:\logs\a[x-].log`, `C:\logs\a-.log`, true},
		{"class with a literal star", `C:\logs\a[*].log`, `C:\logs\a*.log`, true},
		{"class with a literal star, not any", `C:\logs\a[*].log`, `C:\logs\ab.log`, false},
		// {a,b}
		{"braces", `C:\logs\*.{log,txt}`, `C:\logs\a.txt`, true},
		{"braces, folded", `C:\logs\*.{log,txt}`, `C:\logs\a.TXT`, true},
		{"braces, no alternative", `C:\logs\*.{log,txt}`, `C:\logs\a.gz`, false},
		{"braces, nested", `C:\logs\{app,sys{tem,log}}.log`, `C:\logs\syslog.log`, true},
		{"braces, empty alternative", `C:\logs\app{,-1}.log`, `C:\logs\app.log`, true},
		{"braces, wildcard alternative", `C:\logs\{*.log,[0-9]*}`, `C:\logs\7z`, true},
		{"braces as a whole element", `C:\var\log\{containers,pods}\*.log`, `C:\var\log\pods\a.log`, true},
		{"lone } and , are literal", `C:\logs\a},b.log`, `C:\logs\a},b.log`, true},
		// relative patterns, as used for excludes
		{"*.gz excludes anywhere", `*.gz`, `C:\var\log\pods\` + podDir + `\coredns\0.log.20261126-005407.gz`, true},
		{"*.gz, not a log", `*.gz`, `C:\var\log\containers\a.log`, false},
		{"*.tmp", `*.tmp`, `C:\var\log\x\a.TMP`, true},
		{"*.log.* rotated", `*.log.*`, `C:\var\log\pods\` + podDir + `\coredns\` + rotated, true},
		{"*.log.* live file", `*.log.*`, `C:\var\log\pods\` + podDir + `\coredns\0.log`, false},
		{"relative, two elements", `coredns\*.log`, `C:\var\log\pods\` + podDir + `\coredns\0.log`, true},
		{"relative, two elements, wrong parent", `coredns\*.log`, `C:\var\log\pods\` + podDir + `\kube-proxy\0.log`, false},
		{"relative, matches a relative path", `*.log`, `a.log`, true},
	}
}

func unixCases() []matchCase {
	return []matchCase{
		{"default pattern, coredns log", `/var/log/containers/*.log`, `/var/log/containers/` + corednsLog, true},
		{"default pattern, rotated file", `/var/log/containers/*.log`, `/var/log/containers/` + rotated, false},
		{"default pattern, file in subfolder", `/var/log/containers/*.log`, `/var/log/containers/sub/a.log`, false},
		{"pods layout", `/var/log/pods/*/*/*.log`, `/var/log/pods/` + podDir + `/coredns/0.log`, true},
		{"case-sensitive name", `/var/log/containers/*.log`, `/var/log/containers/A.LOG`, false},
		{"case-sensitive folder", `/var/log/containers/*.log`, `/VAR/log/containers/a.log`, false},
		{"case-sensitive class", `/logs/[a-c].log`, `/logs/B.log`, false},
		{"backslash is ordinary in path", `/var/log/*.log`, `/var/log/a\b.log`, true},
		{"backslash is ordinary in pattern", `/var/log/a\b.log`, `/var/log/a\b.log`, true},
		{"backslash is not a separator", `/var/log/a/b.log`, `/var/log/a\b.log`, false},
		{"no drive letters", `/var/log/*.log`, `C:/var/log/a.log`, false},
		{"relative path", `/var/log/*.log`, `var/log/a.log`, false},
		{"doubled slashes and dots", `/var/log/containers/*.log`, `//var//log/./containers/a.log`, true},
		{"dot-dot", `/var/log/containers/*.log`, `/var/log/pods/../containers/a.log`, true},
		{"** zero", `/var/log/**/*.log`, `/var/log/a.log`, true},
		{"** many", `/var/log/**/*.log`, `/var/log/pods/` + podDir + `/coredns/0.log`, true},
		{"** at the end", `/var/log/**`, `/var/log`, true},
		{"? one rune", `/logs/?.log`, `/logs/é.log`, true},
		{"braces", `/logs/*.{log,txt}`, `/logs/a.txt`, true},
		{"braces, case-sensitive", `/logs/*.{log,txt}`, `/logs/a.TXT`, false},
		{"*.log.* rotated", `*.log.*`, `/var/log/pods/` + podDir + `/coredns/` + rotated, true},
		{"*.gz", `*.gz`, `/var/log/pods/x/0.log.20261126-005407.gz`, true},
		{"*.tmp", `*.tmp`, `/var/log/a.tmp`, true},
		{"*.tmp, case-sensitive", `*.tmp`, `/var/log/a.TMP`, false},
		{"invalid UTF-8 equals itself", "/logs/\xff.log", "/logs/\xff.log", true},
		{"invalid UTF-8 byte is one character", "/logs/?.log", "/logs/\xff.log", true},
		{"truncated sequence is two characters", "/logs/*??", "/logs/\xe2\x82", true},
		{"truncated sequence is not three characters", "/logs/*???", "/logs/\xe2\x82", false},
		{"valid rune after invalid bytes", "/logs/*?", "/logs/\xff\xe2\x82\xac", true},
		{"star before an invalid byte", "/logs/a*\xff", "/logs/a\xe2\xff", true},
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		flavor Flavor
		cases  []matchCase
	}{{Windows, windowsCases()}, {Unix, unixCases()}} {
		for _, c := range tc.cases {
			t.Run(tc.flavor.String()+"/"+c.name, func(t *testing.T) {
				p, err := Compile(c.pattern, tc.flavor)
				if err != nil {
					t.Fatalf("Compile(%q): %v", c.pattern, err)
				}
				if got := p.Match(c.path); got != c.want {
					t.Errorf("Compile(%q, %v).Match(%q) = %v, want %v", c.pattern, tc.flavor, c.path, got, c.want)
				}
				if got := p.Match(Clean(c.path, tc.flavor)); got != c.want {
					t.Errorf("Match(Clean(%q)) = %v, want %v", c.path, got, c.want)
				}
			})
		}
	}
}

func TestMatchInvalidUTF8Windows(t *testing.T) {
	// strings.EqualFold would take any invalid byte for any other.
	p, err := Compile("C:\\logs\\\xff.log", Windows)
	if err != nil {
		t.Fatal(err)
	}
	if p.Match("C:\\logs\\\xfe.log") {
		t.Error(`\xff matched \xfe`)
	}
	if !p.Match("C:\\logs\\\xff.LOG") {
		t.Error(`\xff did not match itself`)
	}
}

func TestSetMatch(t *testing.T) {
	s, err := NewSet(
		[]string{`C:\var\log\containers\*.log`, `C:\var\log\pods\**\*.log`},
		[]string{`*.gz`, `*.tmp`, `*.log.*`, `C:\var\log\pods\kube-system_*\**`},
		Windows)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want bool
	}{
		{`C:\var\log\containers\` + corednsLog, true},
		{`c:/VAR/log/containers/app.LOG`, true},
		{`C:\var\log\containers\` + rotated, false},
		{`C:\var\log\containers\a.log.gz`, false},
		{`C:\var\log\containers\a.tmp`, false},
		{`C:\var\log\pods\default_web-0_0b1c\web\0.log`, true},
		{`C:\var\log\pods\default_web-0_0b1c\web\` + rotated, false},
		{`C:\var\log\pods\` + podDir + `\coredns\0.log`, false},
		{`C:\var\log\other\a.log`, false},
	} {
		if got := s.Match(c.path); got != c.want {
			t.Errorf("Match(%q) = %v, want %v", c.path, got, c.want)
		}
	}
}
