package config

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keysByLine maps each line of a YAML document to the dotted key whose value
// is on it, so type errors, which the decoder reports by line only, can name
// the key too.
func keysByLine(raw []byte) map[int]string {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	out := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinKey(path, k.Value)
				out[v.Line] = p
				if _, ok := out[k.Line]; !ok {
					out[k.Line] = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				out[v.Line] = p
				walk(v, p)
			}
		}
	}
	walk(doc.Content[0], "")
	return out
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var lineRef = regexp.MustCompile(`^line (\d+): `)

// nameKeys rewrites the decoder's "line N: cannot unmarshal ..." messages as
// "line N: key a.b: cannot unmarshal ...".
func nameKeys(err error, raw []byte) error {
	var te *yaml.TypeError
	errs := []string{err.Error()} // a custom decoder's error, such as ByteSize's
	if errors.As(err, &te) {
		errs = te.Errors
	}
	keys := keysByLine(raw)
	msgs := make([]string, len(errs))
	for i, m := range errs {
		msgs[i] = m
		sub := lineRef.FindStringSubmatch(m)
		if sub == nil || strings.Contains(m, "not found in type") {
			continue // unknown-key messages already name the key
		}
		n, _ := strconv.Atoi(sub[1])
		if key, ok := keys[n]; ok {
			msgs[i] = sub[0] + "key " + key + ": " + m[len(sub[0]):]
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}
