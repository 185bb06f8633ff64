package checkpoint

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/inputs/file/fingerprint"
	"github.com/sluicelog/sluice/internal/testdir"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(testdir.New(t), "state", "checkpoint.json")
	want := []Entry{{
		Dev: 7, Ino: 42,
		Fingerprint: fingerprint.FromBytes([]byte("2026-11-26T00:54:07Z stdout F hi\n")),
		Path:        "/var/log/containers/a_b_c-123.log",
		RealPath:    "/var/log/pods/b_a_u/c/0.log",
		Offset:      1234,
		Format:      "cri",
		Partials: []Partial{{
			Time: time.Date(2026, 11, 26, 0, 54, 7, 0, time.UTC), Stream: "stdout",
			Path: "/var/log/containers/a_b_c-123.log", Offset: 1200, Body: []byte("half a li\xffne"),
		}, {Stream: "stderr", Offset: 1100, Split: true}},
		Seen: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC),
	}}
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Fingerprint.Equal(want[0].Fingerprint) {
		t.Fatalf("fingerprint lost: %+v", got)
	}
	got[0].Fingerprint, want[0].Fingerprint = fingerprint.Fingerprint{}, fingerprint.Fingerprint{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got[0], want[0])
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}
}

func TestSaveReplaces(t *testing.T) {
	path := filepath.Join(testdir.New(t), "checkpoint.json")
	for i := int64(1); i <= 3; i++ {
		if err := Save(path, []Entry{{Path: "a", Offset: i}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Load(path)
	if err != nil || len(got) != 1 || got[0].Offset != 3 {
		t.Fatalf("got %+v, %v; want one entry at offset 3", got, err)
	}
}

func TestLoad(t *testing.T) {
	dir := testdir.New(t)
	for _, tc := range []struct {
		name    string
		content *string
		wantErr string
	}{
		{name: "missing file is first start"},
		{name: "corrupt json", content: ptr(`{"version":1,"files":[{`), wantErr: "decode checkpoint"},
		{name: "future version", content: ptr(`{"version":9,"files":[]}`), wantErr: "version 9"},
		{name: "bad fingerprint", content: ptr(`{"version":1,"files":[{"fingerprint":"!!"}]}`), wantErr: "fingerprint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Load(path)
			if tc.wantErr == "" {
				if err != nil || got != nil {
					t.Fatalf("got %v, %v; want nothing", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want it to name %q and the path", err, tc.wantErr)
			}
		})
	}
}

func ptr(s string) *string { return &s }
