package httpsink

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// TLSConfig configures HTTPS; the zero value verifies the server against the
// system's roots and sends no client certificate.
type TLSConfig struct {
	CAFile             string // PEM roots to verify the server with, instead of the system's
	CertFile           string // PEM client certificate, read again when it changes
	KeyFile            string // PEM key of CertFile
	ServerName         string // name to verify the server's certificate against
	InsecureSkipVerify bool   // verify nothing: for tests only
}

// TLS is a client's TLS settings with the reloaders behind them.
type TLS struct {
	Config *tls.Config
	Cert   *Reloader[*tls.Certificate] // nil without a client certificate
	CA     *Reloader[*x509.CertPool]   // nil without a CA file
}

// NewTLS builds the client's TLS settings, and the reloaders of its client
// certificate and of its CA file when it has them. host is the URL's host,
// which the server's certificate must name unless c.ServerName is set.
func NewTLS(sink string, c TLSConfig, host string, log *slog.Logger) (*TLS, error) {
	t := &TLS{Config: &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}}
	if c.CAFile != "" {
		var err error
		if t.CA, err = NewReloader(sink, log, func() (*x509.CertPool, error) { return readCAFile(c.CAFile) }, c.CAFile); err != nil {
			return nil, fmt.Errorf("%s tls ca file: %w", sink, err)
		}
		if !c.InsecureSkipVerify {
			verifyWithReloadedRoots(t.Config, t.CA, cmp.Or(c.ServerName, host))
		}
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return nil, errors.New(sink + " tls: cert file and key file go together; give both or neither")
	}
	if c.CertFile == "" {
		return t, nil
	}
	load := func() (*tls.Certificate, error) {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		return &cert, err
	}
	r, err := NewReloader(sink, log, load, c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%s tls client certificate: %w", sink, err)
	}
	// The certificate is looked up per handshake, so a renewed one is used
	// by the next new connection without a restart.
	t.Config.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return r.Get(), nil }
	t.Cert = r
	return t, nil
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
func verifyWithReloadedRoots(tc *tls.Config, ca *Reloader[*x509.CertPool], name string) {
	tc.InsecureSkipVerify = true
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		certs := cs.PeerCertificates
		if len(certs) == 0 {
			return errors.New("tls: server sent no certificate")
		}
		opts := x509.VerifyOptions{
			Roots: ca.Get(), DNSName: cmp.Or(cs.ServerName, name), Intermediates: x509.NewCertPool(),
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
