package elasticsearch

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/outputs"
)

// The transport under esapi is the shared one: an https server is verified
// against the CA file, and refused (retryably, status tls) without it.
func TestTLSUsesCAFile(t *testing.T) {
	f := &fakeES{}
	f.store, f.tries = map[string]item{}, map[string]int{}
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	ca := filepath.Join(testdir.New(t), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tls    TLSConfig
		want   outputs.Outcome
		status string
	}{
		{"with the CA file", TLSConfig{CAFile: ca, ServerName: "example.com"}, outputs.Accepted, "200"},
		{"with the system roots", TLSConfig{}, outputs.Retryable, "tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSink(t, Config{URL: srv.URL, TLS: tc.tls})
			req := s.Encode(fileRecords(8, "tls "+tc.name))
			defer req.Release()
			if res := s.Send(t.Context(), req); res.Outcome != tc.want || res.Status != tc.status {
				t.Errorf("send: %+v, want outcome %d, status %s", res, tc.want, tc.status)
			}
		})
	}
}
