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
