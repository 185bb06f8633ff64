// Package httpsink is the HTTP plumbing the sinks share: URL and header
// checks, credentials and TLS material read from files and read again when
// they change, and a transport that never follows a redirect. It knows
// nothing of any sink's wire format.
package httpsink

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/outputs"
)

// Options describe one sink's HTTP client.
type Options struct {
	Sink       string            // names the sink in errors and logs: "loki"
	URL        *url.URL          // checked with CheckURL
	Headers    map[string]string // extra request headers
	OwnHeaders []string          // headers the sink sets itself, refused in Headers
	Auth       AuthConfig
	TLS        TLSConfig
	Log        *slog.Logger
}

// Client is what a sink sends with: its checked headers, credentials, TLS
// settings, transport and a client that never follows a redirect.
type Client struct {
	Headers   http.Header
	Auth      *Auth
	TLS       *TLS
	Transport *http.Transport
	HTTP      *http.Client
}

// New checks o and builds the client. Files named in o must be readable now:
// a typo should stop the start, not the first request.
func New(o Options) (*Client, error) {
	c := &Client{}
	var err error
	if c.Headers, err = CheckHeaders(o.Sink, o.Headers, o.OwnHeaders); err != nil {
		return nil, err
	}
	if c.Auth, err = NewAuth(o.Sink, o.Auth, o.Log); err != nil {
		return nil, err
	}
	if c.TLS, err = NewTLS(o.Sink, o.TLS, o.URL.Hostname(), o.Log); err != nil {
		return nil, err
	}
	shown := redact.URL(o.URL.String())
	if o.TLS.InsecureSkipVerify {
		o.Log.Warn("TLS VERIFICATION IS OFF for the "+o.Sink+" sink: anyone on the path can read and change the logs; use tls.ca_file instead",
			"url", shown)
	}
	if o.URL.Scheme == "http" && o.TLS != (TLSConfig{}) {
		o.Log.Warn(o.Sink+" URL is http: the TLS settings are ignored", "url", shown)
	}
	c.Transport = NewTransport(c.TLS.Config)
	c.HTTP = &http.Client{Transport: c.Transport, CheckRedirect: outputs.NoRedirect}
	return c, nil
}

// Close closes idle connections; requests in flight finish first.
func (c *Client) Close() { c.Transport.CloseIdleConnections() }

// Apply sets the extra headers and the credentials on r; the sink's own
// headers are set after, or before: Headers never holds them.
func (c *Client) Apply(r *http.Request) {
	for k, v := range c.Headers {
		r.Header[k] = v
	}
	r.Header.Set("User-Agent", "sluice")
	c.Auth.Apply(r)
}

// CheckURL parses raw, an http or https URL without credentials in it;
// errors show it redacted.
func CheckURL(sink, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s url %q: %w", sink, redact.URL(raw), outputs.RedactError(err))
	}
	shown := redact.URL(raw)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s url %q: scheme must be http or https", sink, shown)
	case u.Host == "":
		return nil, fmt.Errorf("%s url %q: missing host", sink, shown)
	case u.User != nil:
		return nil, fmt.Errorf("%s url %q: credentials in the URL would end up in logs; use username and password", sink, shown)
	}
	return u, nil
}

// CheckHeaders validates extra headers: valid names, no line breaks, none
// of own, which the sink sets and which would make the body unreadable.
func CheckHeaders(sink string, hs map[string]string, own []string) (http.Header, error) {
	h := make(http.Header, len(hs))
	for k, v := range hs {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("%s header %q: not a valid header name", sink, k)
		}
		ck := http.CanonicalHeaderKey(k)
		for _, o := range own {
			if ck == o {
				return nil, fmt.Errorf("%s header %q: set by the sink itself", sink, k)
			}
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("%s header %q: value holds a line break", sink, k)
		}
		h[ck] = []string{v}
	}
	return h, nil
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// NewTransport is the transport of every HTTP sink, with tc for HTTPS.
func NewTransport(tc *tls.Config) *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       tc,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
