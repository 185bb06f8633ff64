package file

import (
	"testing"
	"time"
)

func TestKubeletKey(t *testing.T) {
	for _, tc := range []struct {
		path, key string
		ok        bool
	}{
		{"/p/0.log.20261126-005407", "0.log.20261126-005407", true},
		{"/p/0.log.20261126-005407.gz", "0.log.20261126-005407", true},
		{"/p/0.log.20261126-005407.1", "0.log.20261126-005407.000000001", true},
		{"/p/0.log.20261126-005407.12.gz", "0.log.20261126-005407.000000012", true},
		{"/p/0.log.1", "0.log.1", false},
		{"/p/0.log.20261126-0054071", "0.log.20261126-0054071", false},
		{"/p/0.log.tmp", "0.log.tmp", false},
	} {
		key, ok := kubeletKey(tc.path)
		if key != tc.key || ok != tc.ok {
			t.Errorf("kubeletKey(%q) = %q, %v; want %q, %v", tc.path, key, ok, tc.key, tc.ok)
		}
	}
	// Rotation order: a counter comes after its timestamp and before the
	// next second, and .10 after .9.
	order := []string{"0.log.20261126-005407", "0.log.20261126-005407.9", "0.log.20261126-005407.10", "0.log.20261126-005408"}
	for i := 1; i < len(order); i++ {
		a, _ := kubeletKey(order[i-1])
		b, _ := kubeletKey(order[i])
		if a >= b {
			t.Errorf("%s does not sort before %s (%q, %q)", order[i-1], order[i], a, b)
		}
	}
	if !rotatedAfter("/nonexistent/0.log.20261126-005407.3", mustLocal(t, "20261126-005407")) {
		t.Error("a counter name is not taken as rotated at its timestamp")
	}
}

func mustLocal(t *testing.T, stamp string) time.Time {
	t.Helper()
	ts, err := time.ParseInLocation("20060102-150405", stamp, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
