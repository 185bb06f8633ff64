// Package ctxsleep waits for a while or until a context ends, whichever is
// first: the wait every retry and poll loop of sluice needs.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits d; it returns false if ctx ended first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
