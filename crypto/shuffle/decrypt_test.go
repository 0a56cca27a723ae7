package shuffle

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/internal/testceremony"
	"github.com/unionvote/eballot/crypto/threshold"
)

func encodedValue(v uint64) [32]byte {
	var b [32]byte
	var s [32]byte
	s[0], s[1], s[2] = byte(v), byte(v>>8), byte(v>>16)
	sc := ristretto255.NewScalar()
	if err := sc.Decode(s[:]); err != nil {
		panic(err)
	}
	ristretto255.NewElement().ScalarBaseMult(sc).Encode(b[:0])
	return b
}

// TestMixAndDecrypt: three trustees (2 of 3) each shuffle in turn, two of
// them decrypt the final list; the plaintext rows are the input rows.
// A wrong decryption is detected and names the trustee, row and column.
func TestMixAndDecrypt(t *testing.T) {
	keys, err := testceremony.Run("mix-test", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	mh := sha256.Sum256([]byte("manifest"))
	const n, w = 40, 2
	rows := make([][]*elgamal.Ciphertext, n)
	want := make([][2][32]byte, n)
	for i := range rows {
		for k := 0; k < w; k++ {
			c, _, err := elgamal.EncryptRand(keys.Key, uint64(100*i+k), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			rows[i] = append(rows[i], c)
			want[i][k] = encodedValue(uint64(100*i + k))
		}
	}
	in := mustList(t, rows)
	base := &Statement{Key: keys.Key, Label: "mix-test", Context: mh[:]}
	var mixes []Mix
	cur := in
	for round := 0; round < 3; round++ {
		out, p, err := Shuffle(rand.Reader, RoundStatement(base, round), cur)
		if err != nil {
			t.Fatal(err)
		}
		mixes = append(mixes, Mix{Output: out, Proof: p})
		cur = out
	}
	final, err := VerifyCascade(base, in, mixes)
	if err != nil {
		t.Fatal(err)
	}
	// A cascade with shuffles out of order names the first bad one.
	if _, err := VerifyCascade(base, in, []Mix{mixes[0], mixes[2], mixes[1]}); err == nil ||
		!strings.HasPrefix(err.Error(), "shuffle 2 of 3:") {
		t.Fatalf("reordered cascade: %v", err)
	}
	var pds []*PartialDecryption
	for _, j := range []int{1, 3} {
		pd, err := PartialDecrypt(rand.Reader, keys.Public, keys.Shares[j-1], mh[:], final)
		if err != nil {
			t.Fatal(err)
		}
		b, err := pd.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		pd2, err := ParsePartialDecryption(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := pd2.MarshalBinary()
		if !bytes.Equal(b, b2) {
			t.Fatal("partial decryption does not round trip")
		}
		pds = append(pds, pd2)
	}
	pts, err := Decrypt(keys.Public, mh[:], final, pds)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2][32]byte
	for _, r := range pts {
		got = append(got, [2][32]byte{r[0], r[1]})
	}
	cmp := func(a, b [2][32]byte) int {
		return bytes.Compare(append(a[0][:], a[1][:]...), append(b[0][:], b[1][:]...))
	}
	slices.SortFunc(got, cmp)
	slices.SortFunc(want, cmp)
	if !slices.Equal(got, want) {
		t.Fatal("decrypted rows are not the input rows")
	}

	// A trustee publishes a wrong D for row 7, column 1.
	bad := &PartialDecryption{Trustee: pds[1].Trustee, Parts: []*threshold.Partial{{
		ManifestHash: pds[1].Parts[0].ManifestHash, Trustee: pds[1].Trustee,
		D: slices.Clone(pds[1].Parts[0].D), Proofs: pds[1].Parts[0].Proofs}}}
	bad.Parts[0].D[7*w+1] = enc.G.NewElement().Add(bad.Parts[0].D[7*w+1], enc.G.Generator())
	_, err = Decrypt(keys.Public, mh[:], final, []*PartialDecryption{pds[0], bad})
	if !errors.Is(err, ErrBadDecryption) || !strings.Contains(err.Error(), "trustee 3, row 7, column 1") {
		t.Fatalf("wrong decryption: %v", err)
	}
	// Too few trustees, a repeated trustee, another manifest, another list.
	if _, err := Decrypt(keys.Public, mh[:], final, pds[:1]); !errors.Is(err, ErrBadDecryption) {
		t.Fatalf("one trustee: %v", err)
	}
	if _, err := Decrypt(keys.Public, mh[:], final, []*PartialDecryption{pds[0], pds[0]}); !errors.Is(err, ErrBadDecryption) {
		t.Fatalf("repeated trustee: %v", err)
	}
	other := sha256.Sum256([]byte("other manifest"))
	if _, err := Decrypt(keys.Public, other[:], final, pds); !errors.Is(err, ErrBadDecryption) {
		t.Fatalf("other manifest: %v", err)
	}
	if _, err := Decrypt(keys.Public, mh[:], mixes[1].Output, pds); !errors.Is(err, ErrBadDecryption) {
		t.Fatalf("decryption of another list: %v", err)
	}
}

func TestParsePartialDecryptionRejects(t *testing.T) {
	keys, err := testceremony.Run("mix-test", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, in := testList(t, 2, 1)
	pd, err := PartialDecrypt(rand.Reader, keys.Public, keys.Shares[0], make([]byte, 32), in)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pd.MarshalBinary()
	mod := func(off int, x ...byte) []byte { c := slices.Clone(b); copy(c[off:], x); return c }
	for name, x := range map[string][]byte{
		"empty":         nil,
		"kind":          mod(1, kindList),
		"trustee 0":     mod(2, 0, 0),
		"no parts":      mod(4, 0, 0, 0, 0),
		"more parts":    mod(4, 0, 0, 0, 2),
		"truncated":     b[:len(b)-1],
		"trailing":      append(slices.Clone(b), 0),
		"part length":   mod(8, 0xff, 0xff, 0xff, 0xff),
		"other trustee": mod(12+2+32, 0, 2),
	} {
		if _, err := ParsePartialDecryption(x); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
