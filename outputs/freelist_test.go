package outputs

import "testing"

func TestFreeList(t *testing.T) {
	f := NewFreeList[*int](2)
	if _, ok := f.Get(); ok {
		t.Fatal("an empty list handed out a request")
	}
	a, b, c := new(int), new(int), new(int)
	f.Put(a)
	f.Put(b)
	f.Put(c) // full: c is left to the collector
	if f.Len() != 2 {
		t.Fatalf("kept %d, want 2", f.Len())
	}
	if got, ok := f.Get(); !ok || got != a {
		t.Fatalf("Get = %p, %v; want the first kept %p", got, ok, a)
	}
	f.Drop()
	if _, ok := f.Get(); ok || f.Len() != 0 {
		t.Fatalf("after Drop: %d kept", f.Len())
	}
}

// Release keeps a request once, and never one whose buffer is over
// MaxPooledBody.
func TestFreeListRelease(t *testing.T) {
	f := NewFreeList[*int](4)
	r, released := new(int), false
	f.Release(r, &released, 1<<10)
	f.Release(r, &released, 1<<10)
	if f.Len() != 1 || !released {
		t.Fatalf("released twice: %d kept, released %v; want 1, true", f.Len(), released)
	}
	big, bigReleased := new(int), false
	f.Release(big, &bigReleased, MaxPooledBody+1)
	if f.Len() != 1 || bigReleased {
		t.Fatalf("a buffer over MaxPooledBody: %d kept, released %v; want 1, false", f.Len(), bigReleased)
	}
}
