package config

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is a size in bytes, written in YAML as a number or with a unit
// (KiB, MiB, GiB, or KB, MB, GB for powers of ten).
type ByteSize int64

var units = map[string]int64{
	"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
	"KB": 1e3, "MB": 1e6, "GB": 1e9,
}

// UnmarshalYAML accepts 1048576, "1048576" or "1MiB".
func (s *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*s = v
	return nil
}

// ParseByteSize parses a size such as "512KiB": a whole, non-negative
// number of units that fits in an int64.
func ParseByteSize(text string) (ByteSize, error) {
	t := strings.TrimSpace(text)
	num, unit := t, "B"
	for _, u := range sortedKeys(units) {
		if strings.HasSuffix(t, u) && len(u) > 1 {
			num, unit = strings.TrimSpace(strings.TrimSuffix(t, u)), u
			break
		}
	}
	if unit == "B" {
		num = strings.TrimSpace(strings.TrimSuffix(t, "B"))
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case strings.HasPrefix(num, "-") && len(num) > 1:
		return 0, fmt.Errorf("%q is negative: a size is 0 or more", text)
	case errors.Is(err, strconv.ErrRange) || err == nil && n > math.MaxInt64/units[unit]:
		return 0, fmt.Errorf("%q is too large: the most is %d bytes", text, int64(math.MaxInt64))
	case err != nil && strings.Contains(num, "."):
		return 0, fmt.Errorf("%q is not a whole number of %s: give a smaller unit, such as 1536KiB for 1.5MiB", text, unit)
	case err != nil:
		return 0, fmt.Errorf("%q is not a size such as 1048576 or 1MiB", text)
	}
	return ByteSize(n * units[unit]), nil
}

// sortedKeys returns map keys longest first, then alphabetically, so that
// "MiB" is tried before "B" and error lists come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	return keys
}
