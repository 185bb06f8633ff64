package podcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
)

// Reasons passed to Events.WatchError; metric label values, so the set stays
// closed.
const (
	ReasonForbidden    = "forbidden"    // 403: RBAC does not grant list or watch
	ReasonUnauthorized = "unauthorized" // 401: the token or certificate is not accepted
	ReasonUnreachable  = "unreachable"  // no answer: network, DNS, TLS, timeouts, 503/504
	ReasonOther        = "other"
)

// resource is one of the cache's informers.
type resource int

const (
	podsResource resource = iota
	namespacesResource
	numResources
)

// maxLogged bounds the set of error messages logged once each.
const maxLogged = 64

// health is what the cache knows of its conversation with the API server.
type health struct {
	mu     sync.Mutex
	synced bool
	errs   [numResources]error
	since  time.Time       // when the state Status reports began
	logged map[string]bool // 401 and 403 messages already logged
}

func newHealth(now time.Time) *health {
	return &health{since: now, logged: make(map[string]bool)}
}

func (h *health) status() (bool, error, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.synced, h.lastErr(), h.since
}

func (h *health) lastErr() error {
	for _, err := range h.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// fail records a failed list or watch and reports whether it starts a run
// of failures of r, or changes its kind, which is worth a warning.
func (h *health) fail(r resource, err error, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastErr() == nil {
		h.since = now
	}
	prev := h.errs[r]
	h.errs[r] = err
	return prev == nil || classify(prev) != classify(err)
}

// recover records a successful list or watch of r and returns the error it
// ends, if any.
func (h *health) recover(r resource, now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	prev := h.errs[r]
	if prev == nil {
		return nil
	}
	h.errs[r] = nil
	if h.lastErr() == nil {
		h.since = now
	}
	return prev
}

func (h *health) setSynced(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.synced = true
	if h.lastErr() == nil {
		h.since = now
	}
}

// firstTime reports whether msg has not been seen before.
func (h *health) firstTime(msg string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.logged[msg] {
		return false
	}
	if len(h.logged) >= maxLogged {
		clear(h.logged)
	}
	h.logged[msg] = true
	return true
}

// watchErrorHandler is called by r's reflector each time a list or watch
// fails, before it backs off and retries on its own.
func (c *Cache) watchErrorHandler(r resource) cache.WatchErrorHandlerWithContext {
	return func(ctx context.Context, _ *cache.Reflector, err error) {
		if ctx.Err() != nil || endsWatch(err) {
			return
		}
		reason := classify(err)
		first := c.health.fail(r, err, c.now())
		msg := c.describe(r, reason, err)
		switch {
		case reason == ReasonForbidden || reason == ReasonUnauthorized:
			// Nothing changes until someone fixes RBAC or the token, and the
			// reflector retries every 30s or so: once per message is enough.
			if c.health.firstTime(msg) {
				c.log.Error(msg)
			}
		case first:
			c.log.Warn(msg)
		default:
			c.log.Debug(msg)
		}
		c.events.WatchError(reason)
	}
}

// succeeded is called after each list or watch of r that the API server
// accepted.
func (c *Cache) succeeded(r resource) {
	if err := c.health.recover(r, c.now()); err != nil {
		c.log.Info("kubernetes: the API server answers again: can " + c.what(r))
	}
}

// describe says what failed and what to do about it.
func (c *Cache) describe(r resource, reason string, err error) string {
	what, msg := c.what(r), apiMessage(err)
	switch reason {
	case ReasonForbidden:
		hint := ""
		if r == namespacesResource {
			hint = ", or turn namespace labels off"
		}
		return fmt.Sprintf("kubernetes: the service account may not %s: grant get, list and watch on %s (ClusterRole)%s — %s",
			what, resourceName(r), hint, msg)
	case ReasonUnauthorized:
		return fmt.Sprintf("kubernetes: the API server does not accept sluice's credentials to %s: check the service account token or the kubeconfig — %s", what, msg)
	case ReasonUnreachable:
		return fmt.Sprintf("kubernetes: cannot reach the API server to %s; retrying, records get what is cached meanwhile — %s", what, msg)
	default:
		return fmt.Sprintf("kubernetes: cannot %s; retrying — %s", what, msg)
	}
}

func (c *Cache) what(r resource) string {
	switch {
	case r == namespacesResource:
		return "list namespaces"
	case c.node == "":
		return "list pods"
	default:
		return "list pods on node " + c.node
	}
}

func resourceName(r resource) string {
	if r == namespacesResource {
		return "namespaces"
	}
	return "pods"
}

// classify maps an error to one of the Reason constants.
func classify(err error) string {
	var ne net.Error
	switch {
	case apierrors.IsForbidden(err):
		return ReasonForbidden
	case apierrors.IsUnauthorized(err):
		return ReasonUnauthorized
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF),
		apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err):
		return ReasonUnreachable
	default:
		return ReasonOther
	}
}

// endsWatch reports errors that end a watch in the normal course of things
// (the server closed it, or its resource version got too old); the
// reflector relists or rewatches and nothing is wrong.
func endsWatch(err error) bool {
	return err == io.EOF || err == io.ErrUnexpectedEOF || apierrors.IsResourceExpired(err) || apierrors.IsGone(err)
}

// apiMessage is the API server's own message when there is one: it names
// the user and the verb, which is what an operator needs to fix RBAC.
func apiMessage(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		if m := st.Status().Message; m != "" {
			return m
		}
	}
	return err.Error()
}
