package outputs

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

func statusText(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

// StatusSet is a set of HTTP statuses, each given as a code ("401") or as a
// class ("3xx"). Its zero value is unset: a runner then uses
// DefaultHoldStatuses.
type StatusSet struct {
	set     bool
	codes   []int
	classes []int // hundreds: 3 for "3xx"
}

// DefaultHoldStatuses are the statuses that hold a request rather than
// reject it: a redirect (which sinks never follow), 401, 403 and 404 mean
// that sluice or the server is misconfigured, not that the records are bad.
func DefaultHoldStatuses() []string { return []string{"3xx", "401", "403", "404"} }

// ParseStatusSet reads a list of 3xx and 4xx codes and classes. A nil list
// gives the unset set; an empty, non-nil one a set that holds nothing. 2xx
// are accepted and 5xx retried whatever the set says, so they are refused.
func ParseStatusSet(list []string) (StatusSet, error) {
	if list == nil {
		return StatusSet{}, nil
	}
	s := StatusSet{set: true}
	for _, v := range list {
		v = strings.TrimSpace(strings.ToLower(v))
		if len(v) == 3 && strings.HasSuffix(v, "xx") && (v[0] == '3' || v[0] == '4') {
			s.classes = append(s.classes, int(v[0]-'0'))
			continue
		}
		c, err := strconv.Atoi(v)
		if err != nil || c < 300 || c > 499 {
			return StatusSet{}, fmt.Errorf("status %q: want a code from 300 to 499 or a class, 3xx or 4xx", v)
		}
		s.codes = append(s.codes, c)
	}
	return s, nil
}

// IsSet tells a parsed set, even an empty one, from the zero value.
func (s StatusSet) IsSet() bool { return s.set }

// Has reports whether status, as Result.Status gives it, is in the set.
func (s StatusSet) Has(status string) bool {
	c, err := strconv.Atoi(status)
	if err != nil {
		return false
	}
	return slices.Contains(s.codes, c) || slices.Contains(s.classes, c/100)
}

// Outcome is res's outcome with the set applied: a Permanent or TooLarge
// answer whose status is in the set is Held, not the records' fault.
func (s StatusSet) Outcome(res Result) Outcome {
	if (res.Outcome == Permanent || res.Outcome == TooLarge) && s.Has(res.Status) {
		return Held
	}
	return res.Outcome
}
