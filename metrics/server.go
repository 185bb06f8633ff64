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
)

// Readiness is what /readyz reports: ready once every named component has
// said so, with the reason of each that has not, and notes on components
// that work in a degraded way without making sluice unready (shipping goes
// on, so kubelet has no reason to act).
type Readiness struct {
	mu      sync.Mutex
	waiting map[string]string
	notes   map[string]string
}

// NewReadiness returns a Readiness that waits for the named components.
func NewReadiness(components ...string) *Readiness {
	r := &Readiness{waiting: map[string]string{}, notes: map[string]string{}}
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

// Note sets (or, with "", clears) a degraded-mode detail of a component;
// /readyz shows it without failing.
func (r *Readiness) Note(component, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if detail == "" {
		delete(r.notes, component)
		return
	}
	r.notes[component] = detail
}

func (r *Readiness) report() (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines, notes []string
	for c, why := range r.waiting {
		lines = append(lines, c+": "+why+"\n")
	}
	for c, detail := range r.notes {
		notes = append(notes, c+" (degraded): "+detail+"\n")
	}
	sort.Strings(lines)
	sort.Strings(notes)
	if len(lines) == 0 {
		return true, "ok\n" + strings.Join(notes, "")
	}
	return false, strings.Join(lines, "") + strings.Join(notes, "")
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
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		m.WriteText(w) // an error is the scraper's connection gone
	})
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
