package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetectReadsCgroupFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		name    string
		files   []string
		want    int64
		wantErr bool
	}{
		{"v2 limit", []string{write("v2", "268435456\n")}, 256 << 20, false},
		{"v2 unlimited", []string{write("v2max", "max\n")}, 0, false},
		{"v1 after a missing v2", []string{missing, write("v1", "104857600\n")}, 100 << 20, false},
		{"v1 unlimited", []string{write("v1max", "9223372036854771712\n")}, 0, false},
		{"no cgroup files", []string{missing}, 0, false},
		{"garbage", []string{write("bad", "lots\n")}, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := detectIn(tc.files)
			if got != tc.want || (err != nil) != tc.wantErr {
				t.Fatalf("detectIn = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
