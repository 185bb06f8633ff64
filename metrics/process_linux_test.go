package metrics

import "testing"

// TestParseStat: fields count from the last ')', since a command name may
// hold spaces and parentheses.
func TestParseStat(t *testing.T) {
	stat := "4242 (we (i) rd) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 12345 1048576000 2560 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	p, err := parseStat([]byte(stat), 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := processStats{cpuSeconds: 3, startTime: 123.45, virtualBytes: 1048576000, residentBytes: 2560 * 4096}
	if p != want {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	if _, err := parseStat([]byte("4242 (short) S 1 2"), 4096); err == nil {
		t.Fatal("a short line parsed")
	}
}

// minOpenFDs: the test binary holds at least its standard streams.
const minOpenFDs = 3
