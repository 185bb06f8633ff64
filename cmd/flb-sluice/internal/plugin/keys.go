package plugin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluicelog/sluice/config"
)

// Getter returns the value of an [OUTPUT] key, "" when it is not set. Fluent
// Bit answers only while FLBPluginInit runs.
type Getter func(key string) string

// keyReader reads typed values and remembers the first error of each key.
type keyReader struct {
	get  Getter
	errs []error
}

func (k *keyReader) bad(key, format string, args ...any) {
	k.errs = append(k.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// str sets *dst to key's value when it is set.
func (k *keyReader) str(key string, dst *string) {
	if v := strings.TrimSpace(k.get(key)); v != "" {
		*dst = v
	}
}

func (k *keyReader) boolean(key string, dst *bool) {
	v := strings.TrimSpace(k.get(key))
	if v == "" {
		return
	}
	switch strings.ToLower(v) {
	case "on", "true", "yes":
		*dst = true
	case "off", "false", "no":
		*dst = false
	default:
		k.bad(key, "%q is not on or off", v)
	}
}

// parsed sets *dst to key's value as parse reads it, when the key is set;
// a value parse refuses is reported under the key.
func parsed[T any](k *keyReader, key string, dst *T, parse func(string) (T, error)) {
	v := strings.TrimSpace(k.get(key))
	if v == "" {
		return
	}
	x, err := parse(v)
	if err != nil {
		k.bad(key, "%v", err)
		return
	}
	*dst = x
}

func (k *keyReader) duration(key string, dst *time.Duration) {
	parsed(k, key, dst, func(v string) (time.Duration, error) {
		if d, err := time.ParseDuration(v); err == nil {
			return d, nil
		}
		// Fluent Bit's own durations are whole seconds.
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 10s", v)
		}
		return time.Duration(n) * time.Second, nil
	})
}

func (k *keyReader) integer(key string, dst *int) {
	parsed(k, key, dst, func(v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", v)
		}
		return n, nil
	})
}

func (k *keyReader) size(key string, dst *config.ByteSize) {
	parsed(k, key, dst, config.ParseByteSize)
}

// list reads a comma-separated list; set tells whether the key was given,
// so that an empty value can mean "none".
func (k *keyReader) list(key string) (items []string, set bool) {
	v := k.get(key)
	if strings.TrimSpace(v) == "" {
		return nil, false
	}
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	return items, true
}

// pairs reads "a=1, b=2" into a map.
func (k *keyReader) pairs(key string) (map[string]string, bool) {
	items, set := k.list(key)
	if !set {
		return nil, false
	}
	m := make(map[string]string, len(items))
	for _, it := range items {
		name, val, ok := strings.Cut(it, "=")
		if !ok || strings.TrimSpace(name) == "" {
			k.bad(key, "%q is not name=value", it)
			continue
		}
		m[strings.TrimSpace(name)] = strings.TrimSpace(val)
	}
	return m, true
}

// oneOf reads a value that must be one of choices.
func (k *keyReader) oneOf(key string, dst *string, choices ...string) {
	v := strings.TrimSpace(k.get(key))
	if v == "" {
		return
	}
	for _, c := range choices {
		if strings.EqualFold(v, c) {
			*dst = c
			return
		}
	}
	k.bad(key, "%q is not one of %s", v, strings.Join(choices, ", "))
}

func (k *keyReader) err() error { return errors.Join(k.errs...) }
