package loki

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicelog/sluice/internal/testdir"
	"github.com/sluicelog/sluice/outputs"
	"github.com/sluicelog/sluice/outputs/internal/httpsink"
	"github.com/sluicelog/sluice/record"
)

func oneRecord() []record.Record {
	return []record.Record{{Time: at(1), Body: []byte("hello"), Attrs: podAttrs("default", "p", "app")}}
}

func send(t *testing.T, s *Sink) outputs.Result {
	t.Helper()
	req := s.Encode(oneRecord())
	defer req.Release()
	return s.Send(context.Background(), req)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestHeaders(t *testing.T) {
	dir := testdir.New(t)
	writeFile(t, filepath.Join(dir, "pw"), "s3cret\n")
	writeFile(t, filepath.Join(dir, "token"), "tok\n")
	for _, tc := range []struct {
		name string
		cfg  Config
		want map[string]string // "" means absent
	}{
		{"protobuf", Config{}, map[string]string{
			"Content-Type": "application/x-protobuf", "Content-Encoding": "", "User-Agent": "sluice",
			"X-Scope-OrgID": "", "Authorization": "",
		}},
		{"json", Config{Encoding: "json"}, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}},
		{"tenant", Config{TenantID: "team-a"}, map[string]string{"X-Scope-OrgID": "team-a"}},
		{"basic", Config{Username: "u", Password: "p"}, map[string]string{"Authorization": basic("u", "p")}},
		{"basic from file", Config{Username: "u", PasswordFile: filepath.Join(dir, "pw")}, map[string]string{"Authorization": basic("u", "s3cret")}},
		{"bearer", Config{BearerToken: "abc"}, map[string]string{"Authorization": "Bearer abc"}},
		{"bearer from file", Config{BearerTokenFile: filepath.Join(dir, "token")}, map[string]string{"Authorization": "Bearer tok"}},
		{"extra", Config{Headers: map[string]string{"x-extra": "1", "X-Scope-OrgID": "from-headers"}, TenantID: "wins"},
			map[string]string{"X-Extra": "1", "X-Scope-OrgID": "wins"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, srv := startCapture(t)
			tc.cfg.URL = srv.URL + "/loki/api/v1/push"
			s := newSink(t, tc.cfg)
			if res := send(t, s); res.Outcome != outputs.Accepted {
				t.Fatalf("send: %+v", res)
			}
			h := c.requests()[0].Header
			for k, v := range tc.want {
				if got := h.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// A rotated secret file is picked up without a restart, but looked at no
// more often than the reload interval.
func TestSecretFilesReload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(path string) Config
		rel    func(s *Sink) *httpsink.Reloader[string]
		header func(v string) string
	}{
		{"bearer token", func(p string) Config { return Config{BearerTokenFile: p} },
			func(s *Sink) *httpsink.Reloader[string] { return s.http.Auth.Token.File }, func(v string) string { return "Bearer " + v }},
		{"password", func(p string) Config { return Config{Username: "u", PasswordFile: p} },
			func(s *Sink) *httpsink.Reloader[string] { return s.http.Auth.Password.File }, func(v string) string { return basic("u", v) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(testdir.New(t), "secret")
			writeFile(t, path, "first")
			c, srv := startCapture(t)
			cfg := tc.cfg(path)
			cfg.URL = srv.URL
			s := newSink(t, cfg)
			rel := tc.rel(s)
			rel.Every = time.Hour
			rotate := func(v string, mod time.Time) {
				writeFile(t, path, v)
				if err := os.Chtimes(path, mod, mod); err != nil {
					t.Fatal(err)
				}
			}
			rotate("second", time.Now().Add(time.Minute))
			send(t, s) // within the interval: still the first value
			rel.Every = 0
			send(t, s)
			rotate("third!", time.Now().Add(2*time.Minute))
			send(t, s)
			os.Remove(path) // a failed reload keeps the last good value
			send(t, s)
			want := []string{"first", "second", "third!", "third!"}
			for i, r := range c.requests() {
				if got := r.Header.Get("Authorization"); got != tc.header(want[i]) {
					t.Errorf("request %d: Authorization %q, want %q", i, got, tc.header(want[i]))
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  answer
		outcome outputs.Outcome
		status  string
		reason  string
		wait    time.Duration
		errHas  string
	}{
		{name: "200", answer: answer{code: 200}, outcome: outputs.Accepted, status: "200"},
		{name: "204", answer: answer{code: 204}, outcome: outputs.Accepted, status: "204"},
		{name: "429 retry-after", answer: answer{code: 429, body: "Ingestion rate limit exceeded for user fake", header: map[string]string{"Retry-After": "7"}},
			outcome: outputs.Retryable, status: "429", wait: 7 * time.Second, errHas: "rate limit"},
		{name: "500", answer: answer{code: 500, body: "boom"}, outcome: outputs.Retryable, status: "500", errHas: "boom"},
		{name: "503", answer: answer{code: 503}, outcome: outputs.Retryable, status: "503"},
		{name: "408", answer: answer{code: 408}, outcome: outputs.Retryable, status: "408"},
		{name: "too far behind", answer: answer{code: 400, body: "entry with timestamp 2025-06-01 12:00:00 +0000 UTC ignored, reason: 'entry too far behind, entry timestamp is: 2025-06-01T12:00:00Z, oldest acceptable timestamp is: 2025-06-01T13:00:00Z',\nuser 'fake', total ignored: 1 out of 1 for stream: {pod=\"p\"}"},
			outcome: outputs.Permanent, status: "400", reason: "out_of_order", errHas: "entry too far behind"},
		{name: "out of order", answer: answer{code: 400, body: "entry with timestamp x ignored, reason: 'entry out of order' for stream: {pod=\"p\"}"},
			outcome: outputs.Permanent, status: "400", reason: "out_of_order"},
		{name: "too old", answer: answer{code: 400, body: "entry for stream '{pod=\"p\"}' has timestamp too old: 2020-01-01T00:00:00Z, oldest acceptable timestamp is: 2025-05-25T12:00:00Z"},
			outcome: outputs.Permanent, status: "400", reason: "too_old", errHas: "timestamp too old"},
		{name: "too new", answer: answer{code: 400, body: "entry for stream '{pod=\"p\"}' has timestamp too new: 2030-01-01T00:00:00Z"},
			outcome: outputs.Permanent, status: "400", reason: "too_new"},
		{name: "line too long", answer: answer{code: 400, body: "Max entry size '262144' bytes exceeded for stream '{pod=\"p\"}' while adding an entry with length '300000' bytes"},
			outcome: outputs.Permanent, status: "400", reason: "line_too_long"},
		{name: "invalid labels", answer: answer{code: 400, body: "Error parsing labels '{pod=}' with error: 1:6: parse error: unexpected \"}\""},
			outcome: outputs.Permanent, status: "400", reason: "invalid_labels"},
		{name: "too many labels", answer: answer{code: 400, body: "entry for stream '{a=\"1\"}' has 16 label names; limit 15"},
			outcome: outputs.Permanent, status: "400", reason: "too_many_labels"},
		{name: "structured metadata disallowed", answer: answer{code: 400, body: "stream '{a=\"1\"}' includes structured metadata, but this feature is disallowed. Please see `limits_config.allow_structured_metadata`"},
			outcome: outputs.Permanent, status: "400", reason: "structured_metadata_disallowed"},
		{name: "unknown 400", answer: answer{code: 400, body: "cannot read Loki protobuf data"}, outcome: outputs.Permanent, status: "400", reason: "status_400"},
		{name: "401", answer: answer{code: 401, body: "no"}, outcome: outputs.Permanent, status: "401", reason: "unauthorized"},
		{name: "403", answer: answer{code: 403}, outcome: outputs.Permanent, status: "403", reason: "forbidden"},
		{name: "404", answer: answer{code: 404}, outcome: outputs.Permanent, status: "404", reason: "not_found"},
		{name: "413", answer: answer{code: 413}, outcome: outputs.TooLarge, status: "413", reason: "too_large"},
		{name: "307", answer: answer{code: 307, header: map[string]string{"Location": "http://127.0.0.1:1/elsewhere"}}, outcome: outputs.Permanent, status: "307", reason: "status_307"},
		{name: "422", answer: answer{code: 422}, outcome: outputs.Permanent, status: "422", reason: "status_422"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := startCapture(t, tc.answer)
			s := newSink(t, Config{URL: srv.URL})
			res := send(t, s)
			if res.Outcome != tc.outcome || res.Status != tc.status || res.Reason != tc.reason || res.Wait != tc.wait {
				t.Errorf("got outcome %d status %q reason %q wait %v, want %d %q %q %v (err %v)",
					res.Outcome, res.Status, res.Reason, res.Wait, tc.outcome, tc.status, tc.reason, tc.wait, res.Err)
			}
			if (res.Err == nil) != (tc.outcome == outputs.Accepted) {
				t.Errorf("err = %v for outcome %d", res.Err, res.Outcome)
			}
			if tc.outcome != outputs.Accepted && !outputs.IsStatus(res.Err, tc.answer.code) {
				t.Errorf("err %v is not a StatusError %d", res.Err, tc.answer.code)
			}
			if tc.errHas != "" && !strings.Contains(res.Err.Error(), tc.errHas) {
				t.Errorf("err %q does not carry the server's text %q", res.Err, tc.errHas)
			}
		})
	}
}

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/loki/api/v1/push"
}

func TestTimeout(t *testing.T) {
	s := newSink(t, Config{URL: silentServer(t), Timeout: 200 * time.Millisecond})
	start := time.Now()
	res := send(t, s)
	if took := time.Since(start); res.Outcome != outputs.Retryable || res.Status != "timeout" || took > 2*time.Second {
		t.Errorf("got %+v after %v, want retryable timeout after about 200ms", res, took)
	}
}

// A cancelled run does not wait for the request's own timeout.
func TestSendCancelled(t *testing.T) {
	s := newSink(t, Config{URL: silentServer(t), Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	req := s.Encode(oneRecord())
	defer req.Release()
	start := time.Now()
	res := s.Send(ctx, req)
	if took := time.Since(start); res.Outcome == outputs.Accepted || took > 2*time.Second {
		t.Errorf("got %+v after %v, want a failure soon after the cancel", res, took)
	}
}

func TestRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newSink(t, Config{URL: "http://" + addr + "/loki/api/v1/push"})
	if res := send(t, s); res.Outcome != outputs.Retryable || res.Status != "network" || res.Err == nil {
		t.Errorf("got %+v, want retryable network", res)
	}
}

func TestNewErrors(t *testing.T) {
	dir := testdir.New(t)
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		name   string
		cfg    Config
		errHas string
	}{
		{"no url", Config{}, "missing"},
		{"bad scheme", Config{URL: "ftp://x/y"}, "scheme"},
		{"no host", Config{URL: "http:///push"}, "missing host"},
		{"credentials in url", Config{URL: "http://u:p@x/push"}, "credentials"},
		{"encoding", Config{URL: "http://x", Encoding: "avro"}, "protobuf or json"},
		{"negative timeout", Config{URL: "http://x", Timeout: -1}, "negative"},
		{"empty label", Config{URL: "http://x", Labels: []string{"pod", ""}}, "empty"},
		{"reserved label", Config{URL: "http://x", Labels: []string{"__name__"}}, "reserved"},
		{"labels colliding", Config{URL: "http://x", Labels: []string{"a.b", "a_b"}}, "both become"},
		{"static name", Config{URL: "http://x", StaticLabels: map[string]string{"a-b": "1"}}, "a-b"},
		{"static empty", Config{URL: "http://x", StaticLabels: map[string]string{"a": ""}}, "empty value"},
		{"header name", Config{URL: "http://x", Headers: map[string]string{"bad name": "1"}}, "header name"},
		{"own header", Config{URL: "http://x", Headers: map[string]string{"content-type": "text/plain"}}, "set by the sink"},
		{"password file", Config{URL: "http://x", Username: "u", PasswordFile: missing}, "password file"},
		{"password and file", Config{URL: "http://x", Username: "u", Password: "p", PasswordFile: missing}, "not both"},
		{"password alone", Config{URL: "http://x", Password: "p"}, "without a username"},
		{"token file", Config{URL: "http://x", BearerTokenFile: missing}, "bearer token file"},
		{"basic and bearer", Config{URL: "http://x", Username: "u", BearerToken: "t"}, "not both"},
		{"ca file", Config{URL: "https://x", TLS: TLSConfig{CAFile: missing}}, "ca file"},
		{"cert without key", Config{URL: "https://x", TLS: TLSConfig{CertFile: missing}}, "both or neither"},
		{"cert files", Config{URL: "https://x", TLS: TLSConfig{CertFile: missing, KeyFile: missing}}, "client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New succeeded, want an error with %q", tc.errHas)
			}
			if !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("error %q does not say %q", err, tc.errHas)
			}
		})
	}
}

func TestNewWarnings(t *testing.T) {
	log, buf := logBuffer()
	s := newSink(t, Config{URL: "https://x/push", Labels: []string{"pod", "pod_uid", "filename"}, TLS: TLSConfig{InsecureSkipVerify: true}, Logger: log})
	_ = s
	out := buf.String()
	for _, want := range []string{"TLS VERIFICATION IS OFF", "label=pod_uid", "label=filename", "structured metadata"} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "label=pod ") {
		t.Errorf("log warns about pod:\n%s", out)
	}
}

func TestSendEmptyRequest(t *testing.T) {
	c, srv := startCapture(t)
	s := newSink(t, Config{URL: srv.URL})
	req := s.Encode(nil)
	defer req.Release()
	if res := s.Send(context.Background(), req); res.Outcome != outputs.Accepted {
		t.Errorf("empty request: %+v", res)
	}
	if n := len(c.requests()); n != 0 {
		t.Errorf("an empty request made %d HTTP requests", n)
	}
}

// The body received is what Encode built, for both encodings.
func TestSendBody(t *testing.T) {
	for _, enc := range []string{"protobuf", "json"} {
		c, srv := startCapture(t)
		s := newSink(t, Config{URL: srv.URL, Encoding: enc})
		send(t, s)
		got := decodeAny(t, s, c.requests()[0].Body)
		want := []gotStream{{Labels: appLabels, Entries: []gotEntry{{Time: at(1), Line: "hello"}}}}
		if !sameStreams(got, want) {
			t.Errorf("%s: server got %+v", enc, got)
		}
	}
}

var _ http.Handler = (*capture)(nil)

// A redirect is never followed: the POST, its credentials and its tenant
// must not reach another server, and the records are not accepted.
func TestNoRedirects(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			other, otherSrv := startCapture(t)
			redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, otherSrv.URL+"/loki/api/v1/push", code)
			}))
			defer redirect.Close()
			s := newSink(t, Config{URL: redirect.URL + "/loki/api/v1/push", TenantID: "team-a", BearerToken: "tok"})
			res := send(t, s)
			if res.Outcome == outputs.Accepted || res.Status != strconv.Itoa(code) {
				t.Errorf("outcome %d status %q, want a failure with status %d", res.Outcome, res.Status, code)
			}
			if n := len(other.requests()); n != 0 {
				t.Errorf("the redirect target got %d requests", n)
			}
		})
	}
}

// Query values may carry a token: errors and logs show them redacted.
func TestURLRedactedInErrorsAndLogs(t *testing.T) {
	_, srv := startCapture(t, answer{code: 500, body: "boom"})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	log, logs := logBuffer()
	var errs []string
	for _, base := range []string{srv.URL, closed.URL} {
		s := newSink(t, Config{URL: base + "/push?api_key=s3cret", Logger: log, TLS: TLSConfig{InsecureSkipVerify: true}})
		res := send(t, s)
		if res.Err == nil {
			t.Fatalf("send to %s: %+v", base, res)
		}
		errs = append(errs, res.Err.Error())
	}
	_, err := New(Config{URL: "ftp://h/push?api_key=s3cret"})
	errs = append(errs, err.Error())
	for _, e := range append(errs, logs.String()) {
		if strings.Contains(e, "s3cret") {
			t.Errorf("secret shown: %s", e)
		}
	}
	if !strings.Contains(errs[0], "api_key=xxxxx") || !strings.Contains(errs[1], "api_key=xxxxx") {
		t.Errorf("errors do not name the redacted URL: %q", errs)
	}
}
