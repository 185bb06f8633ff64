package loki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/outputs"
)

// serverCert issues a server certificate for the given names and addresses.
func (ca *testCA) serverCert(t *testing.T, dnsNames []string, ips ...net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "loki"}, DNSNames: dnsNames, IPAddresses: ips,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (ca *testCA) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}))
}

// tlsServer answers 204 over TLS with cert, one handshake per request.
func tlsServer(t *testing.T, cert tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = quietLog()
	srv.Config.SetKeepAlivesEnabled(false)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// replaceFile gives path new content and a new modification time, as a
// renewal by cert-manager or a Secret update does.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	writeFile(t, path, content)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

// A CA file replaced while the sink runs is what the next connection is
// verified against: a server signed by the new CA is refused while the file
// holds the old one and accepted once it holds the new one.
func TestTLSCAFileReloaded(t *testing.T) {
	ca1, ca2 := newTestCA(t), newTestCA(t)
	srv := tlsServer(t, ca2.serverCert(t, []string{"loki.example"}, net.IPv4(127, 0, 0, 1)))
	caPath := filepath.Join(testdir.New(t), "ca.pem")
	writeFile(t, caPath, ca1.pem())
	s := newSink(t, Config{URL: srv.URL, TLS: TLSConfig{CAFile: caPath}})
	s.ca.every = 0

	if res := send(t, s); res.Outcome != outputs.Retryable || res.Status != "tls" {
		t.Fatalf("server signed by CA2 while ca_file holds CA1: %+v, want retryable with status tls", res)
	}
	replaceFile(t, caPath, ca2.pem())
	if res := send(t, s); res.Outcome != outputs.Accepted {
		t.Fatalf("after ca_file was replaced with CA2: %+v, want accepted", res)
	}
	// A broken replacement keeps the last good roots.
	replaceFile(t, caPath, "not a certificate")
	if res := send(t, s); res.Outcome != outputs.Accepted {
		t.Fatalf("after ca_file was broken: %+v, want accepted with the previous roots", res)
	}
	replaceFile(t, caPath, ca1.pem())
	if res := send(t, s); res.Outcome != outputs.Retryable || res.Status != "tls" {
		t.Fatalf("after ca_file went back to CA1: %+v, want retryable with status tls", res)
	}
}

// With the CA file verified by sluice itself, the server's name is checked
// exactly as crypto/tls checks it: against server_name when set, else the
// URL's host, DNS names and IP addresses alike.
func TestTLSCAFileChecksNames(t *testing.T) {
	ca := newTestCA(t)
	caPath := filepath.Join(testdir.New(t), "ca.pem")
	writeFile(t, caPath, ca.pem())
	byName := tlsServer(t, ca.serverCert(t, []string{"loki.example"}))
	byIP := tlsServer(t, ca.serverCert(t, nil, net.IPv4(127, 0, 0, 1)))
	_, port, _ := net.SplitHostPort(byIP.Listener.Addr().String())
	for _, tc := range []struct {
		name       string
		url        string
		serverName string
		want       outputs.Outcome
	}{
		{"IP in the certificate", byIP.URL, "", outputs.Accepted},
		{"server_name in the certificate", byName.URL, "loki.example", outputs.Accepted},
		{"IP not in the certificate", byName.URL, "", outputs.Retryable},
		{"server_name not in the certificate", byName.URL, "other.example", outputs.Retryable},
		{"server_name wins over the IP", byIP.URL, "loki.example", outputs.Retryable},
		{"host name not in the certificate", "https://localhost:" + port, "", outputs.Retryable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, Config{URL: tc.url, TLS: TLSConfig{CAFile: caPath, ServerName: tc.serverName}})
			res := send(t, s)
			if res.Outcome != tc.want || (tc.want == outputs.Retryable && res.Status != "tls") {
				t.Errorf("got %+v, want outcome %d", res, tc.want)
			}
		})
	}
}
