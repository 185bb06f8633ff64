package loki

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// reloadEvery is how often a reloader looks at its files: a stat per request
// would be cheap too, but Kubernetes rotates projected tokens hourly.
const reloadEvery = time.Second

// reloader holds a value loaded from files and loads it again once one of
// them changed (modification time or size). When a reload fails it keeps the
// last good value: a token file replaced by a non-atomic writer is briefly
// empty or missing, and the old token is still better than none.
type reloader[T any] struct {
	paths []string
	load  func() (T, error)
	every time.Duration // tests shorten it
	log   *slog.Logger

	mu      sync.Mutex
	checked time.Time
	stamps  []fileStamp
	failing bool
	val     T
}

type fileStamp struct {
	mod  int64
	size int64
}

func newReloader[T any](log *slog.Logger, load func() (T, error), paths ...string) (*reloader[T], error) {
	r := &reloader[T]{paths: paths, load: load, every: reloadEvery, log: log}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	if r.val, err = load(); err != nil {
		return nil, err
	}
	r.stamps, r.checked = stamps, time.Now()
	return r, nil
}

func (r *reloader[T]) get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) < r.every {
		return r.val
	}
	r.checked = now
	stamps, err := r.stat()
	if err == nil && slices.Equal(stamps, r.stamps) {
		return r.val
	}
	var v T
	if err == nil {
		v, err = r.load()
	}
	if err != nil {
		if !r.failing {
			r.log.Warn("loki sink: reloading a changed file failed, keeping the previous value", "files", r.paths, "err", err)
		}
		r.failing = true
		return r.val
	}
	if r.failing {
		r.log.Info("loki sink: reloaded", "files", r.paths)
	}
	r.val, r.stamps, r.failing = v, stamps, false
	return r.val
}

func (r *reloader[T]) stat() ([]fileStamp, error) {
	stamps := make([]fileStamp, len(r.paths))
	for i, p := range r.paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		stamps[i] = fileStamp{mod: fi.ModTime().UnixNano(), size: fi.Size()}
	}
	return stamps, nil
}

// readSecret reads a one-line secret; the trailing newline an editor or
// `echo` adds is not part of it.
func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return s, nil
}

// secret is a value given inline or read from a file.
type secret struct {
	inline string
	file   *reloader[string]
}

func newSecret(inline, path, what string, log *slog.Logger) (*secret, error) {
	if path == "" {
		return &secret{inline: inline}, nil
	}
	if inline != "" {
		return nil, fmt.Errorf("loki %s: give it or its file, not both", what)
	}
	r, err := newReloader(log, func() (string, error) { return readSecret(path) }, path)
	if err != nil {
		return nil, fmt.Errorf("loki %s file: %w", what, err)
	}
	return &secret{file: r}, nil
}

func (s *secret) get() string {
	if s.file != nil {
		return s.file.get()
	}
	return s.inline
}

func (s *secret) set() bool { return s.file != nil || s.inline != "" }

// auth sets the Authorization header: basic or bearer, never both.
type auth struct {
	user     string
	password *secret
	token    *secret
}

func newAuth(c Config, log *slog.Logger) (*auth, error) {
	pw, err := newSecret(c.Password, c.PasswordFile, "password", log)
	if err != nil {
		return nil, err
	}
	tok, err := newSecret(c.BearerToken, c.BearerTokenFile, "bearer token", log)
	if err != nil {
		return nil, err
	}
	switch {
	case pw.set() && c.Username == "":
		return nil, errors.New("loki password: set without a username")
	case tok.set() && c.Username != "":
		return nil, errors.New("loki auth: give basic auth or a bearer token, not both")
	}
	return &auth{user: c.Username, password: pw, token: tok}, nil
}

func (a *auth) apply(r *http.Request) {
	switch {
	case a.user != "":
		r.SetBasicAuth(a.user, a.password.get())
	case a.token.set():
		r.Header.Set("Authorization", "Bearer "+a.token.get())
	}
}

// newTLSConfig builds the client's TLS settings, and the reloaders of its
// client certificate and of its CA file when it has them. host is the URL's
// host, which the server's certificate must name unless c.ServerName is set.
func newTLSConfig(c TLSConfig, host string, log *slog.Logger) (*tls.Config, *reloader[*tls.Certificate], *reloader[*x509.CertPool], error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}
	var ca *reloader[*x509.CertPool]
	if c.CAFile != "" {
		var err error
		if ca, err = newReloader(log, func() (*x509.CertPool, error) { return readCAFile(c.CAFile) }, c.CAFile); err != nil {
			return nil, nil, nil, fmt.Errorf("loki tls ca file: %w", err)
		}
		if !c.InsecureSkipVerify {
			verifyWithReloadedRoots(tc, ca, cmp.Or(c.ServerName, host))
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, nil, nil, errors.New("loki tls: cert file and key file go together; give both or neither")
	}
	if c.CertFile == "" {
		return tc, nil, ca, nil
	}
	load := func() (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		return &cert, err
	}
	r, err := newReloader(log, load, c.CertFile, c.KeyFile)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("loki tls client certificate: %w", err)
	}
	// The certificate is looked up per handshake, so a renewed one is used
	// by the next new connection without a restart.
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return r.get(), nil }
	return tc, r, ca, nil
}

func readCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// verifyWithReloadedRoots makes tc verify the server against the CA file's
// current roots at each handshake, so a replaced CA is used by the next new
// connection without a restart. crypto/tls reads its roots from the
// tls.Config, which the transport shares, so its own check is switched off
// and done here instead, exactly as crypto/tls does it: the chain the server
// sent, its intermediates, the current time, server-auth key usage and the
// name crypto/tls would check. That name is the SNI the client sent; an IP
// address is not sent as SNI, and then it is the configured server_name or
// the URL's host, which is what net/http gave crypto/tls.
func verifyWithReloadedRoots(tc *tls.Config, ca *reloader[*x509.CertPool], name string) {
	tc.InsecureSkipVerify = true
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			return errors.New("tls: server sent no certificate")
		}
		opts := x509.VerifyOptions{
			Roots: ca.get(), DNSName: cmp.Or(cs.ServerName, name), Intermediates: x509.NewCertPool(),
		}
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
		if opts.DNSName == "" {
			return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: errors.New("no server name to verify the certificate against")}
		}
		if _, err := certs[0].Verify(opts); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
		}
		return nil
	}
}
