package main

import (
	"github.com/sluicelog/sluice/buffer"
	"github.com/sluicelog/sluice/inputs/file/checkpoint"
	"github.com/sluicelog/sluice/inputs/file/fingerprint"
)

// recovered turns the buffer's resume points into the file input's terms.
func recovered(points []buffer.ResumePoint) []checkpoint.Entry {
	out := make([]checkpoint.Entry, len(points))
	for i, p := range points {
		out[i] = checkpoint.Entry{Dev: p.Dev, Ino: p.Ino, Fingerprint: fingerprint.FromBytes([]byte(p.Head)), Offset: p.Next}
	}
	return out
}
