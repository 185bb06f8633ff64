// Package multiline decides which log lines belong together as one event: a
// stack trace and the message above it. It holds the rules only; the stage
// in package parse keeps the lines and the acknowledgements.
//
// Rules are line-at-a-time state machines, so a decision never needs a
// later line: a line either continues the event being built or begins the
// next one. Built-in rules match with byte comparisons, not regular
// expressions, because they run on every line of every file they cover.
package multiline

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Rule decides which lines continue an event. A Rule is immutable and safe
// for concurrent use; the state of one event lives in State.
type Rule struct {
	name  string
	kind  kind
	start *regexp.Regexp // kindStart: a line matching it begins an event
	cont  *regexp.Regexp // kindStart, optional: only lines matching it continue
}

type kind uint8

const (
	kindDotnet kind = iota
	kindJava
	kindPython
	kindGo
	kindRuby
	kindStart
)

// Names are the built-in rules, as the configuration and the
// sluice.io/multiline annotation spell them; "start:<regex>" is the custom
// one.
var Names = []string{"dotnet", "java", "python", "go", "ruby"}

// Parse returns the rule spec names: a built-in name, or "start:<regex>"
// (a line matching the regex begins an event, any other line continues it)
// with cont, when not empty, as the regex a continuation line must match
// (then a line matching neither begins an event of its own).
func Parse(spec, cont string) (*Rule, error) {
	r := &Rule{name: spec}
	switch spec {
	case "dotnet":
		r.kind = kindDotnet
	case "java":
		r.kind = kindJava
	case "python":
		r.kind = kindPython
	case "go":
		r.kind = kindGo
	case "ruby":
		r.kind = kindRuby
	default:
		re, ok := strings.CutPrefix(spec, "start:")
		if !ok {
			return nil, fmt.Errorf("multiline rule %q: want one of %s or start:<regex>", spec, strings.Join(Names, ", "))
		}
		if re == "" {
			return nil, fmt.Errorf("multiline rule %q: the start regex is empty", spec)
		}
		var err error
		if r.start, err = regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("multiline rule %q: %w", spec, err)
		}
		r.kind = kindStart
	}
	if cont != "" {
		if r.kind != kindStart {
			return nil, fmt.Errorf("multiline continue regex %q: only a start:<regex> rule takes one", cont)
		}
		var err error
		if r.cont, err = regexp.Compile(cont); err != nil {
			return nil, fmt.Errorf("multiline continue regex %q: %w", cont, err)
		}
	}
	return r, nil
}

// Name is the spec the rule was parsed from.
func (r *Rule) Name() string { return r.name }

// State is where an event is in a rule's state machine.
type State uint8

const (
	stNone     State = iota
	pyTrace          // inside a Python traceback's frames
	pyAfterExc       // after the exception line that ends a traceback
	pyChain          // between chained tracebacks
	goPanic          // after "panic:" or "fatal error:", before a goroutine
	goStack          // inside a goroutine's frames
)

// Begin returns the state of an event whose first line is line.
func (r *Rule) Begin(line []byte) State {
	switch r.kind {
	case kindPython:
		if bytes.HasPrefix(line, pyTraceback) {
			return pyTrace
		}
	case kindGo:
		switch {
		case bytes.HasPrefix(line, []byte("panic: ")), bytes.HasPrefix(line, []byte("fatal error: ")):
			return goPanic
		case isGoroutine(line):
			return goStack
		}
	}
	return stNone
}

// Continue reports whether line continues an event in state st, and the
// event's state after it.
func (r *Rule) Continue(st State, line []byte) (State, bool) {
	switch r.kind {
	case kindDotnet:
		return st, dotnetFrame(line)
	case kindJava:
		return st, javaFrame(line)
	case kindRuby:
		return st, rubyFrame(line)
	case kindPython:
		return pythonNext(st, line)
	case kindGo:
		return goNext(st, line)
	default: // kindStart
		if r.cont != nil {
			return st, r.cont.Match(line)
		}
		return st, !r.start.Match(line)
	}
}

var pyTraceback = []byte("Traceback (most recent call last):")

// trimSpace drops leading spaces and tabs.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func indented(b []byte) bool { return len(b) > 0 && (b[0] == ' ' || b[0] == '\t') }

// dotnetFrame: "   at Ns.Type.Method() in C:\src\File.cs:line 42",
// " ---> System.Exception: inner", "--- End of inner exception stack
// trace ---" and "--- End of stack trace from previous location ---".
func dotnetFrame(line []byte) bool {
	t := trimSpace(line)
	return (indented(line) && bytes.HasPrefix(t, []byte("at "))) ||
		bytes.HasPrefix(t, []byte("---> ")) ||
		bytes.HasPrefix(t, []byte("--- End of "))
}

// javaFrame: "\tat pkg.Class.method(File.java:42)", "Caused by: ...",
// "Suppressed: ..." and "\t... 12 more" (or "... 12 common frames
// omitted", as logback writes it).
func javaFrame(line []byte) bool {
	t := trimSpace(line)
	return (indented(line) && bytes.HasPrefix(t, []byte("at "))) ||
		bytes.HasPrefix(t, []byte("Caused by: ")) ||
		(indented(line) && bytes.HasPrefix(t, []byte("Suppressed: "))) ||
		(bytes.HasPrefix(t, []byte("... ")) && (bytes.HasSuffix(t, []byte(" more")) || bytes.HasSuffix(t, []byte(" omitted"))))
}

// rubyFrame: "\tfrom app.rb:7:in `<main>'" and Ruby 2.5's numbered
// "\t 2: from app.rb:7:in `<main>'".
func rubyFrame(line []byte) bool {
	if !indented(line) {
		return false
	}
	t := trimSpace(line)
	if bytes.HasPrefix(t, []byte("from ")) {
		return true
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	return i > 0 && bytes.HasPrefix(t[i:], []byte(": from "))
}

// pythonNext follows a traceback: indented frame lines, then the
// exception's own line, then, for chained exceptions, a blank line, the
// "During handling..." or "The above exception..." line and the next
// traceback.
func pythonNext(st State, line []byte) (State, bool) {
	switch st {
	case pyTrace:
		if indented(line) {
			return pyTrace, true
		}
		return pyAfterExc, true // the exception line
	case pyAfterExc, pyChain:
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			return pyChain, true
		case bytes.HasPrefix(line, []byte("During handling of the above exception")),
			bytes.HasPrefix(line, []byte("The above exception was the direct cause")):
			return pyChain, true
		case st == pyChain && bytes.HasPrefix(line, pyTraceback):
			return pyTrace, true
		}
	}
	return st, false
}

// goNext follows a Go panic or fatal error: blank lines, "goroutine N
// [state]:" headers, function lines ("main.main()") with their tab-indented
// file lines, "created by ..." and "[signal ...]" lines.
func goNext(st State, line []byte) (State, bool) {
	if st != goPanic && st != goStack {
		return st, false
	}
	switch {
	case len(line) == 0, line[0] == '\t':
		return st, true
	case isGoroutine(line):
		return goStack, true
	case bytes.HasPrefix(line, []byte("[signal ")), bytes.HasPrefix(line, []byte("created by ")),
		bytes.HasPrefix(line, []byte("panic: ")), bytes.HasPrefix(line, []byte("goroutine ")):
		return st, true
	case st == goStack && goFuncLine(line):
		return st, true
	}
	return st, false
}

// isGoroutine: "goroutine 1 [running]:".
func isGoroutine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("goroutine "))
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	return i > 0 && bytes.HasPrefix(rest[i:], []byte(" [")) && bytes.HasSuffix(rest, []byte("]:"))
}

// goFuncLine: "main.main()", "net/http.(*conn).serve(0xc000)" or
// "panic({0x4a5e60?, 0x52b3a0?})": no spaces before the argument list, a
// closing parenthesis at the end.
func goFuncLine(line []byte) bool {
	open := bytes.IndexByte(line, '(')
	return open > 0 && bytes.IndexByte(line[:open], ' ') < 0 && bytes.HasSuffix(line, []byte(")"))
}
