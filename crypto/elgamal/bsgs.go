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
	max    uint64
	m      uint64            // baby steps: j·G for 0 ≤ j < m
	stride uint64            // a giant step subtracts stride·G (m, or a pair table's base)
	baby   map[uint64]uint32 // first 8 bytes of enc(j·G) → j
	giant  ristretto255.Element
}

// NewTable precomputes a table for plaintexts 0 … max.
func NewTable(max uint64) (*Table, error) {
	if max > MaxTableBound {
		return nil, errors.New("elgamal: table bound too large")
	}
	m := uint64(math.Sqrt(float64(max+1))) + 1
	t := &Table{max: max, m: m, stride: m, baby: make(map[uint64]uint32, m)}
	t.fill()
	var p ristretto255.Element
	p.ScalarBaseMult(scalarOf(m))
	// p = m·G; a giant step subtracts it.
	t.giant.Negate(&p)
	return t, nil
}

// MaxPairBound bounds n of [NewPairTable] (2^24, a table of n+1 entries).
const MaxPairBound = 1 << 24

// NewPairTable precomputes a table for the plaintexts a + base·b with
// 0 ≤ a, b ≤ n < base: the sum of n compact yes/no selections (protocol
// §4.2 version 3, §7), where a counts option 0 and b option 1. It holds
// n+1 baby steps, and a Solve takes at most n+1 giant steps of base·G, so
// both cost about n point additions and encodings. Solve returns
// v = a + base·b; a = v mod base, b = v / base.
func NewPairTable(n, base uint64) (*Table, error) {
	if n >= base || n > MaxPairBound || base > 1<<32 {
		return nil, errors.New("elgamal: pair table bounds")
	}
	t := &Table{max: n + base*n, m: n + 1, stride: base, baby: make(map[uint64]uint32, n+1)}
	t.fill()
	var p ristretto255.Element
	p.ScalarBaseMult(scalarOf(base))
	t.giant.Negate(&p)
	return t, nil
}

func scalarOf(v uint64) *ristretto255.Scalar {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:8], v)
	sc := ristretto255.NewScalar()
	if sc.Decode(s[:]) != nil {
		panic("elgamal: small scalar") // unreachable: v < 2^64 < ℓ
	}
	return sc
}

// fill computes the baby steps j·G for 0 ≤ j < t.m.
func (t *Table) fill() {
	m := t.m
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
	for i := uint64(0); i*t.stride <= t.max; i++ {
		q.Encode(buf[:0])
		if j, ok := t.baby[binary.LittleEndian.Uint64(buf[:8])]; ok {
			v := i*t.stride + uint64(j)
			if v <= t.max && check.ScalarBaseMult(scalarOf(v)).Equal(mustDecode(M)) == 1 {
				return v, nil
			}
		}
		q.Add(&q, &t.giant)
	}
	return 0, ErrOutOfRange
}

func mustDecode(M group.Element) *ristretto255.Element {
	return enc.ToFast(M)
}
