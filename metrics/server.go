package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Readiness is what /readyz reports: ready once every named component has
// said so, with the reason of each that has not.
type Readiness struct {
	mu      sync.Mutex
	waiting map[string]string
}

// NewReadiness returns a Readiness that waits for the named components.
func NewReadiness(components ...string) *Readiness {
	r := &Readiness{waiting: map[string]string{}}
	for _, c := range components {
		r.waiting[c] = "starting"
	}
	return r
}

// Set marks a component ready (reason "") or not ready with a reason.
func (r *Readiness) Set(component, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reason == "" {
		delete(r.waiting, component)
		return
	}
	r.waiting[component] = reason
}

func (r *Readiness) report() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) == 0 {
		return true, "ok\n"
	}
	lines := make([]string, 0, len(r.waiting))
	for c, why := range r.waiting {
		lines = append(lines, c+": "+why+"\n")
	}
	sort.Strings(lines)
	return false, strings.Join(lines, "")
}

// Listen opens the listener first, so a taken port fails start-up instead
// of a background goroutine.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	return ln, nil
}

// Serve answers /metrics, /healthz and /readyz on ln until ctx is done, then
// shuts down and returns the server's error, if any.
func Serve(ctx context.Context, ln net.Listener, m *Registry, ready *Readiness) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, body := ready.report()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		fmt.Fprint(w, body)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
