package shuffle

import (
	"encoding/binary"
	"fmt"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// proofHeaderSize is u8 version ‖ u8 kind ‖ u32 N ‖ u16 width.
const proofHeaderSize = 8

// Proof is a Terelius–Wikström proof of a shuffle of N rows of width w
// (protocol §9.4): the permutation commitment C_j, the commitment chain
// Ĉ_i, the commitments t_1, t_2, t_3, t_{4,k} (for α and β), t̂_i, and the
// responses s_1, s_2, s_3, s_{4,k}, ŝ_i, s'_i. A Proof is immutable.
type Proof struct {
	n, w       int
	c, chat    []ristretto255.Element // permutation commitment, chain
	t1, t2, t3 ristretto255.Element
	t4a, t4b   []ristretto255.Element // per column
	that       []ristretto255.Element
	s1, s2, s3 ristretto255.Scalar
	s4         []ristretto255.Scalar // per column
	shat, sp   []ristretto255.Scalar
	raw        []byte
}

// ProofSize returns the encoded size of a proof for N rows of width w:
// 8 + 32·(5N + 3w + 6) bytes.
func ProofSize(n, w int) int { return proofHeaderSize + 32*(5*n+3*w+6) }

func newProof(n, w int) *Proof {
	return &Proof{
		n: n, w: w,
		c: make([]ristretto255.Element, n), chat: make([]ristretto255.Element, n),
		t4a: make([]ristretto255.Element, w), t4b: make([]ristretto255.Element, w),
		that: make([]ristretto255.Element, n),
		s4:   make([]ristretto255.Scalar, w),
		shat: make([]ristretto255.Scalar, n), sp: make([]ristretto255.Scalar, n),
	}
}

// Rows returns N.
func (p *Proof) Rows() int { return p.n }

// Width returns w.
func (p *Proof) Width() int { return p.w }

// Bytes returns the canonical encoding:
//
//	u8 version = 1 ‖ u8 kind = 2 ‖ u32 N ‖ u16 w ‖
//	C_0 … C_{N−1} ‖ Ĉ_0 … Ĉ_{N−1} ‖ t_1 ‖ t_2 ‖ t_3 ‖
//	t_{4,0}^α … t_{4,w−1}^α ‖ t_{4,0}^β … t_{4,w−1}^β ‖ t̂_0 … t̂_{N−1} ‖
//	s_1 ‖ s_2 ‖ s_3 ‖ s_{4,0} … s_{4,w−1} ‖ ŝ_0 … ŝ_{N−1} ‖ s'_0 … s'_{N−1}
func (p *Proof) Bytes() []byte { return append([]byte(nil), p.raw...) }

// encode fills p.raw from the fields.
func (p *Proof) encode() {
	out := make([]byte, 0, ProofSize(p.n, p.w))
	out = append(out, wireVersion, kindProof)
	out = binary.BigEndian.AppendUint32(out, uint32(p.n))
	out = binary.BigEndian.AppendUint16(out, uint16(p.w))
	el := func(es ...ristretto255.Element) {
		for i := range es {
			out = es[i].Encode(out)
		}
	}
	sc := func(ss ...ristretto255.Scalar) {
		for i := range ss {
			out = ss[i].Encode(out)
		}
	}
	el(p.c...)
	el(p.chat...)
	el(p.t1, p.t2, p.t3)
	el(p.t4a...)
	el(p.t4b...)
	el(p.that...)
	sc(p.s1, p.s2, p.s3)
	sc(p.s4...)
	sc(p.shat...)
	sc(p.sp...)
	p.raw = out
}

// ParseProof strictly decodes a proof: the header, 1 ≤ N ≤ [MaxRows],
// 1 ≤ w ≤ [MaxWidth], the exact length and every element and scalar
// canonical. It fails with [ErrMalformed].
func ParseProof(b []byte) (*Proof, error) {
	if len(b) < proofHeaderSize || b[0] != wireVersion || b[1] != kindProof {
		return nil, fmt.Errorf("%w: proof header", ErrMalformed)
	}
	n := int(binary.BigEndian.Uint32(b[2:6]))
	w := int(binary.BigEndian.Uint16(b[6:8]))
	if n < 1 || n > MaxRows || w < 1 || w > MaxWidth {
		return nil, fmt.Errorf("%w: proof for %d rows of width %d", ErrMalformed, n, w)
	}
	if len(b) != ProofSize(n, w) {
		return nil, fmt.Errorf("%w: proof length %d, want %d", ErrMalformed, len(b), ProofSize(n, w))
	}
	p := newProof(n, w)
	p.raw = append([]byte(nil), b...)
	r := p.raw[proofHeaderSize:]
	off := 0
	// Elements first (3N + 3 + 2w), then scalars.
	els := make([]*ristretto255.Element, 0, 3*n+3+2*w)
	names := make([]string, 0, cap(els))
	add := func(name string, es []ristretto255.Element) {
		for i := range es {
			els = append(els, &es[i])
			names = append(names, fmt.Sprintf("%s_%d", name, i))
		}
	}
	add("C", p.c)
	add("Ĉ", p.chat)
	els = append(els, &p.t1, &p.t2, &p.t3)
	names = append(names, "t_1", "t_2", "t_3")
	add("t_4α", p.t4a)
	add("t_4β", p.t4b)
	add("t̂", p.that)
	if err := parallelRange(len(els), func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := enc.DecodeFast(els[i], r[32*i:32*i+32], false); err != nil {
				return fmt.Errorf("%w: proof %s: %w", ErrMalformed, names[i], err)
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	off = 32 * len(els)
	scs := make([]*ristretto255.Scalar, 0, 2*n+3+w)
	snames := make([]string, 0, cap(scs))
	addS := func(name string, ss []ristretto255.Scalar) {
		for i := range ss {
			scs = append(scs, &ss[i])
			snames = append(snames, fmt.Sprintf("%s_%d", name, i))
		}
	}
	scs = append(scs, &p.s1, &p.s2, &p.s3)
	snames = append(snames, "s_1", "s_2", "s_3")
	addS("s_4", p.s4)
	addS("ŝ", p.shat)
	addS("s'", p.sp)
	for i, s := range scs {
		if err := enc.DecodeFastScalar(s, r[off+32*i:off+32*i+32]); err != nil {
			return nil, fmt.Errorf("%w: proof %s: %w", ErrMalformed, snames[i], err)
		}
	}
	return p, nil
}
