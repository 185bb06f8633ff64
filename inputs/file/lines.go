package file

import "bytes"

// nextLine cuts the first line out of data. It returns the line without its
// '\n', the bytes consumed, and whether the line was complete. A line longer
// than max is cut at max bytes (complete=false) so memory stays bounded
// whatever the input; ok is false when data holds neither a whole line nor
// max bytes, so the caller waits for more.
func nextLine(data []byte, max int) (line []byte, n int, complete, ok bool) {
	window := data
	if len(window) > max+1 {
		window = window[:max+1]
	}
	if i := bytes.IndexByte(window, '\n'); i >= 0 {
		return data[:i], i + 1, true, true
	}
	// Cut only with more than max bytes in hand: exactly max may still be
	// followed by its newline, and the line is then whole.
	if len(data) > max {
		return data[:max], max, false, true
	}
	return nil, 0, false, false
}

// trimNUL drops a leading run of NUL bytes. copytruncate, and writers that
// keep their offset after a truncation, leave such runs where data used to be.
func trimNUL(b []byte) ([]byte, int) {
	i := 0
	for i < len(b) && b[i] == 0 {
		i++
	}
	return b[i:], i
}
