// Package kubepath reads pod metadata out of the paths kubelet gives
// container log files, on Windows and Linux nodes alike.
//
// Two layouts are recognised, with the rotated suffixes
// ".<YYYYMMDD-hhmmss>" and ".<YYYYMMDD-hhmmss>.gz" after ".log" on either:
//
//	<anything>/containers/<pod>_<namespace>_<container>-<containerid>.log
//	<anything>/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log
//
// Guarantees: Parse looks at the text of the path only (it never touches the
// file system), never allocates (every field is a substring of the path), and
// treats `\` and `/` both as separators whatever OS it runs on, so a Windows
// path parses the same in a test on Linux. It reports ok only when the path
// is unambiguously one of the layouts; anything else, including names that
// Kubernetes would not accept, is ok=false and the caller decides what to do.
//
// Known limitations: the layouts of kubelet before 1.14
// (pods/<uid>/<container>/<restart>.log and pods/<uid>/<container>_<restart>.log)
// are not recognised. The file-system limit of 255 characters per element is
// not checked: the path came from the file system, so it already holds.
package kubepath

import "strings"

// Meta is the pod metadata a kubelet log path carries; which fields are set
// depends on the layout, because neither layout names everything.
type Meta struct {
	Namespace   string // DNS-1123 label
	Pod         string // DNS-1123 subdomain: may hold dots and dashes
	PodUID      string // pods layout only: the containers symlink name has no uid
	Container   string // DNS-1123 label
	ContainerID string // containers layout only: the runtime's hex id, as written in the name
	Restart     int    // pods layout only; -1 otherwise, so that 0 means "first start"
}

// Limits Kubernetes puts on names; a longer name cannot be kubelet's, so it
// is rejected rather than guessed at.
const (
	maxLabel     = 63  // DNS-1123 label: namespace, container
	maxSubdomain = 253 // DNS-1123 subdomain: pod
	minID        = 12  // the short form runtimes print; full ids are 64
	maxID        = 64  // sha256 in hex, the longest id any CRI runtime uses
	maxUID       = 64  // a UUID (36) or a static pod's config hash (32), with room
	maxRestart   = 9   // digits; keeps the count within any int
)

// Parse returns the pod metadata in a kubelet log file path and whether the
// path is one of kubelet's layouts.
func Parse(path string) (Meta, bool) {
	dir, file := cut(path)
	stem, ok := trimLog(file)
	if !ok {
		return Meta{}, false
	}
	dir, parent := cut(dir)
	// A container may itself be named "containers", so a name that is not
	// the containers layout still gets the pods layout's chance; no file
	// name can match both (one is digits only, the other has underscores).
	if equalFold(parent, "containers") {
		if m, ok := parseContainers(stem); ok {
			return m, true
		}
	}
	return parsePods(dir, parent, stem)
}

// parseContainers reads <pod>_<namespace>_<container>-<containerid>.
func parseContainers(stem string) (Meta, bool) {
	pod, rest, ok1 := strings.Cut(stem, "_")
	ns, rest, ok2 := strings.Cut(rest, "_")
	// Container names may hold dashes and ids never do, so the last dash
	// is the one that separates them.
	i := strings.LastIndexByte(rest, '-')
	if !ok1 || !ok2 || i < 0 {
		return Meta{}, false
	}
	ctr, id := rest[:i], rest[i+1:]
	if !isSubdomain(pod) || !isLabel(ns) || !isLabel(ctr) || !isHexID(id) {
		return Meta{}, false
	}
	return Meta{Namespace: ns, Pod: pod, Container: ctr, ContainerID: id, Restart: -1}, true
}

// parsePods reads .../pods/<namespace>_<pod>_<uid>/<container>/<restart>,
// given what precedes the container folder, the container folder and the
// file name without its suffixes.
func parsePods(dir, ctr, stem string) (Meta, bool) {
	restart, ok := parseRestart(stem)
	if !ok || !isLabel(ctr) {
		return Meta{}, false
	}
	dir, podDir := cut(dir)
	if _, pods := cut(dir); !equalFold(pods, "pods") {
		return Meta{}, false
	}
	ns, rest, ok1 := strings.Cut(podDir, "_")
	pod, uid, ok2 := strings.Cut(rest, "_")
	if !ok1 || !ok2 || !isLabel(ns) || !isSubdomain(pod) || !isUID(uid) {
		return Meta{}, false
	}
	return Meta{Namespace: ns, Pod: pod, PodUID: uid, Container: ctr, Restart: restart}, true
}

// cut splits p into its last element and what precedes it, dropping the
// separators between them so that "a//b" reads like "a/b" (as Windows and
// Linux both do). A trailing separator gives an empty element.
func cut(p string) (dir, elem string) {
	i := len(p)
	for i > 0 && !isSep(p[i-1]) {
		i--
	}
	elem = p[i:]
	for i > 0 && isSep(p[i-1]) {
		i--
	}
	return p[:i], elem
}

func isSep(c byte) bool { return c == '/' || c == '\\' }

// trimLog removes ".log" and a rotation suffix from a file name. The
// extensions are matched without regard to case, as Windows matches them.
func trimLog(file string) (string, bool) {
	s := file
	gz := hasSuffixFold(s, ".gz")
	if gz {
		s = s[:len(s)-len(".gz")]
	}
	// A rotation stamp is ".YYYYMMDD-hhmmss": 16 bytes.
	if n := len(s); n >= 16 && s[n-16] == '.' && isStamp(s[n-15:]) {
		s = s[:n-16]
	} else if gz {
		return "", false // kubelet compresses rotated files only
	}
	if !hasSuffixFold(s, ".log") {
		return "", false
	}
	return s[:len(s)-len(".log")], true
}

// isStamp reports whether s is YYYYMMDD-hhmmss. The digits are not checked
// as a date: kubelet wrote them, and a bad date makes no path ambiguous.
func isStamp(s string) bool {
	if len(s) != 15 || s[8] != '-' {
		return false
	}
	return allDigits(s[:8]) && allDigits(s[9:])
}

// parseRestart reads the restart count kubelet writes with %d: no sign, no
// leading zero.
func parseRestart(s string) (int, bool) {
	if s == "" || len(s) > maxRestart || !allDigits(s) || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// isLabel reports whether s is a DNS-1123 label, the rule for namespaces and
// container names.
func isLabel(s string) bool { return len(s) <= maxLabel && isDNSPart(s) }

// isSubdomain reports whether s is a DNS-1123 subdomain, the rule for pod
// names. As in Kubernetes' own check, only the whole name's length is limited.
func isSubdomain(s string) bool {
	if len(s) > maxSubdomain {
		return false
	}
	for {
		part, rest, more := strings.Cut(s, ".")
		if !isDNSPart(part) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

// isDNSPart reports whether s matches [a-z0-9]([-a-z0-9]*[a-z0-9])?.
// Upper case is refused: Kubernetes refuses it, so it is not kubelet's.
func isDNSPart(s string) bool {
	if s == "" || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// isHexID accepts ids shorter than the usual 64 characters and in either
// case, so that a runtime's short or oddly cased id still parses.
func isHexID(s string) bool {
	if len(s) < minID || len(s) > maxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isUID accepts a UUID or a static pod's hex hash: hex digits and inner dashes.
func isUID(s string) bool {
	if s == "" || len(s) > maxUID || !isHex(s[0]) || !isHex(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isHex(c) && c != '-' {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// equalFold compares ASCII letters without regard to case. strings.EqualFold
// would also fold non-ASCII letters (U+017F "ſ" matches "s"), which no
// kubelet path needs.
func equalFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func hasSuffixFold(s, lower string) bool {
	return len(s) >= len(lower) && equalFold(s[len(s)-len(lower):], lower)
}
