package segment

import (
	"encoding/binary"
	"hash/crc32"
)

// frameCRC is the CRC32C of a frame's length field followed by its payload.
func frameCRC(lengthField, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, lengthField), castagnoli, payload)
}

// putFrame writes the frame of payload into dst, which holds exactly
// FrameOverhead+len(payload) bytes.
func putFrame(dst, payload []byte) {
	copy(dst[FrameOverhead:], payload)
	sealFrame(dst)
}

// sealFrame fills in the header of the frame in dst, whose payload follows
// the FrameOverhead bytes of room at its start.
func sealFrame(dst []byte) {
	binary.LittleEndian.PutUint32(dst, uint32(len(dst)-FrameOverhead))
	binary.LittleEndian.PutUint32(dst[4:], frameCRC(dst[:4], dst[FrameOverhead:]))
}

// frameHeader returns the length and CRC fields of the frame header at the start of b.
func frameHeader(b []byte) (length, sum uint32) {
	return binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
}
