package multiline

import (
	"strings"
	"testing"
)

// group splits lines into events the way the stage does: a line that does
// not continue the current event begins the next one.
func group(t *testing.T, r *Rule, text string) []string {
	t.Helper()
	var events [][]string
	var st State
	for _, line := range strings.Split(text, "\n") {
		if len(events) > 0 {
			var ok bool
			if st, ok = r.Continue(st, []byte(line)); ok {
				events[len(events)-1] = append(events[len(events)-1], line)
				continue
			}
		}
		st = r.Begin([]byte(line))
		events = append(events, []string{line})
	}
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = strings.Join(e, "\n")
	}
	return out
}

func mustParse(t *testing.T, spec, cont string) *Rule {
	t.Helper()
	r, err := Parse(spec, cont)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Traces as the runtimes print them, each between two ordinary lines that
// must stay events of their own.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		rule, cont, trace string
	}{
		{"dotnet", "", `Unhandled exception. System.InvalidOperationException: Order 42 failed
 ---> System.ArgumentNullException: Value cannot be null. (Parameter 'customer')
   at Shop.Orders.Validate(Order order) in C:\src\Shop\Orders.cs:line 42
   at Shop.Orders.Place(Order order) in C:\src\Shop\Orders.cs:line 17
   --- End of inner exception stack trace ---
   at Shop.Orders.Place(Order order) in C:\src\Shop\Orders.cs:line 21
--- End of stack trace from previous location ---
   at Shop.Program.Main(String[] args) in C:\src\Shop\Program.cs:line 9`},
		{"java", "", `Exception in thread "main" java.lang.IllegalStateException: order 42
	at com.shop.Orders.place(Orders.java:42)
	at com.shop.Main.main(Main.java:9)
Caused by: java.lang.NullPointerException: customer
	at com.shop.Orders.validate(Orders.java:17)
	... 2 more
	Suppressed: java.io.IOException: close
		at com.shop.Db.close(Db.java:5)`},
		{"python", "", `Traceback (most recent call last):
  File "/app/main.py", line 3, in <module>
    place(42)
ValueError: order 42

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/main.py", line 5, in <module>
    raise RuntimeError("failed")
RuntimeError: failed`},
		{"go", "", `panic: order 42 failed

goroutine 1 [running]:
main.place(...)
	/app/main.go:12
main.main()
	/app/main.go:7 +0x25

goroutine 18 [chan receive]:
net/http.(*conn).serve(0xc000112000, {0x6c4f20, 0xc0000a8000})
	/usr/local/go/src/net/http/server.go:2039 +0x5b4
created by net/http.(*Server).Serve in goroutine 1
	/usr/local/go/src/net/http/server.go:3285 +0x4b4`},
		{"ruby", "", `app.rb:3:in 'place': order 42 failed (RuntimeError)
	from app.rb:7:in 'block in <main>'
	 2: from app.rb:9:in '<main>'`},
		{`start:^\d{4}-\d\d-\d\d `, "", `2026-12-04 10:00:00 ERROR failed
  detail one
detail two`},
		{`start:^\d{4}-\d\d-\d\d `, `^\s`, `2026-12-04 10:00:00 ERROR failed
  detail one
	detail two`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			r := mustParse(t, tc.rule, tc.cont)
			before, after := "2026-12-04 10:00:00 INFO before", "2026-12-04 10:00:01 INFO after"
			got := group(t, r, before+"\n"+tc.trace+"\n"+after)
			want := []string{before, tc.trace, after}
			if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("events:\n%q\nwant:\n%q", got, want)
			}
		})
	}
}

// Ordinary lines, blank ones included, stay one event each under every
// built-in rule: a rule that swallowed them would merge unrelated lines.
func TestOrdinaryLinesStayApart(t *testing.T) {
	lines := "GET /orders 200\nat the start of a sentence\nCaused nothing\n   indented but no frame\n\nfrom here\n... and so on"
	for _, name := range Names {
		r := mustParse(t, name, "")
		got := group(t, r, lines)
		if len(got) != 7 {
			t.Errorf("%s: %d events %q, want the 7 lines apart", name, len(got), got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ spec, cont, want string }{
		{"cobol", "", "want one of"},
		{"start:", "", "empty"},
		{"start:(", "", "multiline rule"},
		{"java", `^\s`, "only a start"},
		{`start:^\d`, "(", "continue regex"},
	} {
		if _, err := Parse(tc.spec, tc.cont); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q, %q) = %v, want an error with %q", tc.spec, tc.cont, err, tc.want)
		}
	}
}
