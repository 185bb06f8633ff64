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
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/outputs"
)

// testCA issues client certificates for the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, der: der}
}

// sign issues a certificate from tmpl, for a new key.
func (ca *testCA) sign(t *testing.T, tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, _ = rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// issue writes a client certificate for cn and its key as PEM files.
func (ca *testCA) issue(t *testing.T, cn, certPath, keyPath string) {
	t.Helper()
	der, key := ca.sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certPath, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyPath, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})))
}

// serverCert issues a server certificate for the given names and addresses.
func (ca *testCA) serverCert(t *testing.T, dnsNames []string, ips ...net.IP) tls.Certificate {
	t.Helper()
	der, key := ca.sign(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "loki"}, DNSNames: dnsNames, IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func (ca *testCA) pem() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.der}))
}

func writeServerCA(t *testing.T, srv *httptest.Server) string {
	path := filepath.Join(testdir.New(t), "ca.pem")
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	return path
}

func TestTLSServerVerification(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	srv.Config.ErrorLog = quietLog()
	for _, tc := range []struct {
		name    string
		tls     TLSConfig
		outcome outputs.Outcome
		status  string
	}{
		{"unknown CA", TLSConfig{}, outputs.Retryable, "tls"},
		{"CA file", TLSConfig{CAFile: writeServerCA(t, srv)}, outputs.Accepted, "204"},
		{"wrong server name", TLSConfig{CAFile: writeServerCA(t, srv), ServerName: "other.example"}, outputs.Retryable, "tls"},
		{"server name", TLSConfig{CAFile: writeServerCA(t, srv), ServerName: "example.com"}, outputs.Accepted, "204"},
		{"insecure", TLSConfig{InsecureSkipVerify: true}, outputs.Accepted, "204"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, Config{URL: srv.URL + "/loki/api/v1/push", TLS: tc.tls})
			if res := send(t, s); res.Outcome != tc.outcome || res.Status != tc.status {
				t.Errorf("got %+v, want outcome %d status %s", res, tc.outcome, tc.status)
			}
		})
	}
}

// A server that requires a client certificate gets it, and gets the renewed
// one once the files change.
func TestTLSClientCertificate(t *testing.T) {
	ca := newTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.TLS.PeerCertificates[0].Subject.CommonName)
		mu.Unlock()
		w.WriteHeader(204)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = quietLog()
	srv.Config.SetKeepAlivesEnabled(false) // every request a new handshake
	srv.StartTLS()
	defer srv.Close()

	dir := testdir.New(t)
	certPath, keyPath := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	ca.issue(t, "client-1", certPath, keyPath)
	s := newSink(t, Config{URL: srv.URL, TLS: TLSConfig{CAFile: writeServerCA(t, srv), CertFile: certPath, KeyFile: keyPath}})
	s.http.TLS.Cert.Every = 0
	if res := send(t, s); res.Outcome != outputs.Accepted {
		t.Fatalf("with a client certificate: %+v", res)
	}
	ca.issue(t, "client-2", certPath, keyPath)
	later := time.Now().Add(time.Minute)
	os.Chtimes(certPath, later, later)
	if res := send(t, s); res.Outcome != outputs.Accepted {
		t.Fatalf("after renewal: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] != "client-1" || seen[1] != "client-2" {
		t.Errorf("server saw client certificates %v, want [client-1 client-2]", seen)
	}

	// Without a certificate the server refuses the handshake: retryable,
	// since the operator can fix it and the buffer holds the records.
	bare := newSink(t, Config{URL: srv.URL, TLS: TLSConfig{CAFile: writeServerCA(t, srv)}})
	res := send(t, bare)
	if res.Outcome != outputs.Retryable || res.Status != "tls" {
		t.Errorf("without a client certificate: %+v, want retryable with status tls", res)
	}
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
	s.http.TLS.CA.Every = 0

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
