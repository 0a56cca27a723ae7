package elgamal

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/unionvote/eballot/crypto/internal/drbg"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

func key(t testing.TB) (*SecretKey, *PublicKey) {
	sk, err := GenerateKey(drbg.New("elgamal test"))
	if err != nil {
		t.Fatal(err)
	}
	return sk, sk.PublicKey()
}

func TestKnownAnswer(t *testing.T) {
	// 12345·G from docs (stack.md), checked against noble.
	b, _ := hex.DecodeString("3930000000000000000000000000000000000000000000000000000000000000")
	sk, err := ParseSecretKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(sk.PublicKey().Bytes()); got != "b4c1b3cdef7ba1bd94fa95c7b736622046ef663285813c2293c52c5f4f9fb011" {
		t.Fatal(got)
	}
}

func TestEncryptDecrypt(t *testing.T) {
	sk, pk := key(t)
	tab, err := NewTable(1000)
	if err != nil {
		t.Fatal(err)
	}
	rnd := drbg.New("enc")
	var cs []*Ciphertext
	total := uint64(0)
	for _, m := range []uint64{0, 1, 5, 1000, 3} {
		c, r, err := EncryptRand(pk, m, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckEncryption(pk, c, m, r); err != nil {
			t.Fatal(err)
		}
		if err := CheckEncryption(pk, c, m+1, r); !errors.Is(err, ErrMismatch) {
			t.Fatal("wrong plaintext accepted")
		}
		got, err := tab.Solve(sk.Decrypt(c))
		if err != nil || got != m {
			t.Fatalf("decrypt %d: %d %v", m, got, err)
		}
		d, err := ParseCiphertext(c.Bytes())
		if err != nil || !d.Equal(c) {
			t.Fatal("round trip")
		}
		cs = append(cs, c)
		total += m
	}
	// total = 1009 > 1000: out of range.
	if total != 1009 {
		t.Fatal(total)
	}
	if _, err := tab.Solve(sk.Decrypt(Sum(cs...))); !errors.Is(err, ErrOutOfRange) {
		t.Fatal("sum above bound must be out of range")
	}
	got, err := tab.Solve(sk.Decrypt(Add(cs[1], cs[2])))
	if err != nil || got != 6 {
		t.Fatal("add", got, err)
	}
	z := Sum()
	if got, err := tab.Solve(sk.Decrypt(z)); err != nil || got != 0 {
		t.Fatal("empty sum")
	}
}

func TestTableEdges(t *testing.T) {
	for _, max := range []uint64{0, 1, 2, 15, 16, 17, 99} {
		tab, err := NewTable(max)
		if err != nil {
			t.Fatal(err)
		}
		for m := uint64(0); m <= max+3; m++ {
			M := enc.G.NewElement().MulGen(enc.G.NewScalar().SetUint64(m))
			got, err := tab.Solve(M)
			if m <= max && (err != nil || got != m) {
				t.Fatalf("max %d m %d: %d %v", max, m, got, err)
			}
			if m > max && err == nil {
				t.Fatalf("max %d m %d: solved beyond bound", max, m)
			}
		}
	}
	if _, err := NewTable(MaxTableBound + 1); err == nil {
		t.Fatal("huge table")
	}
}

func TestTable2to24(t *testing.T) {
	tab, err := NewTable(1 << 24)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []uint64{1 << 24, 1<<24 - 1, 9876543} {
		M := enc.G.NewElement().MulGen(enc.G.NewScalar().SetUint64(m))
		if got, err := tab.Solve(M); err != nil || got != m {
			t.Fatal(m, got, err)
		}
	}
}

func TestParseStrict(t *testing.T) {
	_, pk := key(t)
	zero := make([]byte, 32)
	nonCanon, _ := hex.DecodeString("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
	for name, b := range map[string][]byte{"identity": zero, "p": nonCanon, "short": pk.Bytes()[:31], "ff": bytes.Repeat([]byte{0xff}, 32)} {
		if _, err := ParsePublicKey(b); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("key %s: %v", name, err)
		}
	}
	ok := pk.Bytes()
	for name, b := range map[string][]byte{
		"identity alpha": append(zero, ok...),
		"non-canon beta": append(ok, nonCanon...),
		"short":          ok,
	} {
		if _, err := ParseCiphertext(b); !errors.Is(err, ErrInvalidCiphertext) {
			t.Errorf("ciphertext %s: %v", name, err)
		}
	}
	if _, err := ParseCiphertext(append(ok, zero...)); err != nil {
		t.Error("identity beta is allowed", err)
	}
	ell, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	if _, err := ParseSecretKey(ell); !errors.Is(err, ErrInvalidKey) {
		t.Error("scalar ℓ accepted")
	}
	if _, err := ParseSecretKey(zero); !errors.Is(err, ErrInvalidKey) {
		t.Error("zero key accepted")
	}
}

func TestDeterministicNonce(t *testing.T) {
	_, pk := key(t)
	c1, _, _ := EncryptRand(pk, 1, drbg.New("same"))
	c2, _, _ := EncryptRand(pk, 1, drbg.New("same"))
	if !c1.Equal(c2) {
		t.Fatal("seeded reader must give the same ciphertext")
	}
}

func FuzzParse(f *testing.F) {
	_, pk := key(f)
	c, _, _ := EncryptRand(pk, 1, drbg.New("fuzz"))
	f.Add(pk.Bytes())
	f.Add(c.Bytes())
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParsePublicKey(b); err == nil && !bytes.Equal(k.Bytes(), b) {
			t.Fatal("key not canonical")
		}
		if c, err := ParseCiphertext(b); err == nil && !bytes.Equal(c.Bytes(), b) {
			t.Fatal("ciphertext not canonical")
		}
		if s, err := ParseSecretKey(b); err == nil && !bytes.Equal(s.Bytes(), b) {
			t.Fatal("scalar not canonical")
		}
	})
}

func BenchmarkTable1M(b *testing.B) {
	M := enc.G.NewElement().MulGen(enc.G.NewScalar().SetUint64(987654))
	for b.Loop() {
		tab, err := NewTable(1_000_000)
		if err != nil {
			b.Fatal(err)
		}
		if m, err := tab.Solve(M); err != nil || m != 987654 {
			b.Fatal(m, err)
		}
	}
}

func BenchmarkTable2to24(b *testing.B) {
	M := enc.G.NewElement().MulGen(enc.G.NewScalar().SetUint64(1<<24 - 3))
	for b.Loop() {
		tab, _ := NewTable(1 << 24)
		if m, err := tab.Solve(M); err != nil || m != 1<<24-3 {
			b.Fatal(m, err)
		}
	}
}

// A pair table solves exactly a + base·b with a, b ≤ n (the sum of n
// compact yes/no selections), and nothing else.
func TestPairTable(t *testing.T) {
	const base = 1 << 24
	for _, n := range []uint64{0, 1, 5, 100} {
		tab, err := NewPairTable(n, base)
		if err != nil {
			t.Fatal(err)
		}
		for _, ab := range [][2]uint64{{0, 0}, {n, 0}, {0, n}, {n / 2, n - n/2}, {n, n}, {n + 1, 0}, {0, n + 1}, {base - 1, 0}} {
			v := ab[0] + base*ab[1]
			got, err := tab.Solve(enc.G.NewElement().MulGen(enc.G.NewScalar().SetUint64(v)))
			in := ab[0] <= n && ab[1] <= n
			if in && (err != nil || got != v) {
				t.Fatalf("n %d: %v: %d %v", n, ab, got, err)
			}
			if !in && err == nil {
				t.Fatalf("n %d: %v solved beyond the bound as %d", n, ab, got)
			}
		}
	}
	for _, nb := range [][2]uint64{{base, base}, {MaxPairBound + 1, 1 << 30}, {1, 1<<32 + 1}} {
		if _, err := NewPairTable(nb[0], nb[1]); err == nil {
			t.Fatalf("pair table %v accepted", nb)
		}
	}
}
