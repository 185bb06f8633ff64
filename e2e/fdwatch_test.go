package e2e

import (
	"sync"
	"time"
)

// fdPoll is how often fdWatch looks at the files sluice has open. A file
// sluice opens and lets go within one poll can be missed; the files of the
// kubelet rotation tests live for seconds.
const fdPoll = 100 * time.Millisecond

// fdWatch records which files the processes of pids had open, and when,
// by polling /proc/<pid>/fd (Linux only: elsewhere it sees nothing).
type fdWatch struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	spans map[inode][]span // when each file was seen open, oldest first
}

// span is a stretch of polls that each saw a file open.
type span struct{ first, last time.Time }

// watchFDs starts polling the files that the processes pids returns hold,
// until stop.
func watchFDs(pids func() []int) *fdWatch {
	w := &fdWatch{done: make(chan struct{}), spans: map[inode][]span{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(fdPoll)
		defer tick.Stop()
		var prev time.Time
		for {
			now := time.Now()
			w.poll(pids(), prev, now)
			prev = now
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// poll records the files held now; a file also held at the poll before
// extends its last span.
func (w *fdWatch) poll(pids []int, prev, now time.Time) {
	var held []inode
	for _, pid := range pids {
		held = append(held, pidFiles(pid)...)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range held {
		s := w.spans[id]
		if n := len(s); n > 0 && !prev.IsZero() && !s[n-1].last.Before(prev) {
			s[n-1].last = now
			continue
		}
		w.spans[id] = append(s, span{now, now})
	}
}

// seen reports whether file id was seen open between from and to.
func (w *fdWatch) seen(id inode, from, to time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.spans[id] {
		if s.first.Before(to) && !s.last.Before(from) {
			return true
		}
	}
	return false
}

// stop ends the polling; stopping twice is fine.
func (w *fdWatch) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
}
