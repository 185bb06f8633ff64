package loki

import (
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

// newTLSConfig builds the client's TLS settings, and the reloader of its
// client certificate when it has one.
func newTLSConfig(c TLSConfig, log *slog.Logger) (*tls.Config, *reloader[*tls.Certificate], error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("loki tls ca file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("loki tls ca file %s: no PEM certificate in it", c.CAFile)
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, nil, errors.New("loki tls: cert file and key file go together; give both or neither")
	}
	if c.CertFile == "" {
		return tc, nil, nil
	}
	load := func() (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		return &cert, err
	}
	r, err := newReloader(log, load, c.CertFile, c.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("loki tls client certificate: %w", err)
	}
	// The certificate is looked up per handshake, so a renewed one is used
	// by the next new connection without a restart.
	tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return r.get(), nil }
	return tc, r, nil
}
