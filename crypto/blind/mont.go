package blind

import (
	"math/big"
	"math/bits"
)

// Montgomery arithmetic modulo a 2048-bit public RSA modulus on 64-bit limbs
// (math/bits), for signature verification only: every input is public (the
// modulus, the signature), so the code is variable-time (early exits,
// data-dependent final subtractions) and must never see a secret.
//
// Numbers are nat: 32 little-endian 64-bit limbs. R = 2^2048.

const limbs = ModulusBits / 64

type nat [limbs]uint64

// montCtx holds the per-modulus constants.
type montCtx struct {
	n  nat    // the modulus N (odd, top bit set)
	k0 uint64 // −N⁻¹ mod 2^64
	rr nat    // R² mod N
}

// newMontCtx precomputes the constants for an odd modulus of exactly
// ModulusBits bits (checked by the caller).
func newMontCtx(n *big.Int) *montCtx {
	c := &montCtx{}
	c.n = natFromBig(n)
	// Newton–Hensel: inv = N⁻¹ mod 2^64 (each step doubles the correct
	// low bits; N·N ≡ 1 mod 8 gives 3 to start with).
	n0 := c.n[0]
	inv := n0
	for range 5 {
		inv *= 2 - n0*inv
	}
	c.k0 = -inv
	r2 := new(big.Int).Lsh(big.NewInt(1), 2*ModulusBits)
	c.rr = natFromBig(r2.Mod(r2, n))
	return c
}

func natFromBig(x *big.Int) nat {
	var z nat
	var b [ModulusBits / 8]byte
	x.FillBytes(b[:])
	z.setBytes(&b)
	return z
}

// setBytes sets z to the big-endian 256-byte b.
func (z *nat) setBytes(b *[ModulusBits / 8]byte) {
	for i := range limbs {
		o := ModulusBits/8 - 8*(i+1)
		z[i] = uint64(b[o])<<56 | uint64(b[o+1])<<48 | uint64(b[o+2])<<40 | uint64(b[o+3])<<32 |
			uint64(b[o+4])<<24 | uint64(b[o+5])<<16 | uint64(b[o+6])<<8 | uint64(b[o+7])
	}
}

// fillBytes writes z big-endian into b.
func (z *nat) fillBytes(b *[ModulusBits / 8]byte) {
	for i := range limbs {
		o := ModulusBits/8 - 8*(i+1)
		w := z[i]
		b[o], b[o+1], b[o+2], b[o+3] = byte(w>>56), byte(w>>48), byte(w>>40), byte(w>>32)
		b[o+4], b[o+5], b[o+6], b[o+7] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	}
}

// less reports whether x < y (variable time).
func (x *nat) less(y *nat) bool {
	for i := limbs - 1; i >= 0; i-- {
		if x[i] != y[i] {
			return x[i] < y[i]
		}
	}
	return false
}

// reduceOnce sets z = t − N if hi ≠ 0 or t ≥ N, else z = t, where
// hi·R + t < 2N.
func (c *montCtx) reduceOnce(z *nat, t *nat, hi uint64) {
	if hi == 0 && t.less(&c.n) {
		*z = *t
		return
	}
	var b uint64
	for i := range limbs {
		z[i], b = bits.Sub64(t[i], c.n[i], b)
	}
}

// mul sets z = x·y·R⁻¹ mod N for x, y < N (z may alias x or y): CIOS
// Montgomery multiplication (Koç, Acar, Kaliski, "Analyzing and comparing
// Montgomery multiplication algorithms", IEEE Micro 1996), each outer step
// adding x·y[i] and then m·N, m = t[i]·(−N⁻¹) mod 2^64, into a window of t
// that slides one limb up instead of shifting t; the result, < 2N, is
// reduced once.
func (c *montCtx) mul(z, x, y *nat) {
	var t [2 * limbs]uint64
	var top uint64 // carry bit above t[i+limbs]
	for i := range limbs {
		w := (*nat)(t[i : i+limbs])
		c1 := addMul32(w, x, y[i])
		m := t[i] * c.k0 // t[i] + m·N[0] ≡ 0 mod 2^64
		c2 := addMul32(w, &c.n, m)
		s, b1 := bits.Add64(c1, c2, 0)
		s, b2 := bits.Add64(s, top, 0)
		t[i+limbs] = s
		top = b1 + b2
	}
	c.reduceOnce(z, (*nat)(t[limbs:]), top)
}

// sqr sets z = x²·R⁻¹ mod N for x < N (z may alias x): the full 4096-bit
// square (each cross product x[i]·x[j], i < j, computed once and doubled,
// plus the x[i]²), then Montgomery reduction (REDC) of its 64 limbs. About
// 3/4 of the work of mul.
func (c *montCtx) sqr(z, x *nat) {
	var p [2 * limbs]uint64
	for i := 0; i < limbs-1; i++ {
		p[i+limbs] = addMulVW(p[2*i+1:i+limbs], x[i+1:], x[i])
	}
	var sh, cc uint64
	for i := range limbs {
		h, l := bits.Mul64(x[i], x[i])
		a, b := p[2*i], p[2*i+1]
		a2 := a<<1 | sh
		b2 := b<<1 | a>>63
		sh = b >> 63
		p[2*i], cc = bits.Add64(a2, l, cc)
		p[2*i+1], cc = bits.Add64(b2, h, cc)
	}
	// p = x² < N² fits in 64 limbs, so the last carries are zero. REDC:
	// add m·N·2^(64i) to clear limb i; the carry out of limb i+limbs is
	// kept in hiCarry and added one limb up in the next step.
	var hiCarry uint64
	for i := range limbs {
		m := p[i] * c.k0
		cr := addMul32((*nat)(p[i:i+limbs]), &c.n, m)
		s, c1 := bits.Add64(p[i+limbs], cr, 0)
		s, c2 := bits.Add64(s, hiCarry, 0)
		p[i+limbs] = s
		hiCarry = c1 + c2
	}
	c.reduceOnce(z, (*nat)(p[limbs:]), hiCarry)
}

// addMul32 sets z += x·y and returns the carry word.
func addMul32(z, x *nat, y uint64) uint64 {
	var c uint64
	for j := 0; j < limbs; j += 4 {
		h0, l0 := bits.Mul64(x[j], y)
		h1, l1 := bits.Mul64(x[j+1], y)
		h2, l2 := bits.Mul64(x[j+2], y)
		h3, l3 := bits.Mul64(x[j+3], y)
		var cc uint64
		l0, cc = bits.Add64(l0, c, 0)
		l1, cc = bits.Add64(l1, h0, cc)
		l2, cc = bits.Add64(l2, h1, cc)
		l3, cc = bits.Add64(l3, h2, cc)
		h3 += cc
		z[j], cc = bits.Add64(z[j], l0, 0)
		z[j+1], cc = bits.Add64(z[j+1], l1, cc)
		z[j+2], cc = bits.Add64(z[j+2], l2, cc)
		z[j+3], cc = bits.Add64(z[j+3], l3, cc)
		c = h3 + cc
	}
	return c
}

// addMulVW sets z += x·y for len(z) == len(x) and returns the carry word.
func addMulVW(z, x []uint64, y uint64) uint64 {
	x = x[:len(z)]
	var c uint64
	j := 0
	for ; j+4 <= len(z); j += 4 {
		zz := z[j : j+4 : j+4]
		xx := x[j : j+4 : j+4]
		h0, l0 := bits.Mul64(xx[0], y)
		h1, l1 := bits.Mul64(xx[1], y)
		h2, l2 := bits.Mul64(xx[2], y)
		h3, l3 := bits.Mul64(xx[3], y)
		var cc uint64
		l0, cc = bits.Add64(l0, c, 0)
		l1, cc = bits.Add64(l1, h0, cc)
		l2, cc = bits.Add64(l2, h1, cc)
		l3, cc = bits.Add64(l3, h2, cc)
		h3 += cc
		zz[0], cc = bits.Add64(zz[0], l0, 0)
		zz[1], cc = bits.Add64(zz[1], l1, cc)
		zz[2], cc = bits.Add64(zz[2], l2, cc)
		zz[3], cc = bits.Add64(zz[3], l3, cc)
		c = h3 + cc
	}
	for ; j < len(z); j++ {
		h, l := bits.Mul64(x[j], y)
		var cc uint64
		l, cc = bits.Add64(l, c, 0)
		h += cc
		z[j], cc = bits.Add64(z[j], l, 0)
		c = h + cc
	}
	return c
}

// exp sets z = s^e mod N for s < N and odd e ≥ 3 (public exponent: the
// square-and-multiply sequence depends on e only). The last multiplication
// takes s in normal form, so the result leaves the Montgomery domain
// without a separate conversion.
func (c *montCtx) exp(z, s *nat, e uint64) {
	var x, acc nat
	c.mul(&x, s, &c.rr) // x = s·R mod N
	acc = x
	for i := bits.Len64(e) - 2; i >= 1; i-- {
		c.sqr(&acc, &acc)
		if e>>uint(i)&1 == 1 {
			c.mul(&acc, &acc, &x)
		}
	}
	c.sqr(&acc, &acc) // bit 0 (e is odd)
	c.mul(z, &acc, s) // s^e·R · s · R⁻¹ = s^e
}
