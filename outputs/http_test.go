package outputs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHTTPResult(t *testing.T) {
	now := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	resp := func(code int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	tests := []struct {
		name    string
		resp    *http.Response
		err     error
		outcome Outcome
		status  string
		wait    time.Duration
	}{
		{"ok", resp(200, ""), nil, Accepted, "200", 0},
		{"no content", resp(204, ""), nil, Accepted, "204", 0},
		{"too many requests in seconds", resp(429, "7"), nil, Retryable, "429", 7 * time.Second},
		{"too many requests as a date", resp(429, now.Add(90*time.Second).Format(http.TimeFormat)), nil, Retryable, "429", 90 * time.Second},
		{"retry-after in the past", resp(503, now.Add(-time.Minute).Format(http.TimeFormat)), nil, Retryable, "503", 0},
		{"malformed retry-after", resp(429, "soon"), nil, Retryable, "429", 0},
		{"negative retry-after", resp(429, "-3"), nil, Retryable, "429", 0},
		{"server error", resp(500, ""), nil, Retryable, "500", 0},
		{"request timeout", resp(408, ""), nil, Retryable, "408", 0},
		{"bad request", resp(400, ""), nil, Permanent, "400", 0},
		{"unauthorized", resp(401, ""), nil, Permanent, "401", 0},
		{"redirect", resp(307, ""), nil, Permanent, "307", 0},
		{"too large", resp(413, ""), nil, TooLarge, "413", 0},
		{"deadline", nil, fmt.Errorf("post: %w", context.DeadlineExceeded), Retryable, "timeout", 0},
		{"refused", nil, fmt.Errorf("dial: %w", syscall.ECONNREFUSED), Retryable, "network", 0},
		{"unknown CA", nil, fmt.Errorf("post: %w", x509.UnknownAuthorityError{}), Retryable, "tls", 0},
		{"client certificate refused", nil, &net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}, Retryable, "tls", 0},
		{"reset", nil, errors.New("connection reset by peer"), Retryable, "network", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HTTPResult(tt.resp, tt.err, now)
			if got.Outcome != tt.outcome || got.Status != tt.status || got.Wait != tt.wait {
				t.Fatalf("HTTPResult = %+v, want outcome %d status %s wait %v", got, tt.outcome, tt.status, tt.wait)
			}
			if tt.outcome == Permanent && got.Reason != "status_"+tt.status {
				t.Fatalf("reason = %q", got.Reason)
			}
			if tt.err != nil && !errors.Is(got.Err, tt.err) {
				t.Fatalf("err = %v, want %v wrapped", got.Err, tt.err)
			}
		})
	}
}

func TestStatusErrorKeepsTheServerTextShort(t *testing.T) {
	long := make([]byte, 2000)
	for i := range long {
		long[i] = 'x'
	}
	err := ErrStatus("push 10 records", 400, long)
	if !IsStatus(err, 400) || IsStatus(err, 500) {
		t.Fatalf("IsStatus wrong for %v", err)
	}
	if n := len(err.Error()); n > 600 {
		t.Fatalf("error is %d bytes long", n)
	}
}

func TestRedactError(t *testing.T) {
	var err error = &url.Error{Op: "Post", URL: "http://h/x?api_key=s3cret", Err: syscall.ECONNREFUSED}
	if got := RedactError(err).Error(); strings.Contains(got, "s3cret") || !strings.Contains(got, "api_key=xxxxx") {
		t.Errorf("RedactError = %q", got)
	}
}

func TestParseStatusSet(t *testing.T) {
	s, err := ParseStatusSet([]string{"3xx", "401", " 404 "})
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]bool{"301": true, "308": true, "401": true, "404": true, "403": false, "400": false, "timeout": false, "500": false} {
		if s.Has(status) != want {
			t.Errorf("Has(%s) = %v, want %v", status, !want, want)
		}
	}
	if s, _ := ParseStatusSet(nil); s.IsSet() {
		t.Error("nil list is set")
	}
	if s, _ := ParseStatusSet([]string{}); !s.IsSet() || s.Has("401") {
		t.Error("empty list must be set and hold nothing")
	}
	for _, bad := range []string{"200", "500", "5xx", "abc", "2xx", "4x"} {
		if _, err := ParseStatusSet([]string{bad}); err == nil {
			t.Errorf("ParseStatusSet(%q) accepted", bad)
		}
	}
}
