// Package drbg is a deterministic byte stream for test vectors and tests
// ONLY: block i is SHA-256(seed ‖ u64be(i)). It MUST NOT be used for real
// ballots or keys.
package drbg

import (
	"crypto/sha256"
	"encoding/binary"
)

// Reader is a deterministic io.Reader.
type Reader struct {
	seed []byte
	ctr  uint64
	buf  []byte
}

// New returns a Reader for the seed string.
func New(seed string) *Reader { return &Reader{seed: []byte(seed)} }

// Read fills p; it never fails.
func (r *Reader) Read(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(r.buf) == 0 {
			h := sha256.New()
			h.Write(r.seed)
			var c [8]byte
			binary.BigEndian.PutUint64(c[:], r.ctr)
			h.Write(c[:])
			r.ctr++
			r.buf = h.Sum(nil)
		}
		k := copy(p, r.buf)
		r.buf = r.buf[k:]
		p = p[k:]
	}
	return n, nil
}
