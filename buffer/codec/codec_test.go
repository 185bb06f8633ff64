package codec

import (
	"bytes"
	"errors"
	"reflect"
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
	f.Fuzz(func(t *testing.T, p []byte) {
		var d Decoder
		var r record.Record
		if d.Decode(p, &r) != nil {
			return
		}
		// Whatever decodes must re-encode to the same bytes.
		if again := Append(nil, &r); !bytes.Equal(again, p) && canonical(p) {
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
