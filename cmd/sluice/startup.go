package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/sluicelog/sluice/buffer"
	"github.com/sluicelog/sluice/internal/private"
	"github.com/sluicelog/sluice/metrics"
)

// errStopped is returned by bufferOpener.open when sluice was asked to stop
// before the buffer could be opened: a clean exit, not a failure.
var errStopped = errors.New("stopped before the buffer was opened")

// Backoff between attempts to open the buffer; pause adds up to half again
// as jitter.
const (
	openFirstWait = time.Second
	openMaxWait   = 30 * time.Second
)

// bufferOpener opens the disk state sluice needs before it reads anything:
// the data folder, the checkpoint folder and the buffer, each private.
type bufferOpener struct {
	cfg         buffer.Config
	dataDir     string
	checkpoints string // the checkpoint folder
	log         *slog.Logger
	ev          buffer.Events
	ready       *metrics.Readiness
}

// open retries, with a capped backoff, errors that can go away (a full
// disk, an I/O error, a permission; see transient) while /healthz and
// /metrics serve and /readyz reports the reason under "buffer": exiting
// would only restart the pod onto the same disk, a crash loop. Any other
// error (the configuration, a path that can never work) is returned at
// once. Each failed attempt is logged at ERROR and counted as a buffer disk
// error of op "open"; with the backoff that is at most one line every 30 s
// once the disk has stayed bad for a minute.
func (o bufferOpener) open(ctx context.Context) (*buffer.Buffer, error) {
	wait := openFirstWait
	for attempt := 1; ; attempt++ {
		buf, err := o.try()
		if err == nil {
			o.ready.Set("buffer", "")
			return buf, nil
		}
		if !transient(err) {
			return nil, err
		}
		o.ev.DiskError("open")
		o.log.Error("cannot open the buffer, retrying", "err", err, "attempt", attempt, "wait", wait)
		o.ready.Set("buffer", fmt.Sprintf("cannot open the buffer (attempt %d, retrying): %v", attempt, err))
		if !pause(ctx, wait) {
			return nil, errStopped
		}
		wait = min(wait*2, openMaxWait)
	}
}

// try makes sluice's folders private before the buffer opens: created so
// when missing, tightened on Unix when an earlier version left them open
// (logged once, listing what changed), refused with a *private.WeakError,
// which is not transient, when they cannot be made private safely.
func (o bufferOpener) try() (*buffer.Buffer, error) {
	var tightened []string
	for _, dir := range []string{o.dataDir, o.checkpoints, o.cfg.Dir, buffer.CursorDir(o.cfg.Dir)} {
		t, err := private.Dir(dir)
		tightened = append(tightened, t...)
		if err != nil {
			return nil, err
		}
	}
	if len(tightened) > 0 {
		o.log.Warn("removed group and other permissions that an earlier sluice left on its files", "paths", tightened)
	}
	return buffer.Open(o.cfg)
}

// transient reports whether err may go away without a change to the
// configuration: the disk fills and empties, devices recover, permissions
// get fixed. A path that is not valid, too long, or runs through a file,
// and every error that is not a system error, are not retried.
func transient(err error) bool {
	if errors.Is(err, fs.ErrPermission) {
		return true
	}
	for _, e := range transientErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
