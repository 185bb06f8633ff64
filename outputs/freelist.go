package outputs

// MaxPooledBody is the largest request buffer a FreeList keeps: one huge
// batch must not pin its memory for the rest of the run.
const MaxPooledBody = 16 << 20

// KeptRequests is how many released requests a sink's FreeList keeps: one
// per request in flight and one being encoded, for any max_in_flight an
// operator is likely to set.
const KeptRequests = 8

// FreeList keeps a sink's released requests, with their batch-sized
// buffers, for the next Encode. A sync.Pool is not used: it lets go of
// what it holds at every collection, and under the daemon's low GOGC a
// batch that regrows its megabytes of buffer brings the next collection
// sooner, which empties the pool again (a stdout run at 2,000,000 lines
// made 1,108 collections that way, against 21 with the buffers kept).
type FreeList[R any] struct{ c chan R }

// NewFreeList returns a list that keeps up to n requests.
func NewFreeList[R any](n int) FreeList[R] { return FreeList[R]{c: make(chan R, n)} }

// Get returns a kept request, or false when none is kept.
func (f FreeList[R]) Get() (R, bool) {
	select {
	case r := <-f.c:
		return r, true
	default:
		var zero R
		return zero, false
	}
}

// Put keeps r, unless the list is full: then the collector takes it.
func (f FreeList[R]) Put(r R) {
	select {
	case f.c <- r:
	default:
	}
}

// Release keeps r, whose buffer holds size bytes, unless *released says
// it was released already (a second Release must not hand it out twice)
// or the buffer is over MaxPooledBody. It sets *released when it keeps r;
// the sink clears it when Get hands r out again.
func (f FreeList[R]) Release(r R, released *bool, size int) {
	if *released || size > MaxPooledBody {
		return
	}
	*released = true
	f.Put(r)
}

// Drop lets go of every kept request, for a sink's Trim.
func (f FreeList[R]) Drop() {
	for {
		select {
		case <-f.c:
		default:
			return
		}
	}
}

// Len is how many requests are kept.
func (f FreeList[R]) Len() int { return len(f.c) }
