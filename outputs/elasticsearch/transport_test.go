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
	"github.com/sluicelog/sluice/outputs/internal/sinktest"
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

// A redirect is not followed (the credentials would go to another host):
// it holds the batch like a 401. The API key comes from its file, read as
// the sink starts.
func TestRedirectIsHeldAndAPIKeyFromFile(t *testing.T) {
	f := &fakeES{whole: []wholeAnswer{{code: 307, location: "http://elsewhere.example/_bulk"}}}
	srv := startFake(t, f)
	keyFile := filepath.Join(testdir.New(t), "api-key")
	if err := os.WriteFile(keyFile, []byte("aWQ6c2VjcmV0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, Config{URL: srv.URL, Auth: AuthConfig{APIKeyFile: keyFile}})
	src := sinktest.NewSource(fileRecords(12, "r0"))
	ev := newCounts()
	sinktest.Run(t, outputs.NewRunner(s, src, outputs.RunnerConfig{Events: ev, Delivery: fastDelivery()}), src)
	if ev.get("held:307") != 1 || ev.get("sent") != 1 {
		t.Errorf("events %v: want the 307 held once, then the record sent", ev.n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.paths) != 2 || f.headers[1].Get("Authorization") != "ApiKey aWQ6c2VjcmV0" {
		t.Errorf("requests %v, second with Authorization %q", f.paths, f.headers[1].Get("Authorization"))
	}
}
