// Package redact makes URLs fit for logs and error messages: a URL given by
// an operator may carry a password or a token (user info, query values), and
// logs are read by more people than the configuration is.
//
// Guarantee: the user info's password, a user name given without a
// password (usually a token), every query value and, for a URL that does not
// parse, everything between "://" and "@" and after "?" are replaced by
// Mask. Scheme, host, port, path and query keys are kept, since they are what
// tells a reader which URL is meant.
package redact

import (
	"net/url"
	"strings"
)

// Mask stands in for what was removed; url.URL.Redacted uses the same.
const Mask = "xxxxx"

// URL returns raw with its secrets masked.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return unparsed(raw)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		} else {
			u.User = url.User(Mask)
		}
	}
	if u.Opaque != "" { // such as "user:password@host" without a scheme
		if i := strings.LastIndexByte(u.Opaque, '@'); i >= 0 {
			u.Opaque = Mask + u.Opaque[i:]
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		for _, vs := range q {
			for i := range vs {
				vs[i] = Mask
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// unparsed masks what could be secret in text url.Parse refused.
func unparsed(raw string) string {
	s := raw
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i+1] + Mask
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
	}
	end := len(s)
	if i := strings.IndexAny(s[start:], "/?"); i >= 0 {
		end = start + i
	}
	if i := strings.LastIndexByte(s[start:end], '@'); i >= 0 {
		s = s[:start] + Mask + s[start+i:]
	}
	return s
}
