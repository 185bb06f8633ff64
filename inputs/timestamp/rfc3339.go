// Package timestamp parses the RFC 3339 timestamps that container runtimes
// write at the head of every log line, for the CRI and Docker line parsers.
//
// Guarantees: ParseRFC3339 never allocates and never panics, and every value it
// accepts is accepted by time.Parse(time.RFC3339Nano, ...) and denotes the same
// instant. It is stricter than time.Parse where RFC 3339 is:
//   - a second of 60 is rejected: Go's time cannot hold a leap second (time.Parse
//     rejects it too) and runtimes format Go time values, so none is ever written;
//   - a zone offset must be +hh:mm or -hh:mm with hh < 24 and mm < 60, where
//     time.Parse also takes +24:00 and a minute of 60;
//   - the fraction must be introduced by '.', not ',', and every field has its
//     fixed width (time.Parse takes a one-digit hour).
//
// Like time.Parse it accepts a fraction of any length and ignores the digits
// after the ninth.
package timestamp

import (
	"encoding/binary"
	"time"
)

// minLen is the length of the shortest valid timestamp.
const minLen = len("2006-01-02T15:04:05Z")

// ParseRFC3339 parses b as "2006-01-02T15:04:05.999999999Z07:00" and returns the instant in UTC.
func ParseRFC3339(b []byte) (time.Time, bool) {
	if len(b) < minLen || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	year, month, day := num(b[0:4]), num(b[5:7]), num(b[8:10])
	hour, minute, sec := num(b[11:13]), num(b[14:16]), num(b[17:19])
	// num returns -1 for a non-digit, so these range checks also reject those.
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec, rest := fraction(b[19:])
	offset, ok := zone(rest)
	if !ok {
		return time.Time{}, false
	}
	secs := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	return time.Unix(secs, int64(nsec)).UTC(), true
}

// daysSinceEpoch is the number of days from 1970-01-01 to the given date
// of the proleptic Gregorian calendar, as time.Date counts them, in a few
// integer operations: every line's timestamp goes through here, and
// time.Date's normalisation was a tenth of the tailer's time.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y-- // the year runs from March, so the leap day comes last
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400        // [0, 399]
	mp := int64(month+9) % 12 // March is 0
	doy := (153*mp+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// num parses a fixed-width run of decimal digits, or returns -1.
func num(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// fraction parses an optional ".ddd" and returns nanoseconds and the rest of b.
// A '.' without a digit is left in rest, where the zone check rejects it.
func fraction(b []byte) (nsec int, rest []byte) {
	if len(b) < 2 || b[0] != '.' || b[1] < '0' || b[1] > '9' {
		return 0, b
	}
	i, scale := 1, 100_000_000
	if v, ok := eightDigits(b[1:]); ok {
		// Runtimes write nine digits (containerd) or up to nine (Docker):
		// the first eight at once, then the rest one by one.
		i, scale, nsec = 9, 1, v*10
	}
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		nsec += int(b[i]-'0') * scale
		scale /= 10 // reaches 0 after the ninth digit, so later digits count for nothing
	}
	return nsec, b[i:]
}

// eightDigits parses the first eight bytes of b when they are all decimal
// digits, eight lanes of one 64-bit word at a time: the fraction was half
// of a timestamp's parse when taken a digit at a time.
func eightDigits(b []byte) (int, bool) {
	if len(b) < 8 {
		return 0, false
	}
	v := binary.LittleEndian.Uint64(b)
	// A byte is a digit when it is at least '0' (subtracting '0' does not
	// borrow into the top bit) and at most '9' (adding 0x46 does not carry
	// into it).
	if ((v-0x3030303030303030)|(v+0x4646464646464646))&0x8080808080808080 != 0 {
		return 0, false
	}
	v -= 0x3030303030303030
	// Pairs, then quads, then the eight: the first digit, in the lowest
	// byte, is the most significant.
	v = (v*10 + v>>8) & 0x00ff00ff00ff00ff
	v = (v*100 + v>>16) & 0x0000ffff0000ffff
	v = (v*10000 + v>>32) & 0xffffffff
	return int(v), true
}

// zone parses "Z", "+hh:mm" or "-hh:mm" filling all of b, and returns the offset east of UTC in seconds.
func zone(b []byte) (int, bool) {
	if len(b) == 1 && b[0] == 'Z' {
		return 0, true
	}
	if len(b) != len("+07:00") || (b[0] != '+' && b[0] != '-') || b[3] != ':' {
		return 0, false
	}
	hh, mm := num(b[1:3]), num(b[4:6])
	if hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	off := (hh*60 + mm) * 60
	if b[0] == '-' {
		off = -off
	}
	return off, true
}

// daysIn returns the number of days of a month in the proleptic Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
