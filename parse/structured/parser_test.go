package structured

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluicelog/sluice/record"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type want struct {
	outcome Outcome
	body    string
	attrs   []record.Attr
	time    time.Time
}

func attrs(kv ...string) []record.Attr {
	var a []record.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		a = append(a, record.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return a
}

func check(t *testing.T, p *Parser, f Format, line string, w want) {
	t.Helper()
	r := record.Record{Body: []byte(line)}
	got := p.Apply(&r, f)
	if got != w.outcome {
		t.Fatalf("Apply(%s, %q) = %s, want %s", f, line, got, w.outcome)
	}
	body := w.body
	if w.outcome != Parsed && w.outcome != Capped && body == "" {
		body = line
	}
	if string(r.Body) != body {
		t.Errorf("Apply(%s, %q): body %q, want %q", f, line, r.Body, body)
	}
	if !reflect.DeepEqual(r.Attrs, w.attrs) {
		t.Errorf("Apply(%s, %q): attrs\n %q\nwant\n %q", f, line, r.Attrs, w.attrs)
	}
	if !r.Time.Equal(w.time) {
		t.Errorf("Apply(%s, %q): time %v, want %v", f, line, r.Time, w.time)
	}
}

func newParser(t testing.TB, o Options) *Parser {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJSON(t *testing.T) {
	ts := time.Date(2026, 12, 4, 4, 20, 1, 500_000_000, time.UTC)
	for _, tc := range []struct {
		name, line string
		opt        Options
		want
	}{
		{name: "logrus", line: `{"level":"WARNING","msg":"disk almost full","time":"2026-12-04T04:20:01.5Z","free_mb":512}`,
			want: want{outcome: Parsed, body: "disk almost full",
				attrs: attrs("level", "warning", "json.time", "2026-12-04T04:20:01.5Z", "json.free_mb", "512")}},
		{name: "time taken", opt: Options{Time: true},
			line: `{"level":"info","msg":"ok","time":"2026-12-04T04:20:01.5Z"}`,
			want: want{outcome: Parsed, body: "ok", attrs: attrs("level", "info"), time: ts}},
		{name: "zap seconds", opt: Options{Time: true},
			line: `{"level":"debug","ts":1796358001.5,"caller":"main.go:12","msg":"tick"}`,
			want: want{outcome: Parsed, body: "tick", attrs: attrs("level", "debug", "json.caller", "main.go:12"), time: time.Unix(1796358001, 5e8).UTC()}},
		{name: "milliseconds", opt: Options{Time: true},
			line: `{"timestamp":1796358001500,"message":"m"}`,
			want: want{outcome: Parsed, body: "m", time: time.UnixMilli(1796358001500).UTC()}},
		{name: "unparsable time kept", opt: Options{Time: true},
			line: `{"time":"yesterday","msg":"m"}`,
			want: want{outcome: Parsed, body: "m", attrs: attrs("json.time", "yesterday")}},
		{name: "zone-less time is UTC", opt: Options{Time: true},
			line: `{"@timestamp":"2026-12-04 04:20:01.5","msg":"m"}`,
			want: want{outcome: Parsed, body: "m", time: ts}},
		{name: "ECS", line: `{"@timestamp":"x","log.level":"ERROR","message":"boom","error":{"type":"IOException","stack_trace":"at a\nat b"}}`,
			want: want{outcome: Parsed, body: "boom",
				attrs: attrs("json.@timestamp", "x", "level", "error", "json.error.type", "IOException", "json.error.stack_trace", "at a\nat b")}},
		{name: "nested level", line: `{"log":{"level":"Info","logger":"app"},"msg":"x"}`,
			want: want{outcome: Parsed, body: "x", attrs: attrs("level", "info", "json.log.logger", "app")}},
		{name: "no message keeps the line", line: `{"a":1,"b":true,"c":null}`,
			want: want{outcome: Parsed, body: `{"a":1,"b":true,"c":null}`,
				attrs: attrs("json.a", "1", "json.b", "true", "json.c", "null")}},
		{name: "first message wins", line: `{"msg":"one","message":"two"}`,
			want: want{outcome: Parsed, body: "one", attrs: attrs("json.message", "two")}},
		{name: "escapes", line: `{"msg":"tab\there \"q\" \u00e9 \ud83d\ude00 \ud800","k\u00e9y":"v\\w"}`,
			want: want{outcome: Parsed, body: "tab\there \"q\" é 😀 \uFFFD", attrs: attrs("json.kéy", `v\w`)}},
		{name: "arrays and deep objects are text", line: `{"tags":["a", "b"],"a":{"b":{"c":{"d":1}}},"e":{}}`,
			want: want{outcome: Parsed, body: `{"tags":["a", "b"],"a":{"b":{"c":{"d":1}}},"e":{}}`,
				attrs: attrs("json.tags", `["a", "b"]`, "json.a.b.c", `{"d":1}`)}},
		{name: "depth 1", opt: Options{MaxDepth: 1}, line: `{"a":{"b":1},"msg":"m"}`,
			want: want{outcome: Parsed, body: "m", attrs: attrs("json.a", `{"b":1}`)}},
		{name: "no prefix", opt: Options{NoPrefix: true}, line: `{"user":{"id":7},"msg":"m"}`,
			want: want{outcome: Parsed, body: "m", attrs: attrs("user.id", "7")}},
		{name: "own prefix", opt: Options{Prefix: "app_"}, line: `{"user":"u","msg":"m"}`,
			want: want{outcome: Parsed, body: "m", attrs: attrs("app_user", "u")}},
		{name: "white space around", line: " \t{ \"msg\" : \"m\" , \"n\" : -1.5e3 } \r\n",
			want: want{outcome: Parsed, body: "m", attrs: attrs("json.n", "-1.5e3")}},
		{name: "capped", opt: Options{MaxFields: 2}, line: `{"a":1,"msg":"m","b":"x","c":{"d":"y\"z"},"e":[1],"level":"warn"}`,
			want: want{outcome: Capped, body: "m",
				attrs: attrs("json.a", "1", "json.b", "x", "level", "warn", "json._overflow", `{"c":{"d":"y\"z"},"e":[1]}`)}},
		{name: "capped inside an object", opt: Options{MaxFields: 1}, line: `{"a":{"b":1,"c":2}}`,
			want: want{outcome: Capped, body: `{"a":{"b":1,"c":2}}`,
				attrs: attrs("json.a.b", "1", "json._overflow", `{"a.c":2}`)}},
		{name: "plain text", line: `GET /healthz 200`, want: want{outcome: NotThisFormat}},
		{name: "array", line: `[1,2]`, want: want{outcome: NotThisFormat}},
		{name: "empty", line: ``, want: want{outcome: NotThisFormat}},
		{name: "cut", line: `{"msg":"half`, want: want{outcome: Invalid}},
		{name: "trailing text", line: `{"msg":"m"} and more`, want: want{outcome: Invalid}},
		{name: "two objects", line: `{"msg":"m"}{"msg":"n"}`, want: want{outcome: Invalid}},
		{name: "missing colon", line: `{"msg" "m"}`, want: want{outcome: Invalid}},
		{name: "bad escape", line: `{"msg":"\x"}`, want: want{outcome: Invalid}},
		{name: "bad literal", line: `{"a":tru}`, want: want{outcome: Invalid}},
		{name: "unclosed array", line: `{"a":[1,2}`, want: want{outcome: Invalid}},
		{name: "trailing comma", line: `{"a":1,}`, want: want{outcome: Invalid}},
		{name: "too deep", line: `{"a":` + strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1) + `}`,
			want: want{outcome: Invalid}},
		{name: "deep but bounded", line: `{"a":` + strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting) + `}`,
			want: want{outcome: Parsed, body: `{"a":` + strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting) + `}`,
				attrs: attrs("json.a", strings.Repeat("[", maxNesting)+strings.Repeat("]", maxNesting))}},
		{name: "invalid UTF-8 kept in the body, repaired in attributes", line: "{\"msg\":\"a\xffb\",\"k\\u00e9\xff\":\"\xc3\",\"v\":\"x\xff\xfey\"}",
			want: want{outcome: Parsed, body: "a\xffb", attrs: attrs("json.ké\uFFFD", "\uFFFD", "json.v", "x\uFFFDy")}},
		{name: "a long level is a field", line: `{"level":"` + strings.Repeat("x", maxLevelLen+1) + `","lvl":"Warn"}`,
			want: want{outcome: Parsed, body: `{"level":"` + strings.Repeat("x", maxLevelLen+1) + `","lvl":"Warn"}`,
				attrs: attrs("json.level", strings.Repeat("x", maxLevelLen+1), "level", "warn")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, newParser(t, tc.opt), JSON, tc.line, tc.want)
		})
	}
}

func TestFormatNames(t *testing.T) {
	for _, f := range []Format{None, JSON, LogMonitor, Auto} {
		got, err := ParseFormat(strings.ToUpper(f.String()))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, got, err)
		}
	}
	if f, err := ParseFormat(""); err != nil || f != None {
		t.Errorf(`ParseFormat("") = %v, %v`, f, err)
	}
	if _, err := ParseFormat("yaml"); err == nil {
		t.Error(`ParseFormat("yaml") took it`)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{{MaxDepth: -1}, {MaxDepth: 33}, {MaxFields: 2000}, {Prefix: "x.", NoPrefix: true}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) took it", o)
		}
	}
	p := newParser(t, Options{})
	if o := p.Options(); o.Prefix != DefaultPrefix || o.MaxDepth != 3 || o.MaxFields != 64 {
		t.Errorf("defaults: %+v", o)
	}
}

// Enrichment hands every record of a file one Attrs slice, with room to
// spare: Apply must build a new one, or one record's fields would show up
// in the next.
func TestSharedAttrsAreNotWritten(t *testing.T) {
	shared := make([]record.Attr, 2, 8)
	shared[0], shared[1] = record.Attr{Key: "pod", Value: "web-1"}, record.Attr{Key: "namespace", Value: "shop"}
	a := record.Record{Body: []byte(`{"msg":"a","user":"ann"}`), Attrs: shared}
	b := record.Record{Body: []byte(`{"msg":"b","order":"42"}`), Attrs: shared}
	p := newParser(t, Options{})
	p.Apply(&a, JSON)
	p.Apply(&b, JSON)
	if want := attrs("pod", "web-1", "namespace", "shop", "json.user", "ann"); !reflect.DeepEqual(a.Attrs, want) {
		t.Errorf("first record: %q, want %q", a.Attrs, want)
	}
	if want := attrs("pod", "web-1", "namespace", "shop", "json.order", "42"); !reflect.DeepEqual(b.Attrs, want) {
		t.Errorf("second record: %q, want %q", b.Attrs, want)
	}
	if spare := shared[:3][2]; spare != (record.Attr{}) {
		t.Errorf("the shared slice's spare room was written: %q", spare)
	}
}

// The body is a batch's buffer: a message without escapes is a sub-slice
// of it, one with escapes is new memory, and the buffer itself is never
// written.
func TestBodyStaysInItsBuffer(t *testing.T) {
	buf := []byte(`{"msg":"plain","k":"v"}{"msg":"esc\naped","k":"v\tw"}`)
	orig := string(buf)
	p := newParser(t, Options{})
	plain := record.Record{Body: buf[:23:23]}
	esc := record.Record{Body: buf[23:]}
	if o := p.Apply(&plain, JSON); o != Parsed {
		t.Fatal(o)
	}
	if o := p.Apply(&esc, JSON); o != Parsed {
		t.Fatal(o)
	}
	if string(buf) != orig {
		t.Fatalf("the buffer changed: %q", buf)
	}
	if &plain.Body[0] != &buf[8] || cap(plain.Body) != len("plain") {
		t.Errorf("plain body is not the sub-slice of its line it can be")
	}
	if string(esc.Body) != "esc\naped" {
		t.Errorf("escaped body %q", esc.Body)
	}
	for i := range buf {
		if &esc.Body[0] == &buf[i] {
			t.Fatalf("escaped body points into the buffer")
		}
	}
	// A later line must not change what an earlier record got.
	if p.Apply(&record.Record{Body: []byte(`{"msg":"x\ty","k":"zzzz"}`)}, JSON); string(esc.Body) != "esc\naped" || esc.Attrs[0].Value != "v\tw" {
		t.Errorf("the next line changed the record: %q %q", esc.Body, esc.Attrs)
	}
}

// Lines of another format are left as they are without allocating.
func TestNotThisFormatDoesNotAllocate(t *testing.T) {
	p := newParser(t, Options{Time: true})
	r := record.Record{Body: []byte(`2026-12-04 04:20:01 INFO plain text line`)}
	lm := record.Record{Body: []byte(`{"level":"info","msg":"app JSON, not LogMonitor"}`)}
	if n := testing.AllocsPerRun(100, func() {
		p.Apply(&r, JSON)
		p.Apply(&r, LogMonitor)
		p.Apply(&r, Auto)
		p.Apply(&lm, Auto)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// A parsed line costs two allocations (the attribute text and the new
// Attrs) when its message has no escapes, and nothing else once the
// Parser's buffers have grown.
func TestParsedAllocations(t *testing.T) {
	p := newParser(t, Options{Time: true})
	line := []byte(`{"time":"2026-12-04T04:20:01Z","level":"info","msg":"request done","status":200,"path":"/api/v1/orders","user":{"id":"u-1","tenant":"acme"}}`)
	if n := testing.AllocsPerRun(100, func() {
		r := record.Record{Body: line}
		p.Apply(&r, JSON)
	}); n != 2 {
		t.Errorf("%v allocations per line, want 2", n)
	}
}
