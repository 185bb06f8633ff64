package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandingDecode decodes the document into cfg after replacing `${NAME}` in
// its string values. It uses the older unmarshaler form on purpose: the
// function that form is given decodes with the caller's decoder, strict
// (KnownFields) included, which yaml.Node.Decode would not.
type expandingDecode struct{ cfg *Config }

// UnmarshalYAML expands the parsed tree in place, gives the sinks named in
// it their defaults, then decodes it into the configuration.
func (e *expandingDecode) UnmarshalYAML(unmarshal func(any) error) error {
	var root nodeRef
	if err := unmarshal(&root); err != nil {
		return err
	}
	if err := expandTree(root.n, os.LookupEnv); err != nil {
		return err
	}
	presetOutputs(root.n, e.cfg)
	return unmarshal(e.cfg)
}

// nodeRef captures the decoder's own node, so changes to it are what the
// decoder then reads.
type nodeRef struct{ n *yaml.Node }

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *nodeRef) UnmarshalYAML(n *yaml.Node) error {
	r.n = n
	return nil
}

// unsetError lists the environment variables a configuration uses but the
// environment lacks, each with where it is used.
type unsetError struct{ uses []string }

func (e *unsetError) Error() string { return strings.Join(e.uses, "; ") }

// expandTree replaces `${NAME}` references in the values of the scalars
// under n, never in keys or comments. Each value is expanded once: text
// that comes from the environment is not parsed as YAML and not expanded
// again, so a secret with `#`, `: `, `&`, `*`, quotes, newlines or `${` is
// used as it is. `$${` stands for a literal `${`.
func expandTree(n *yaml.Node, lookup func(string) (string, bool)) error {
	unset := &unsetError{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinKey(path, n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yaml.ScalarNode:
			expandScalar(n, path, lookup, unset)
		}
		// An alias node reads the value of its anchor, which is expanded
		// where it stands: following aliases here would expand it twice.
	}
	walk(n, "")
	if len(unset.uses) > 0 {
		return unset
	}
	return nil
}

func expandScalar(n *yaml.Node, path string, lookup func(string) (string, bool), unset *unsetError) {
	if !strings.Contains(n.Value, "${") {
		return
	}
	var out strings.Builder
	s := n.Value
	for len(s) > 0 {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			out.WriteString(s)
			break
		}
		out.WriteString(s[:i])
		s = s[i:]
		if strings.HasPrefix(s, "$${") {
			out.WriteString("${")
			s = s[3:]
			continue
		}
		name, rest, ok := envName(s)
		if !ok {
			out.WriteByte('$')
			s = s[1:]
			continue
		}
		v, set := lookup(name)
		if !set {
			unset.uses = append(unset.uses, fmt.Sprintf("line %d: key %s: environment variable %s is not set", n.Line, path, name))
		}
		out.WriteString(v)
		s = rest
	}
	n.Value = out.String()
	if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return // written as a string: it stays one
	}
	// A plain value takes the type it would have had if written out, so
	// `max_in_flight: ${N}` is a number; but a string key must get the text
	// as it is, and a plain "null" or "~" would decode as no value at all.
	n.Tag = ""
	if isNull(n.Value) {
		n.Tag, n.Style = "!!str", yaml.DoubleQuotedStyle
	}
}

// envName reads `${NAME}` at the start of s.
func envName(s string) (name, rest string, ok bool) {
	if !strings.HasPrefix(s, "${") {
		return "", s, false
	}
	end := strings.IndexByte(s, '}')
	if end < 0 || !validEnvName(s[2:end]) {
		return "", s, false
	}
	return s[2:end], s[end+1:], true
}

func validEnvName(s string) bool {
	for i, c := range s {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// isNull reports the plain spellings YAML reads as null.
func isNull(s string) bool {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

// asUnset returns the unset-variable error in err, if that is what it is.
func asUnset(err error) (*unsetError, bool) {
	var u *unsetError
	ok := errors.As(err, &u)
	return u, ok
}
