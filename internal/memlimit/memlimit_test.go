package memlimit

import (
	"errors"
	"runtime/debug"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChoose(t *testing.T) {
	none := func() (int64, error) { return 0, nil }
	gib := func() (int64, error) { return 1 << 30, nil }
	broken := func() (int64, error) { return 0, errors.New("unreadable") }
	cases := []struct {
		name       string
		fromEnv    bool
		configured int64
		detect     func() (int64, error)
		want       Choice
		wantErr    bool
	}{
		{"nothing anywhere", false, 0, none, Choice{0, "none"}, false},
		{"configured wins over the container", false, 200 << 20, gib, Choice{200 << 20, "memory_limit"}, false},
		// 90 % of 1 GiB, rounded down.
		{"a share of the container's limit", false, 0, gib, Choice{966367641, "container"}, false},
		{"the limit cannot be read", false, 0, broken, Choice{0, "none"}, true},
		{"GOMEMLIMIT wins", true, 200 << 20, gib, Choice{debug.SetMemoryLimit(-1), "GOMEMLIMIT"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := choose(tc.fromEnv, tc.configured, tc.detect)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("choose = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestApplySetsTheRuntimeLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	c, err := Apply(300 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); c.Bytes != 300<<20 || got != 300<<20 {
		t.Fatalf("Apply chose %+v and the runtime's limit is %d, want %d", c, got, 300<<20)
	}
}

// Without GOGC the collector's pace is GCPercent; with it, GOGC's.
func TestSetGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	t.Setenv("GOGC", "")
	if got, now := SetGCPercent(), debug.SetGCPercent(100); got != GCPercent || now != GCPercent {
		t.Errorf("without GOGC: returned %d, runtime at %d; want %d", got, now, GCPercent)
	}
	t.Setenv("GOGC", "200")
	debug.SetGCPercent(200) // what the runtime read from GOGC at start
	if got, now := SetGCPercent(), debug.SetGCPercent(200); got != 200 || now != 200 {
		t.Errorf("with GOGC=200: returned %d, runtime at %d; want 200", got, now)
	}
}
