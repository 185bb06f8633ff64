package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/metrics"
	"github.com/sluicelog/sluice/record"
)

// oneBatch hands out one record, then waits for the run to end.
type oneBatch struct {
	read      bool
	committed chan struct{}
}

func (o *oneBatch) Read(ctx context.Context, _, _ int, _ time.Duration) ([]record.Record, func(), error) {
	if o.read {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	o.read = true
	return []record.Record{{Time: time.Now(), Body: []byte("hello"), Attrs: []record.Attr{{Key: "pod", Value: "p"}}}},
		func() { close(o.committed) }, nil
}

// A Loki sink that gets 401 shows as degraded on /readyz, with the
// server's answer, until the server takes the records; nothing is lost.
// "no org id" is Loki's answer (auth_enabled) to a push without a tenant.
func TestHeldSinkShowsOnReadyz(t *testing.T) {
	var authorized atomic.Bool
	loki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if !authorized.Load() {
			http.Error(w, "no org id", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer loki.Close()
	lc := config.DefaultLoki()
	lc.URL = loki.URL + "/loki/api/v1/push?api_key=s3cret"
	lc.MinBackoff, lc.MaxBackoff = time.Millisecond, 5*time.Millisecond
	m := metrics.New()
	ready := metrics.NewReadiness()
	sinks, err := openSinks(config.Outputs{Loki: &lc}, io.Discard, m, ready, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeSinks(sinks)
	ln, err := metrics.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- metrics.Serve(ctx, ln, m, ready) }()
	src := &oneBatch{committed: make(chan struct{})}
	ran := make(chan error, 1)
	go func() { ran <- sinks[0].run(ctx, src) }()
	defer func() {
		cancel()
		<-ran
		<-served
	}()

	readyz := func() string {
		resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("readyz = %d %q: a held sink degrades sluice, it does not make it unready", resp.StatusCode, b)
		}
		return string(b)
	}
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if body = readyz(); body != "ok\n" {
			break
		}
	}
	if !strings.HasPrefix(body, "ok\noutputs/loki (degraded): requests held since ") ||
		!strings.Contains(body, "server answered 401 Unauthorized: no org id") ||
		!strings.Contains(body, "api_key=xxxxx") || strings.Contains(body, "s3cret") {
		t.Fatalf("readyz while held = %q", body)
	}
	select {
	case <-src.committed:
		t.Fatal("a batch answered 401 was committed")
	default:
	}
	authorized.Store(true)
	select {
	case <-src.committed:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch was not delivered once the server took it")
	}
	if body := readyz(); body != "ok\n" {
		t.Fatalf("readyz after recovery = %q", body)
	}
}
