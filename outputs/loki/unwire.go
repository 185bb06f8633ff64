package loki

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Seconds a protobuf Timestamp may hold: years 1 to 9999, as the
// generated decoder checks.
const (
	minProtoSec = -62135596800
	maxProtoSec = 253402300799
)

// unmarshalPush reads a PushRequest: streams (1) of labels (1) and entries
// (2), entries of timestamp (1), line (2) and structured metadata (3).
// Fields the sink never writes (a stream's hash, an entry's parsed labels)
// are skipped, as the generated decoder's caller would ignore them.
func unmarshalPush(b []byte) ([]stream, error) {
	var out []stream
	err := eachField(b, func(num protowire.Number, v []byte) error {
		if num != 1 {
			return nil
		}
		st, err := decodeStream(v)
		out = append(out, st)
		return err
	})
	return out, err
}

func decodeStream(b []byte) (stream, error) {
	var st stream
	err := eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case 1:
			st.Labels = string(v)
		case 2:
			ent, err := decodeEntry(v)
			if err != nil {
				return fmt.Errorf("entry %d: %w", len(st.Entries), err)
			}
			st.Entries = append(st.Entries, ent)
		}
		return nil
	})
	return st, err
}

func decodeEntry(b []byte) (entry, error) {
	var ent entry
	var sec, nsec int64
	hasTime := false
	err := eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case 1:
			var err error
			sec, nsec, err = decodeTimestamp(v)
			hasTime = true
			return err
		case 2:
			ent.Line = string(v)
		case 3:
			var p labelPair
			if err := eachField(v, p.set); err != nil {
				return err
			}
			ent.StructuredMetadata = append(ent.StructuredMetadata, p)
		}
		return nil
	})
	if hasTime {
		ent.Timestamp = time.Unix(sec, nsec).UTC()
	}
	return ent, err
}

// set takes a LabelPairAdapter's name (1) or value (2).
func (p *labelPair) set(num protowire.Number, v []byte) error {
	switch num {
	case 1:
		p.Name = string(v)
	case 2:
		p.Value = string(v)
	}
	return nil
}

func decodeTimestamp(b []byte) (sec, nsec int64, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, 0, protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.VarintType {
			n = protowire.ConsumeFieldValue(num, typ, b)
		} else {
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			switch num {
			case 1:
				sec = int64(v)
			case 2:
				nsec = int64(int32(v))
			}
		}
		if n < 0 {
			return 0, 0, protowire.ParseError(n)
		}
		b = b[n:]
	}
	if sec < minProtoSec || sec > maxProtoSec || nsec < 0 || nsec >= 1e9 {
		return 0, 0, fmt.Errorf("timestamp %d s %d ns out of range", sec, nsec)
	}
	return sec, nsec, nil
}

// eachField calls fn with the number and bytes of every length-delimited
// field of b and skips the others.
func eachField(b []byte, fn func(protowire.Number, []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if err := fn(num, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
