package shuffle

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
)

// testList encrypts rows of small plaintexts (row i, column k holds
// 1000·i + k) under a fresh key.
func testList(t testing.TB, n, w int) (*elgamal.SecretKey, *List) {
	t.Helper()
	sk, err := elgamal.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]*elgamal.Ciphertext, n)
	for i := range rows {
		rows[i] = make([]*elgamal.Ciphertext, w)
		for k := range rows[i] {
			c, _, err := elgamal.EncryptRand(sk.PublicKey(), uint64(1000*i+k), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			rows[i][k] = c
		}
	}
	l, err := NewList(rows)
	if err != nil {
		t.Fatal(err)
	}
	return sk, l
}

func testStatement(sk *elgamal.SecretKey) *Statement {
	return &Statement{Key: sk.PublicKey(), Label: "test", Context: []byte("test context")}
}

// plaintexts decrypts every row to its values (tests use values < 2^20).
func plaintexts(t *testing.T, sk *elgamal.SecretKey, l *List) [][]uint64 {
	t.Helper()
	tab, err := elgamal.NewTable(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]uint64, l.Len())
	for i := range out {
		for k := 0; k < l.Width(); k++ {
			m, err := tab.Solve(sk.Decrypt(l.Ciphertext(i, k)))
			if err != nil {
				t.Fatalf("row %d column %d: %v", i, k, err)
			}
			out[i] = append(out[i], m)
		}
	}
	return out
}

func TestShuffleVerifies(t *testing.T) {
	for _, tc := range []struct{ n, w int }{{1, 1}, {2, 1}, {3, 2}, {17, 3}, {100, 1}, {70, 10}} {
		t.Run(fmt.Sprintf("%dx%d", tc.n, tc.w), func(t *testing.T) {
			sk, in := testList(t, tc.n, tc.w)
			st := testStatement(sk)
			out, p, err := Shuffle(rand.Reader, st, in)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(st, in, out, p); err != nil {
				t.Fatal(err)
			}
			// The output holds the same rows (as plaintexts), in some order,
			// every ciphertext re-encrypted.
			a, b := plaintexts(t, sk, in), plaintexts(t, sk, out)
			cmp := func(x, y []uint64) int { return slices.Compare(x, y) }
			slices.SortFunc(a, cmp)
			slices.SortFunc(b, cmp)
			if !slices.EqualFunc(a, b, slices.Equal) {
				t.Fatal("output rows are not a permutation of the input rows")
			}
			for i := 0; i < out.Len(); i++ {
				for j := 0; j < in.Len(); j++ {
					if bytes.Equal(out.ciphertextBytes(i, 0), in.ciphertextBytes(j, 0)) {
						t.Fatalf("output row %d was not re-encrypted", i)
					}
				}
			}
			// Encodings round trip.
			lb, _ := out.MarshalBinary()
			out2, err := ParseList(lb)
			if err != nil || !out2.Equal(out) {
				t.Fatalf("list round trip: %v", err)
			}
			p2, err := ParseProof(p.Bytes())
			if err != nil || !bytes.Equal(p2.Bytes(), p.Bytes()) {
				t.Fatalf("proof round trip: %v", err)
			}
			if len(p.Bytes()) != ProofSize(tc.n, tc.w) {
				t.Fatalf("proof size %d, want %d", len(p.Bytes()), ProofSize(tc.n, tc.w))
			}
			if err := Verify(st, in, out2, p2); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// reencryptRow returns row i of l re-encrypted (same plaintexts).
func reencryptRow(t *testing.T, pk *elgamal.PublicKey, l *List, i int, plusOne bool) []*elgamal.Ciphertext {
	t.Helper()
	row := l.Row(i)
	for k, c := range row {
		m := uint64(0)
		if plusOne && k == 0 {
			m = 1
		}
		z, _, err := elgamal.EncryptRand(pk, m, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		row[k] = elgamal.Add(c, z)
	}
	return row
}

func rowsOf(l *List) [][]*elgamal.Ciphertext {
	rows := make([][]*elgamal.Ciphertext, l.Len())
	for i := range rows {
		rows[i] = l.Row(i)
	}
	return rows
}

func mustList(t *testing.T, rows [][]*elgamal.Ciphertext) *List {
	t.Helper()
	l, err := NewList(rows)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestTamperedShuffleDetected changes a valid shuffle in every way a
// dishonest mix server could and checks that verification names it.
func TestTamperedShuffleDetected(t *testing.T) {
	const n, w = 8, 3
	sk, in := testList(t, n, w)
	pk := sk.PublicKey()
	st := testStatement(sk)
	out, p, err := Shuffle(rand.Reader, st, in)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := elgamal.GenerateKey(rand.Reader)

	type tamper struct {
		name    string
		st      *Statement
		in, out *List
		proof   []byte
		want    error
	}
	var cases []tamper
	add := func(name string, want error, f func(tc *tamper)) {
		tc := tamper{name: name, st: st, in: in, out: out, proof: p.Bytes(), want: want}
		f(&tc)
		cases = append(cases, tc)
	}
	add("changed ciphertext (another plaintext)", ErrInvalidProof, func(tc *tamper) {
		rows := rowsOf(out)
		rows[3] = reencryptRow(t, pk, out, 3, true)
		tc.out = mustList(t, rows)
	})
	add("re-encrypted row (same plaintext, not the proved one)", ErrInvalidProof, func(tc *tamper) {
		rows := rowsOf(out)
		rows[5] = reencryptRow(t, pk, out, 5, false)
		tc.out = mustList(t, rows)
	})
	add("two output rows swapped", ErrInvalidProof, func(tc *tamper) {
		rows := rowsOf(out)
		rows[1], rows[6] = rows[6], rows[1]
		tc.out = mustList(t, rows)
	})
	add("two ciphertexts of a row swapped", ErrInvalidProof, func(tc *tamper) {
		rows := rowsOf(out)
		rows[2][0], rows[2][1] = rows[2][1], rows[2][0]
		tc.out = mustList(t, rows)
	})
	add("row dropped", ErrShape, func(tc *tamper) {
		tc.out = mustList(t, rowsOf(out)[:n-1])
	})
	add("row duplicated in place of another", ErrInvalidProof, func(tc *tamper) {
		rows := rowsOf(out)
		rows[4] = rows[0]
		tc.out = mustList(t, rows)
	})
	add("row added", ErrShape, func(tc *tamper) {
		tc.out = mustList(t, append(rowsOf(out), out.Row(0)))
	})
	add("input changed", ErrInvalidProof, func(tc *tamper) {
		rows := rowsOf(in)
		rows[0] = reencryptRow(t, pk, in, 0, true)
		tc.in = mustList(t, rows)
	})
	add("other context", ErrInvalidProof, func(tc *tamper) {
		tc.st = &Statement{Key: pk, Label: st.Label, Context: []byte("other context")}
	})
	add("other generators", ErrInvalidProof, func(tc *tamper) {
		tc.st = &Statement{Key: pk, Label: "other", Context: st.Context}
	})
	add("other key", ErrInvalidProof, func(tc *tamper) {
		tc.st = &Statement{Key: other.PublicKey(), Label: st.Label, Context: st.Context}
	})
	// Every field of the proof, replaced by another valid element or scalar.
	fields := []struct {
		name   string
		offset int // in 32-byte units after the header
		scalar bool
	}{
		{"C_2", 2, false}, {"Ĉ_5", n + 5, false}, {"t_1", 2 * n, false}, {"t_2", 2*n + 1, false},
		{"t_3", 2*n + 2, false}, {"t_4α_1", 2*n + 3 + 1, false}, {"t_4β_2", 2*n + 3 + w + 2, false},
		{"t̂_7", 2*n + 3 + 2*w + 7, false},
		{"s_1", 3*n + 3 + 2*w, true}, {"s_2", 3*n + 4 + 2*w, true}, {"s_3", 3*n + 5 + 2*w, true},
		{"s_4,0", 3*n + 6 + 2*w, true}, {"ŝ_3", 3*n + 6 + 3*w + 3, true}, {"s'_6", 4*n + 6 + 3*w + 6, true},
	}
	for _, f := range fields {
		add("proof field "+f.name, ErrInvalidProof, func(tc *tamper) {
			var x []byte
			if f.scalar {
				x = enc.MarshalScalar(enc.G.HashToScalar([]byte(f.name), []byte("t")))
			} else {
				x = enc.MarshalElement(enc.G.HashToElement([]byte(f.name), []byte("t")))
			}
			copy(tc.proof[proofHeaderSize+32*f.offset:], x)
		})
	}
	add("proof of another shuffle of the same input", ErrInvalidProof, func(tc *tamper) {
		_, p2, err := Shuffle(rand.Reader, st, in)
		if err != nil {
			t.Fatal(err)
		}
		tc.proof = p2.Bytes()
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr, err := ParseProof(tc.proof)
			if err != nil {
				t.Fatalf("tampered proof does not parse: %v", err)
			}
			err = Verify(tc.st, tc.in, tc.out, pr)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	// The untampered shuffle still verifies (the cases above did not alias it).
	if err := Verify(st, in, out, p); err != nil {
		t.Fatal(err)
	}
}

// TestWrongWitness: a prover who re-encrypts with one permutation and
// proves with another, or uses other nonces, cannot make a proof that
// verifies.
func TestWrongWitness(t *testing.T) {
	const n, w = 6, 2
	sk, in := testList(t, n, w)
	st := testStatement(sk)
	psi, _ := randomPermutation(rand.Reader, n)
	rho, _ := randomScalars(rand.Reader, n*w)
	out := reencrypt(st, in, psi, rho)
	good, err := prove(rand.Reader, st, in, out, psi, rho)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(st, in, out, good); err != nil {
		t.Fatal(err)
	}
	psi2 := slices.Clone(psi)
	psi2[0], psi2[1] = psi2[1], psi2[0]
	rho2 := slices.Clone(rho)
	rho2[3].Add(&rho2[3], scalarOne())
	for name, pf := range map[string]func() (*Proof, error){
		"other permutation": func() (*Proof, error) { return prove(rand.Reader, st, in, out, psi2, rho) },
		"other nonces":      func() (*Proof, error) { return prove(rand.Reader, st, in, out, psi, rho2) },
	} {
		p, err := pf()
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(st, in, out, p); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("%s: Verify = %v", name, err)
		}
	}
}

func TestParseRejects(t *testing.T) {
	sk, in := testList(t, 3, 2)
	st := testStatement(sk)
	out, p, err := Shuffle(rand.Reader, st, in)
	if err != nil {
		t.Fatal(err)
	}
	lb, _ := out.MarshalBinary()
	pb := p.Bytes()
	nonCanonical := bytes.Repeat([]byte{0xff}, 32)
	identity := make([]byte, 32)
	mod := func(b []byte, off int, x []byte) []byte {
		c := slices.Clone(b)
		copy(c[off:], x)
		return c
	}
	for name, b := range map[string][]byte{
		"empty":              nil,
		"version":            mod(lb, 0, []byte{2}),
		"kind":               mod(lb, 1, []byte{kindProof}),
		"zero rows":          mod(lb, 2, []byte{0, 0, 0, 0}),
		"zero width":         mod(lb, 6, []byte{0, 0}),
		"width too large":    mod(lb, 6, []byte{0, MaxWidth + 1}),
		"truncated":          lb[:len(lb)-1],
		"trailing byte":      append(slices.Clone(lb), 0),
		"non-canonical α":    mod(lb, listHeaderSize, nonCanonical),
		"non-canonical β":    mod(lb, listHeaderSize+32, nonCanonical),
		"identity α":         mod(lb, listHeaderSize+64, identity),
		"more rows declared": mod(lb, 2, []byte{0, 0, 0, 4}),
	} {
		if _, err := ParseList(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseList(%s) = %v", name, err)
		}
	}
	if _, err := ParseList(mod(lb, listHeaderSize+32, identity)); err != nil {
		t.Errorf("identity β must be accepted: %v", err)
	}
	ell := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	for name, b := range map[string][]byte{
		"empty":               nil,
		"version":             mod(pb, 0, []byte{2}),
		"kind":                mod(pb, 1, []byte{kindList}),
		"rows":                mod(pb, 2, []byte{0, 0, 0, 4}),
		"width":               mod(pb, 6, []byte{0, 3}),
		"truncated":           pb[:len(pb)-1],
		"trailing byte":       append(slices.Clone(pb), 0),
		"non-canonical C_0":   mod(pb, proofHeaderSize, nonCanonical),
		"non-canonical t̂_2":  mod(pb, proofHeaderSize+32*(2*3+3+4+2), nonCanonical),
		"scalar s_1 = ℓ":      mod(pb, proofHeaderSize+32*(3*3+3+4), ell),
		"scalar s'_2 all one": mod(pb, len(pb)-32, nonCanonical),
	} {
		if _, err := ParseProof(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseProof(%s) = %v", name, err)
		}
	}
	// A proof for another shape is refused by Verify.
	_, in4 := testList(t, 4, 2)
	_, p4, _ := Shuffle(rand.Reader, st, in4)
	if err := Verify(st, in, out, p4); !errors.Is(err, ErrShape) {
		t.Errorf("proof of 4 rows for 3: %v", err)
	}
}

func TestRandomPermutationUniform(t *testing.T) {
	// All 6 permutations of 3 appear, in roughly equal numbers.
	counts := map[[3]int]int{}
	for range 6000 {
		p, err := randomPermutation(rand.Reader, 3)
		if err != nil {
			t.Fatal(err)
		}
		counts[[3]int(p)]++
	}
	if len(counts) != 6 {
		t.Fatalf("%d distinct permutations of 3", len(counts))
	}
	for k, v := range counts {
		if v < 800 || v > 1200 { // mean 1000, σ ≈ 29
			t.Errorf("permutation %v drawn %d times of 6000", k, v)
		}
	}
	if _, err := randomPermutation(bytes.NewReader(nil), 2); err == nil {
		t.Fatal("empty reader accepted")
	}
}

func TestGeneratorsIndependentOfCacheOrder(t *testing.T) {
	_, gs, sum := generators("cache-test", 5)
	_, gs10, sum10 := generators("cache-test", 10)
	var s ristretto255.Element
	s.Zero()
	for i := 0; i < 5; i++ {
		if gs[i].Equal(&gs10[i]) != 1 || gs[i].Equal(Generator("cache-test", uint32(i))) != 1 {
			t.Fatalf("generator %d differs", i)
		}
		s.Add(&s, &gs[i])
	}
	if s.Equal(sum) != 1 {
		t.Fatal("sum of generators")
	}
	for i := 5; i < 10; i++ {
		s.Add(&s, &gs10[i])
	}
	if s.Equal(sum10) != 1 {
		t.Fatal("sum of 10 generators")
	}
}

// TestConstantTimeMSM compares ctMSM and vtMSM with single multiplications
// by encoding (Equal is not enough: gtank's MultiScalarMult once returned a
// degenerate point, which Equal matches with any point).
func TestConstantTimeMSM(t *testing.T) {
	for _, n := range []int{1, 2, 5, 100, 2100} {
		s, _ := randomScalars(rand.Reader, n)
		p := make([]ristretto255.Element, n)
		want := ristretto255.NewElement().Zero()
		for i := range p {
			p[i].ScalarBaseMult(&s[(i+1)%n])
			var x ristretto255.Element
			want.Add(want, x.ScalarMult(&s[i], &p[i]))
		}
		w := want.Encode(nil)
		if got := ctMSM(scalarPtrs(s), elementPtrs(p)).Encode(nil); !bytes.Equal(got, w) {
			t.Fatalf("ctMSM(%d) differs", n)
		}
		if got := vtMSM(scalarPtrs(s), elementPtrs(p)).Encode(nil); !bytes.Equal(got, w) {
			t.Fatalf("vtMSM(%d) differs", n)
		}
	}
}
