package elasticsearch

import (
	"fmt"
	"strings"
	"time"

	"github.com/sluicelog/sluice/record"
)

// partKind is what one piece of a name template stands for.
type partKind uint8

const (
	partText  partKind = iota // literal text
	partAttr                  // a record attribute: %{key}
	partYear                  // %Y, four digits
	partMonth                 // %m, two digits
	partDay                   // %d, two digits
)

type part struct {
	kind partKind
	text string // the literal, or the attribute key
}

// template is a parsed index, dataset or namespace template: literal text,
// %{key} for a record attribute, %Y, %m and %d for the record's UTC date
// and %% for a percent sign.
type template struct {
	parts []part
	def   string // what an empty rendering becomes
}

func parseTemplate(src, def string) (template, error) {
	t := template{def: def}
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: partText, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 == len(src) {
			return template{}, fmt.Errorf("template %q: a %% at the end; write %%%% for a percent sign", src)
		}
		i++
		switch src[i] {
		case '%':
			lit.WriteByte('%')
			continue
		case 'Y', 'm', 'd':
			flush()
			t.parts = append(t.parts, part{kind: map[byte]partKind{'Y': partYear, 'm': partMonth, 'd': partDay}[src[i]]})
		case '{':
			end := strings.IndexByte(src[i:], '}')
			if end <= 1 {
				return template{}, fmt.Errorf("template %q: %%{ without a key and a closing }", src)
			}
			flush()
			t.parts = append(t.parts, part{kind: partAttr, text: src[i+1 : i+end]})
			i += end
		default:
			return template{}, fmt.Errorf("template %q: unknown %%%c; use %%{key}, %%Y, %%m, %%d or %%%%", src, src[i])
		}
	}
	flush()
	return t, nil
}

// static reports whether the template renders the same for every record.
func (t template) static() bool {
	for _, p := range t.parts {
		if p.kind != partText {
			return false
		}
	}
	return true
}

// appendTo renders the template for r onto dst, each piece cleaned by
// clean; an empty result gives t.def.
func (t template) appendTo(dst []byte, r *record.Record, day time.Time, clean func(dst []byte, s string) []byte) []byte {
	start := len(dst)
	for _, p := range t.parts {
		switch p.kind {
		case partText:
			dst = clean(dst, p.text)
		case partAttr:
			dst = clean(dst, attr(r, p.text))
		case partYear:
			dst = appendDigits(dst, day.Year(), 4)
		case partMonth:
			dst = appendDigits(dst, int(day.Month()), 2)
		case partDay:
			dst = appendDigits(dst, day.Day(), 2)
		}
	}
	if len(dst) == start {
		dst = clean(dst, t.def)
	}
	return dst
}

func attr(r *record.Record, key string) string {
	for _, a := range r.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

func appendDigits(dst []byte, v, width int) []byte {
	var b [8]byte
	i := len(b)
	for v > 0 || len(b)-i < width {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if i == 0 {
			break
		}
	}
	return append(dst, b[i:]...)
}

// Index and data stream names: lowercase, none of \ / * ? " < > | space ,
// # (Elasticsearch's index name rules) nor : (refused since 7.0). A data
// stream's dataset and namespace also must not hold "-", which separates
// them. Refused bytes become "_"; so do control bytes and non-ASCII, which
// keeps names readable in every tool.
const (
	refusedInIndex = "\\/*?\"<>| ,#:"
	refusedInPart  = refusedInIndex + "-"
)

func cleanIndex(dst []byte, s string) []byte { return cleanName(dst, s, refusedInIndex) }

func cleanPart(dst []byte, s string) []byte { return cleanName(dst, s, refusedInPart) }

func cleanName(dst []byte, s, refused string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c < 0x20 || c >= 0x7f || strings.IndexByte(refused, c) >= 0:
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// Limits of names, in bytes: Elasticsearch refuses index names longer than
// 255 bytes, ECS datasets and namespaces longer than 100.
const (
	maxIndexName = 255
	maxPart      = 100
)

// finishIndex makes name[start:] a valid index name: no leading "-", "_"
// or "+", not "." or "..", at most 255 bytes.
func finishIndex(name []byte, start int) []byte {
	for len(name) > start && strings.IndexByte("-_+", name[start]) >= 0 {
		name = append(name[:start], name[start+1:]...)
	}
	switch string(name[start:]) {
	case "", ".", "..":
		name = append(name[:start], "sluice"...)
	}
	if len(name)-start > maxIndexName {
		name = name[:start+maxIndexName]
	}
	return name
}
