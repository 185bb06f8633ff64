package elasticsearch

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// item is one bulk item as the fake server read it.
type item struct {
	Action map[string]map[string]string // {"create": {"_index": ..., "_id": ...}}
	Doc    map[string]any
}

func (it item) msg() string   { s, _ := it.Doc["message"].(string); return s }
func (it item) index() string { return it.Action["create"]["_index"] }
func (it item) id() string    { return it.Action["create"]["_id"] }

// decodeBulk reads an NDJSON bulk body, gzip-compressed or not.
func decodeBulk(t testing.TB, body []byte, gzipped bool) []item {
	t.Helper()
	if gzipped {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatalf("gunzip: %v", err)
		}
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		t.Fatalf("bulk body does not end with a newline: %.80q", body)
	}
	var items []item
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var it item
		if err := json.Unmarshal(sc.Bytes(), &it.Action); err != nil {
			t.Fatalf("action line %q: %v", sc.Text(), err)
		}
		if !sc.Scan() {
			t.Fatal("action line without a document")
		}
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&it.Doc); err != nil {
			t.Fatalf("document line %q: %v", sc.Text(), err)
		}
		items = append(items, it)
	}
	return items
}
