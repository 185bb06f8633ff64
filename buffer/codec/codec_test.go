package codec

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    record.Record
	}{
		{"empty", record.Record{}},
		{"full", record.Record{
			Time: time.Date(2026, 11, 26, 0, 54, 7, 123456789, time.UTC), Stream: "stderr",
			Body: []byte("msg \xff\x00 bytes"), Path: `C:\var\log\containers\a.log`, Offset: 1 << 40,
			Flags: record.FlagSplit | record.FlagInvalidUTF8,
			Attrs: []record.Attr{{Key: "namespace", Value: "kube-system"}, {Key: "pod", Value: ""}},
		}},
		{"before 1970", record.Record{Time: time.Date(1969, 1, 1, 0, 0, 0, 1, time.UTC), Body: []byte("x")}},
		{"1 MiB body", record.Record{Body: bytes.Repeat([]byte("y"), 1<<20), Offset: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			var got record.Record
			if err := d.Decode(Append(nil, &tc.r), &got); err != nil {
				t.Fatal(err)
			}
			want := tc.r
			if len(want.Body) == 0 {
				want.Body, got.Body = nil, nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	good := Append(nil, &record.Record{Stream: "stdout", Body: []byte("hello"), Path: "/p", Attrs: []record.Attr{{Key: "k", Value: "v"}}})
	var d Decoder
	var r record.Record
	for i := 0; i < len(good); i++ {
		if err := d.Decode(good[:i], &r); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: err = %v, want ErrCorrupt", i, err)
		}
	}
	if err := d.Decode(append(append([]byte(nil), good...), 0), &r); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: err = %v", err)
	}
	bad := append([]byte(nil), good...)
	bad[0] = 9
	if err := d.Decode(bad, &r); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong version: err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Append(nil, &record.Record{Stream: "stdout", Body: []byte("x"), Path: "/p", Attrs: []record.Attr{{Key: "a", Value: "b"}}}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	var e Encoder
	f.Add(e.Append(nil, &record.Record{Stream: "stdout", Body: []byte("x"), Path: "/p", Attrs: []record.Attr{{Key: "a", Value: "b"}}}, 16))
	f.Add(e.Append(nil, &record.Record{Stream: "stdout", Body: []byte("y"), Path: "/p", Attrs: []record.Attr{{Key: "a", Value: "b"}}}, 99))
	f.Add(e.Append(nil, &record.Record{Body: []byte("z"), Path: "/p", Offset: 9, Next: 60,
		Source: &record.Source{Dev: 1, Ino: 2, Head: []byte("head")}}, 200))
	f.Fuzz(func(t *testing.T, p []byte) {
		var d, pd Decoder
		var r record.Record
		_, next, ok, perr := pd.Position(p)
		if d.Decode(p, &r) != nil {
			return
		}
		if perr != nil || (ok && next != r.Next) {
			t.Fatalf("Position: next %d, %v; Decode: next %d", next, perr, r.Next)
		}
		// Whatever decodes must encode again to a record that decodes the
		// same; version 1, written in minimal varints, to the same bytes.
		var again []byte
		if p[0] != Version {
			var e Encoder
			again = e.Append(nil, &r, 16)
		} else {
			again = Append(nil, &r)
		}
		var d2 Decoder
		var r2 record.Record
		if err := d2.Decode(again, &r2); err != nil || !equalRecord(r, r2) || (p[0] == VersionResume && r.Next != r2.Next) {
			t.Fatalf("re-encoded record decodes to %+v (%v), want %+v", r2, err, r)
		}
		if p[0] == Version && !bytes.Equal(again, p) && canonical(p) {
			t.Fatalf("re-encoding differs:\n%x\n%x", again, p)
		}
	})
}

// canonical reports whether p uses minimal varints, the only form Append writes.
func canonical(p []byte) bool {
	var d Decoder
	var r record.Record
	_ = d.Decode(p, &r)
	return len(Append(nil, &r)) == len(p)
}

func BenchmarkAppendDecode(b *testing.B) {
	r := record.Record{Time: time.Now(), Stream: "stdout", Path: "/var/log/containers/app_default_app-0123.log",
		Body: []byte(`level=info ts=2026-11-26T00:54:07Z caller=main.go:42 msg="request served" status=200 duration=1.2ms path=/api/v1/items`)}
	var d Decoder
	var buf []byte
	var out record.Record
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	for b.Loop() {
		buf = Append(buf[:0], &r)
		if err := d.Decode(buf, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func podAttrs(pod string) []record.Attr {
	return []record.Attr{{Key: "namespace", Value: "default"}, {Key: "pod", Value: pod}, {Key: "container", Value: "app"},
		{Key: "container_id", Value: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, {Key: "node", Value: "node-1"}}
}

// TestDecodeSharesRecentAttributeLists checks that records of one pod get
// one shared list, that it cannot be appended to in place, and that
// interleaved pods each get their own values.
func TestDecodeSharesRecentAttributeLists(t *testing.T) {
	var d Decoder
	var encs [][]byte
	for i := range 30 {
		pod := fmt.Sprintf("web-%d", i%3)
		encs = append(encs, Append(nil, &record.Record{Body: []byte("x"), Path: "/p", Attrs: podAttrs(pod)}))
	}
	encs = append(encs, Append(nil, &record.Record{Body: []byte("none"), Path: "/p"}))
	var got []record.Record
	for i, p := range encs {
		var r record.Record
		if err := d.Decode(p, &r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		got = append(got, r)
	}
	for i := range 30 {
		want := podAttrs(fmt.Sprintf("web-%d", i%3))
		if !slices.Equal(got[i].Attrs, want) {
			t.Fatalf("record %d attrs = %v, want %v", i, got[i].Attrs, want)
		}
		if cap(got[i].Attrs) != len(got[i].Attrs) {
			t.Fatalf("record %d: shared attrs have spare capacity %d", i, cap(got[i].Attrs))
		}
	}
	if &got[0].Attrs[0] != &got[3].Attrs[0] || &got[0].Attrs[0] == &got[1].Attrs[0] {
		t.Fatalf("records of one pod do not share their list, or different pods do")
	}
	if got[30].Attrs != nil {
		t.Fatalf("record without attributes got %v", got[30].Attrs)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		var r record.Record
		_ = d.Decode(encs[4], &r)
	}); allocs != 0 {
		t.Fatalf("decoding a record of a recent pod allocates %v times", allocs)
	}
}

func BenchmarkDecodeWithPodAttrs(b *testing.B) {
	r := record.Record{Time: time.Now(), Stream: "stdout", Path: "/var/log/containers/app_default_app-0123.log",
		Body: []byte(`level=info ts=2026-11-26T00:54:07Z caller=main.go:42 msg="request served" status=200`), Attrs: podAttrs("web-0")}
	buf := Append(nil, &r)
	var d Decoder
	var out record.Record
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(buf, &out); err != nil {
			b.Fatal(err)
		}
	}
}
