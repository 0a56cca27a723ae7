package blind

import (
	"crypto/rand"
	"math/big"
	"testing"
)

func natToBig(x *nat) *big.Int {
	var b [ModulusBits / 8]byte
	x.fillBytes(&b)
	return new(big.Int).SetBytes(b[:])
}

// testModuli returns odd 2048-bit moduli: the vector key's, random ones and
// carry-heavy edge cases (all ones; 2^2047 + 1; 2^2047 + 2^64 − 1).
func testModuli(t testing.TB) []*big.Int {
	one := big.NewInt(1)
	r := new(big.Int).Lsh(one, ModulusBits)
	half := new(big.Int).Lsh(one, ModulusBits-1)
	ms := []*big.Int{
		vectorKey(t, loadVectors(t)).N,
		new(big.Int).Sub(r, one),
		new(big.Int).Add(half, one),
		new(big.Int).Add(half, new(big.Int).SetUint64(^uint64(0))),
	}
	for range 4 {
		n, err := rand.Int(rand.Reader, half)
		if err != nil {
			t.Fatal(err)
		}
		n.Add(n, half).SetBit(n, 0, 1)
		ms = append(ms, n)
	}
	return ms
}

// testValues returns values below n: edge cases and random ones.
func testValues(t testing.TB, n *big.Int, random int) []*big.Int {
	one := big.NewInt(1)
	nm1 := new(big.Int).Sub(n, one)
	vs := []*big.Int{
		big.NewInt(0), one, big.NewInt(2), nm1, new(big.Int).Sub(n, big.NewInt(2)),
		new(big.Int).Rsh(n, 1),
		new(big.Int).Sub(new(big.Int).Lsh(one, ModulusBits-1), one), // 2^2047 − 1 (< n)
		new(big.Int).Mod(new(big.Int).Lsh(one, ModulusBits), n),     // R mod n
		new(big.Int).SetUint64(^uint64(0)),
	}
	for range random {
		x, err := rand.Int(rand.Reader, n)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, x)
	}
	return vs
}

func TestMontConstants(t *testing.T) {
	for _, n := range testModuli(t) {
		c := newMontCtx(n)
		if natToBig(&c.n).Cmp(n) != 0 {
			t.Fatal("limbs of N")
		}
		if c.k0*c.n[0] != ^uint64(0) { // −N⁻¹·N ≡ −1
			t.Fatalf("k0 = %x for N[0] = %x", c.k0, c.n[0])
		}
		r2 := new(big.Int).Lsh(big.NewInt(1), 2*ModulusBits)
		if natToBig(&c.rr).Cmp(r2.Mod(r2, n)) != 0 {
			t.Fatal("R² mod N")
		}
	}
}

func TestMontArithmetic(t *testing.T) {
	random := 40
	if testing.Short() {
		random = 8
	}
	for _, n := range testModuli(t) {
		c := newMontCtx(n)
		rinv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), ModulusBits), n)
		vs := testValues(t, n, random)
		for _, x := range vs {
			xn := natFromBig(x)
			if natToBig(&xn).Cmp(x) != 0 {
				t.Fatal("nat round trip")
			}
			// sqr, and sqr in place.
			want := new(big.Int).Mul(x, x)
			want.Mul(want, rinv).Mod(want, n)
			var z nat
			c.sqr(&z, &xn)
			if natToBig(&z).Cmp(want) != 0 {
				t.Fatalf("sqr(%x) mod %x", x, n)
			}
			z = xn
			c.sqr(&z, &z)
			if natToBig(&z).Cmp(want) != 0 {
				t.Fatalf("sqr in place (%x)", x)
			}
			c.mul(&z, &xn, &xn)
			if natToBig(&z).Cmp(want) != 0 {
				t.Fatalf("mul(x, x) (%x)", x)
			}
			for _, y := range vs {
				yn := natFromBig(y)
				want := new(big.Int).Mul(x, y)
				want.Mul(want, rinv).Mod(want, n)
				c.mul(&z, &xn, &yn)
				if natToBig(&z).Cmp(want) != 0 {
					t.Fatalf("mul(%x, %x) mod %x", x, y, n)
				}
				z = xn
				c.mul(&z, &z, &yn)
				if natToBig(&z).Cmp(want) != 0 {
					t.Fatal("mul aliasing x")
				}
				z = yn
				c.mul(&z, &xn, &z)
				if natToBig(&z).Cmp(want) != 0 {
					t.Fatal("mul aliasing y")
				}
			}
			for _, e := range []uint64{3, 5, 17, 0x8001, PublicExponent, 0xffffffffffffffff, 0x8000000000000001} {
				want := new(big.Int).Exp(x, new(big.Int).SetUint64(e), n)
				c.exp(&z, &xn, e)
				if natToBig(&z).Cmp(want) != 0 {
					t.Fatalf("exp(%x, %d) mod %x", x, e, n)
				}
			}
		}
	}
}

func TestNatLess(t *testing.T) {
	n := vectorKey(t, loadVectors(t)).N
	nn := natFromBig(n)
	for _, x := range testValues(t, n, 20) {
		xn := natFromBig(x)
		if !xn.less(&nn) || nn.less(&xn) {
			t.Fatal("less")
		}
	}
	if nn.less(&nn) {
		t.Fatal("N < N")
	}
	np1 := natFromBig(new(big.Int).Add(n, big.NewInt(1)))
	if np1.less(&nn) || !nn.less(&np1) {
		t.Fatal("N + 1")
	}
}

func BenchmarkMont(b *testing.B) {
	n := vectorKey(b, loadVectors(b)).N
	c := newMontCtx(n)
	x, _ := rand.Int(rand.Reader, n)
	y, _ := rand.Int(rand.Reader, n)
	xn, yn := natFromBig(x), natFromBig(y)
	b.Run("mul", func(b *testing.B) { cpuLoop(b, func() { c.mul(&xn, &xn, &yn) }) })
	b.Run("sqr", func(b *testing.B) { cpuLoop(b, func() { c.sqr(&xn, &xn) }) })
	var z nat
	b.Run("exp65537", func(b *testing.B) { cpuLoop(b, func() { c.exp(&z, &xn, PublicExponent) }) })
	e, zb := big.NewInt(PublicExponent), new(big.Int)
	b.Run("bigExp65537", func(b *testing.B) { cpuLoop(b, func() { zb.Exp(x, e, n) }) })
}
