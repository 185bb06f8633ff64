package timestamp

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseRFC3339(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		{name: "nanoseconds Z", in: "2026-11-26T00:54:07.123456789Z", want: utc(2026, 11, 26, 0, 54, 7, 123456789), ok: true},
		{name: "no fraction", in: "2026-11-26T00:54:07Z", want: utc(2026, 11, 26, 0, 54, 7, 0), ok: true},
		{name: "one digit fraction", in: "2026-11-26T00:54:07.1Z", want: utc(2026, 11, 26, 0, 54, 7, 100_000_000), ok: true},
		{name: "six digit fraction", in: "2026-11-26T00:54:07.000042Z", want: utc(2026, 11, 26, 0, 54, 7, 42_000), ok: true},
		{name: "digits past the ninth ignored", in: "2026-11-26T00:54:07.1234567899Z", want: utc(2026, 11, 26, 0, 54, 7, 123456789), ok: true},
		{name: "positive offset", in: "2026-11-26T01:54:07.1+01:00", want: utc(2026, 11, 26, 0, 54, 7, 100_000_000), ok: true},
		{name: "negative offset crosses midnight", in: "2026-11-25T21:24:07-03:30", want: utc(2026, 11, 26, 0, 54, 7, 0), ok: true},
		{name: "offset crosses new year", in: "2027-01-01T05:00:00+05:30", want: utc(2026, 12, 31, 23, 30, 0, 0), ok: true},
		{name: "minus zero offset", in: "2026-11-26T00:54:07-00:00", want: utc(2026, 11, 26, 0, 54, 7, 0), ok: true},
		{name: "leap day", in: "2028-02-29T12:00:00Z", want: utc(2028, 2, 29, 12, 0, 0, 0), ok: true},
		{name: "leap day in year 2000", in: "2000-02-29T00:00:00Z", want: utc(2000, 2, 29, 0, 0, 0, 0), ok: true},
		{name: "year zero", in: "0000-01-01T00:00:00Z", want: utc(0, 1, 1, 0, 0, 0, 0), ok: true},
		{name: "last instant", in: "9999-12-31T23:59:59.999999999Z", want: utc(9999, 12, 31, 23, 59, 59, 999999999), ok: true},

		{name: "empty", in: ""},
		{name: "date only", in: "2026-11-26"},
		{name: "no zone", in: "2026-11-26T00:54:07"},
		{name: "no zone with fraction", in: "2026-11-26T00:54:07.123"},
		{name: "lower case z", in: "2026-11-26T00:54:07z"},
		{name: "lower case t", in: "2026-11-26t00:54:07Z"},
		{name: "space for T", in: "2026-11-26 00:54:07Z"},
		{name: "February 30", in: "2026-02-30T00:00:00Z"},
		{name: "February 29 in common year", in: "2026-02-29T00:00:00Z"},
		{name: "February 29 in 1900", in: "1900-02-29T00:00:00Z"},
		{name: "April 31", in: "2026-04-31T00:00:00Z"},
		{name: "month 13", in: "2026-13-01T00:00:00Z"},
		{name: "month 0", in: "2026-00-01T00:00:00Z"},
		{name: "day 0", in: "2026-01-00T00:00:00Z"},
		{name: "hour 24", in: "2026-01-01T24:00:00Z"},
		{name: "minute 60", in: "2026-01-01T00:60:00Z"},
		{name: "leap second", in: "2016-12-31T23:59:60Z"},
		{name: "dot without digits", in: "2026-11-26T00:54:07.Z"},
		{name: "comma fraction", in: "2026-11-26T00:54:07,123Z"},
		{name: "one digit hour", in: "2026-11-26T0:54:07Z"},
		{name: "five digit year", in: "12026-11-26T00:54:07Z"},
		{name: "sign in year", in: "+026-11-26T00:54:07Z"},
		{name: "offset without colon", in: "2026-11-26T00:54:07+0100"},
		{name: "offset hour 24", in: "2026-11-26T00:54:07+24:00"},
		{name: "offset minute 60", in: "2026-11-26T00:54:07+01:60"},
		{name: "offset letters", in: "2026-11-26T00:54:07+0a:00"},
		{name: "trailing space", in: "2026-11-26T00:54:07Z "},
		{name: "both Z and offset", in: "2026-11-26T00:54:07Z+01:00"},
		{name: "non-ASCII digit", in: "2026-11-26T00:54:0٧Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRFC3339([]byte(tt.in))
			if ok != tt.ok {
				t.Fatalf("ParseRFC3339(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseRFC3339(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("ParseRFC3339(%q) location = %v, want UTC", tt.in, got.Location())
			}
		})
	}
}

// TestAgainstTimeParse checks well-formed values, and values with every field
// drawn from 00-99, against the standard library.
func TestAgainstTimeParse(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		s := genValid(r)
		if r.IntN(2) == 0 {
			s = genAnyDigits(r)
		}
		checkAgainstTimeParse(t, s)
	}
}

func genValid(r *rand.Rand) string {
	year, month := r.IntN(10000), 1+r.IntN(12)
	day := 1 + r.IntN(daysIn(month, year))
	wall := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, r.IntN(24), r.IntN(60), r.IntN(60))
	return wall + genFraction(r) + genZone(r, 24, 60)
}

func genAnyDigits(r *rand.Rand) string {
	wall := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d",
		r.IntN(10000), r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100))
	return wall + genFraction(r) + genZone(r, 100, 100)
}

func genFraction(r *rand.Rand) string {
	n := r.IntN(12) // 0-11 digits: none, the usual 1-9, and a few past the ninth
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('.')
	for range n {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	return b.String()
}

func genZone(r *rand.Rand, hours, minutes int) string {
	if r.IntN(3) == 0 {
		return "Z"
	}
	sign := "+-"[r.IntN(2)]
	return fmt.Sprintf("%c%02d:%02d", sign, r.IntN(hours), r.IntN(minutes))
}

// checkAgainstTimeParse fails unless ParseRFC3339 and time.Parse agree on s,
// allowing only the rejections the package comment lists.
func checkAgainstTimeParse(t *testing.T, s string) {
	t.Helper()
	got, ok := ParseRFC3339([]byte(s))
	want, err := time.Parse(time.RFC3339Nano, s)
	switch {
	case ok && err != nil:
		t.Fatalf("ParseRFC3339(%q) accepted what time.Parse rejects: %v", s, err)
	case ok && (!got.Equal(want) || got.Location() != time.UTC):
		t.Fatalf("ParseRFC3339(%q) = %v, time.Parse = %v", s, got, want)
	case !ok && err == nil && !knownStricter(s):
		t.Fatalf("ParseRFC3339(%q) rejected what time.Parse accepts as %v", s, want)
	}
}

// knownStricter reports whether s is a timestamp that time.Parse accepts and
// ParseRFC3339 rejects on purpose (see the package comment).
func knownStricter(s string) bool {
	if !strictShape(s) {
		return true
	}
	z := s[len(s)-len("+07:00"):]
	if z[0] != '+' && z[0] != '-' {
		return false
	}
	return num([]byte(z[1:3])) > 23 || num([]byte(z[4:6])) > 59
}

// strictShape reports whether s has every field at its fixed width, a '.'
// fraction and a Z or ±hh:mm zone, whatever the values.
func strictShape(s string) bool {
	const shape = "dddd-dd-ddTdd:dd:dd"
	if len(s) < len(shape) {
		return false
	}
	for i := range len(shape) {
		if shape[i] == 'd' && !isDigit(s[i]) || shape[i] != 'd' && s[i] != shape[i] {
			return false
		}
	}
	rest := s[len(shape):]
	if len(rest) > 1 && rest[0] == '.' && isDigit(rest[1]) {
		rest = strings.TrimLeft(rest[1:], "0123456789")
	}
	if rest == "Z" {
		return true
	}
	return len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
		isDigit(rest[1]) && isDigit(rest[2]) && isDigit(rest[4]) && isDigit(rest[5])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func TestParseRFC3339DoesNotAllocate(t *testing.T) {
	in := []byte("2026-11-26T01:54:07.123456789+01:00")
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := ParseRFC3339(in); !ok {
			t.Fatal("rejected")
		}
	})
	if allocs != 0 {
		t.Errorf("ParseRFC3339 allocates %v times per call", allocs)
	}
}

func FuzzParseRFC3339(f *testing.F) {
	for _, s := range []string{
		"2026-11-26T00:54:07.123456789Z",
		"2026-11-26T01:54:07.1+01:00",
		"2026-11-26T00:54:07Z",
		"2028-02-29T23:59:59.999999999-23:59",
		"2026-02-30T00:00:00Z",
		"2026-11-26T00:54:07,5Z",
		"2026-11-26T00:54:07+24:00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstTimeParse(t, string(b))
	})
}

func BenchmarkParseRFC3339(b *testing.B) {
	for _, bm := range []struct{ name, in string }{
		{"nanoseconds", "2026-11-26T00:54:07.123456789Z"},
		{"offset", "2026-11-26T01:54:07.123456789+01:00"},
		{"seconds", "2026-11-26T00:54:07Z"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			buf := []byte(bm.in)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := ParseRFC3339(buf); !ok {
					b.Fatal("rejected")
				}
			}
		})
	}
}

// Every day of years 0000 to 9999 gets the day number time.Date gives it.
func TestDaysSinceEpochEveryDay(t *testing.T) {
	d := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	want := d.Unix() / 86400
	for d.Year() < 10000 {
		if got := daysSinceEpoch(d.Year(), int(d.Month()), d.Day()); got != want {
			t.Fatalf("%s: day %d, want %d", d.Format(time.DateOnly), got, want)
		}
		d, want = d.AddDate(0, 0, 1), want+1
	}
}

// eightDigits takes eight bytes only when every one is a digit, whatever
// byte stands in any place (the neighbours of '0' and '9', '/' and ':',
// and bytes with the top bit set, are where a lane test goes wrong), and
// then reads them as strconv does.
func TestEightDigits(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			b := []byte("90817263")
			b[pos] = byte(c)
			got, ok := eightDigits(b)
			want, err := strconv.Atoi(string(b))
			isDigit := c >= '0' && c <= '9'
			if ok != isDigit || (ok && (err != nil || got != want)) {
				t.Fatalf("eightDigits(%q) = %d, %v; want %d, %v", b, got, ok, want, isDigit)
			}
		}
	}
	if _, ok := eightDigits([]byte("1234567")); ok {
		t.Fatal("eightDigits took seven bytes")
	}
}
