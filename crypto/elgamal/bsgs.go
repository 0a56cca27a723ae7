package elgamal

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// MaxTableBound is the largest bound accepted by [NewTable] (2^40: a table
// of 2^20 entries).
const MaxTableBound = 1 << 40

// Table solves discrete logs m·G ↦ m for 0 ≤ m ≤ Max() by baby-step
// giant-step (protocol §7: the tally is bounded by the number of ballots).
// Building costs about √Max point additions and encodings; a Solve at most as
// many again. A Table is safe for concurrent use.
type Table struct {
	max   uint64
	m     uint64            // baby steps: j·G for 0 ≤ j < m
	baby  map[uint64]uint32 // first 8 bytes of enc(j·G) → j
	giant ristretto255.Element
}

// NewTable precomputes a table for plaintexts 0 … max.
func NewTable(max uint64) (*Table, error) {
	if max > MaxTableBound {
		return nil, errors.New("elgamal: table bound too large")
	}
	m := uint64(math.Sqrt(float64(max+1))) + 1
	t := &Table{max: max, m: m, baby: make(map[uint64]uint32, m)}
	var p, g ristretto255.Element
	p.Zero()
	g.Base()
	var buf [32]byte
	for j := uint64(0); j < m; j++ {
		p.Encode(buf[:0])
		k := binary.LittleEndian.Uint64(buf[:8])
		if _, dup := t.baby[k]; !dup {
			t.baby[k] = uint32(j)
		}
		p.Add(&p, &g)
	}
	// p = m·G; a giant step subtracts it.
	t.giant.Negate(&p)
	return t, nil
}

// Max returns the table's bound.
func (t *Table) Max() uint64 { return t.max }

// Solve returns m with M = m·G and 0 ≤ m ≤ Max(), or [ErrOutOfRange].
// M is public (a decrypted aggregate); Solve is variable time.
func (t *Table) Solve(M group.Element) (uint64, error) {
	var q, check ristretto255.Element
	if err := q.Decode(enc.MarshalElement(M)); err != nil {
		return 0, ErrOutOfRange // unreachable for valid elements
	}
	var buf [32]byte
	for i := uint64(0); i*t.m <= t.max; i++ {
		q.Encode(buf[:0])
		if j, ok := t.baby[binary.LittleEndian.Uint64(buf[:8])]; ok {
			v := i*t.m + uint64(j)
			if v <= t.max {
				var s [32]byte
				binary.LittleEndian.PutUint64(s[:8], v)
				sc := ristretto255.NewScalar()
				if sc.Decode(s[:]) == nil && check.ScalarBaseMult(sc).Equal(mustDecode(M)) == 1 {
					return v, nil
				}
			}
		}
		q.Add(&q, &t.giant)
	}
	return 0, ErrOutOfRange
}

func mustDecode(M group.Element) *ristretto255.Element {
	return enc.ToFast(M)
}
