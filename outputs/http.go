package outputs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
)

// HTTPResult classifies an HTTP exchange the way every HTTP sink does: 2xx
// is accepted; 408, 429 and 5xx are retryable, honouring Retry-After; 413 is
// TooLarge; other statuses, 3xx included (sinks never follow a redirect, see
// NoRedirect), are permanent with reason "status_<code>" unless the sink
// finds a better one, and the runner holds those in its HoldStatuses. Transport errors are retryable: a timeout, a refused or reset
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
	case code == http.StatusRequestEntityTooLarge:
		return Result{Outcome: TooLarge, Status: status, Reason: ReasonTooLarge}
	}
	return Result{Outcome: Permanent, Status: status, Reason: "status_" + status}
}

// NoRedirect is the CheckRedirect of every HTTP sink's client: a redirect is
// answered as it came, so a POST is never reported accepted by a server it
// was not meant for, and the sink's headers (credentials, tenant) never go
// to another host.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// RedactError masks the secrets of the URL an *url.Error (what an
// http.Client returns) carries, with redact.URL; other errors are returned
// as they are. Call it on the client's error itself: a wrapper made earlier
// keeps its text.
func RedactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redact.URL(ue.URL)
	}
	return err
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
