// Package fingerprint identifies a file by its first bytes.
//
// A device/inode pair (volume serial/file index on Windows) is reused once a
// file is deleted, and copytruncate keeps it while replacing the content, so
// sluice pairs it with the head of the file: two files are the same only if
// one head is a prefix of the other. A Fingerprint is a plain value; New is
// the only function that touches the disk.
package fingerprint

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
)

// DefaultSize is how many head bytes identify a file. CRI and Docker lines
// start with a nanosecond timestamp, so a few hundred bytes are unique in
// practice; more only costs memory per open file.
const DefaultSize = 1024

// Fingerprint is the head of a file, up to a fixed size.
type Fingerprint struct {
	head []byte
}

// New reads up to size bytes from the start of r.
func New(r io.ReaderAt, size int) (Fingerprint, error) {
	buf := make([]byte, size)
	n, err := r.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return Fingerprint{}, fmt.Errorf("read file head: %w", err)
	}
	return Fingerprint{head: buf[:n:n]}, nil
}

// FromBytes returns the fingerprint of a head already in memory; b is copied.
func FromBytes(b []byte) Fingerprint {
	return Fingerprint{head: bytes.Clone(b)}
}

// Bytes returns the head. It is shared: callers must not modify it.
func (f Fingerprint) Bytes() []byte { return f.head }

// Len is the number of head bytes held.
func (f Fingerprint) Len() int { return len(f.head) }

// Equal reports whether both heads are identical.
func (f Fingerprint) Equal(o Fingerprint) bool { return bytes.Equal(f.head, o.head) }

// StartsWith reports whether old's head is a prefix of f's: the file that
// had old may since have grown into f. An empty old matches anything, so
// callers must not rely on the fingerprint alone for empty files.
func (f Fingerprint) StartsWith(old Fingerprint) bool {
	return bytes.HasPrefix(f.head, old.head)
}

// Matches reports whether head, the first bytes of a file read now, is
// still the file f was taken from: f's head is a prefix of it, or, when the
// file holds fewer bytes than f, it is a prefix of f's head. A file that
// shrank below f keeps matching until its bytes differ: a size check, not
// the fingerprint, tells a truncation to empty.
func (f Fingerprint) Matches(head []byte) bool {
	if len(head) >= len(f.head) {
		return bytes.HasPrefix(head, f.head)
	}
	return bytes.HasPrefix(f.head, head)
}

// Covers reports whether f holds size bytes already, so growing it is pointless.
func (f Fingerprint) Covers(size int) bool { return len(f.head) >= size }

// MarshalText encodes the head as base64 for checkpoint files.
func (f Fingerprint) MarshalText() ([]byte, error) {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(f.head)))
	base64.StdEncoding.Encode(out, f.head)
	return out, nil
}

// UnmarshalText decodes a head written by MarshalText.
func (f *Fingerprint) UnmarshalText(b []byte) error {
	head := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(head, b)
	if err != nil {
		return fmt.Errorf("decode fingerprint: %w", err)
	}
	f.head = head[:n:n]
	return nil
}
