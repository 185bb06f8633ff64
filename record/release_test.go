package record

import "testing"

// Release runs its hook once, and the batch then reaches neither its
// records nor the hook (which holds the memory given back).
func TestRelease(t *testing.T) {
	n := 0
	b := NewBatch([]Record{{Body: []byte("x")}}, nil).OnRelease(func() { n++ })
	b.Release()
	b.Release()
	if n != 1 || b.Records != nil || b.release != nil {
		t.Errorf("hook ran %d times, records %v, hook kept %v", n, b.Records, b.release != nil)
	}
	plain := NewBatch([]Record{{Body: []byte("x")}}, nil)
	plain.Release() // no hook: nothing to give back, the records stay
	if len(plain.Records) != 1 {
		t.Errorf("a batch without a hook lost its records on Release")
	}
}
