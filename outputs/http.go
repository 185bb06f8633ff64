package outputs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// HTTPResult classifies an HTTP exchange the way every HTTP sink does: 2xx
// is accepted; 408, 429 and 5xx are retryable, honouring Retry-After; other
// statuses are permanent with reason "status_<code>" unless the sink finds a
// better one. Transport errors are retryable: a timeout, a refused or reset
// connection and a TLS failure (a wrong CA is fixed by the operator, and
// the buffer holds the records until then).
func HTTPResult(resp *http.Response, err error, now time.Time) Result {
	if err != nil {
		return Result{Outcome: Retryable, Status: transportStatus(err), Err: err}
	}
	code := resp.StatusCode
	status := strconv.Itoa(code)
	switch {
	case code >= 200 && code < 300:
		return Result{Outcome: Accepted, Status: status}
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return Result{Outcome: Retryable, Status: status, Wait: RetryAfter(resp.Header.Get("Retry-After"), now)}
	}
	return Result{Outcome: Permanent, Status: status, Reason: "status_" + status}
}

// RetryAfter parses a Retry-After value, in seconds or as an HTTP date;
// zero when it is absent, malformed or already past.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func transportStatus(err error) string {
	var ne net.Error
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var op *net.OpError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verify), errors.As(err, &alert),
		// A server refusing our certificate sends an alert that crypto/tls
		// reports as an unexported type inside a "remote error" OpError.
		errors.As(err, &op) && op.Op == "remote error":
		return "tls"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "network"
}
