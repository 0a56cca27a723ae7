package ranked

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/proof"
	"github.com/unionvote/eballot/crypto/shuffle"
)

func testContest(t testing.TB, n, minR, maxR int) (*elgamal.SecretKey, *Contest) {
	t.Helper()
	sk, err := elgamal.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sk, &Contest{ManifestHash: sha256.Sum256([]byte("manifest")), Key: sk.PublicKey(), Index: 2,
		Styles: 3, Candidates: n, MinRanked: minR, MaxRanked: maxR}
}

// decryptRanks decrypts R with the secret key (tests only).
func decryptRanks(t *testing.T, sk *elgamal.SecretKey, b *Ballot) []int {
	t.Helper()
	tab, _ := elgamal.NewTable(MaxCandidates)
	var out []int
	for _, r := range b.Ranks() {
		v, err := tab.Solve(sk.Decrypt(r))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, int(v))
	}
	return out
}

func TestEncryptVerifyDecode(t *testing.T) {
	sk, c := testContest(t, 6, 1, 6)
	for _, ranking := range [][]int{{0}, {5, 4, 3, 2, 1, 0}, {2, 0}, {1, 3, 5}, {4, 0, 1, 2, 3}} {
		t.Run(fmt.Sprint(ranking), func(t *testing.T) {
			b, op, err := c.Encrypt(rand.Reader, 1, ranking)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := b.MarshalBinary()
			if len(data) != c.Size() {
				t.Fatalf("size %d, Size() %d", len(data), c.Size())
			}
			b2, err := c.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Verify(b2); err != nil {
				t.Fatal(err)
			}
			if err := c.CheckAudit(b2, op); err != nil {
				t.Fatal(err)
			}
			ranks := decryptRanks(t, sk, b2)
			got, err := RankingOf(ranks, c.MinRanked, c.MaxRanked)
			if err != nil || !slices.Equal(got, ranking) {
				t.Fatalf("decrypted ranks %v → %v (%v), want %v", ranks, got, err, ranking)
			}
		})
	}
}

func TestEncryptRejectsBadRankings(t *testing.T) {
	_, c := testContest(t, 5, 2, 4)
	for name, r := range map[string][]int{
		"too few":       {1},
		"too many":      {0, 1, 2, 3, 4},
		"repeated":      {1, 1},
		"unknown":       {0, 5},
		"negative":      {-1, 0},
		"empty (min 2)": {},
	} {
		if _, _, err := c.Encrypt(rand.Reader, 0, r); !errors.Is(err, ErrBadChoice) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := c.Encrypt(rand.Reader, 3, []int{0, 1}); !errors.Is(err, ErrBadChoice) {
		t.Errorf("style out of range: %v", err)
	}
	for name, bad := range map[string]Contest{
		"one candidate": {Key: c.Key, Styles: 1, Candidates: 1, MinRanked: 1, MaxRanked: 1},
		"too many":      {Key: c.Key, Styles: 1, Candidates: MaxCandidates + 1, MinRanked: 1, MaxRanked: 1},
		"min > max":     {Key: c.Key, Styles: 1, Candidates: 4, MinRanked: 3, MaxRanked: 2},
		"max 0":         {Key: c.Key, Styles: 1, Candidates: 4, MinRanked: 0, MaxRanked: 0},
		"max > n":       {Key: c.Key, Styles: 1, Candidates: 4, MinRanked: 1, MaxRanked: 5},
		"no styles":     {Key: c.Key, Styles: 0, Candidates: 4, MinRanked: 1, MaxRanked: 4},
		"no key":        {Styles: 1, Candidates: 4, MinRanked: 1, MaxRanked: 4},
	} {
		if err := bad.Check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// rebuild replaces parts of a valid ballot and re-encodes it (tests).
func rebuild(c *Contest, b *Ballot, f func(*Ballot)) *Ballot {
	x := *b
	x.used = slices.Clone(b.used)
	x.ranks = slices.Clone(b.ranks)
	x.usedPf = slices.Clone(b.usedPf)
	x.stepPf = slices.Clone(b.stepPf)
	f(&x)
	x.encoding = c.encode(&x)
	return &x
}

// TestInvalidRankingsDetected builds ballots that encrypt invalid rankings
// (or valid ciphertexts with proofs that do not belong to them) and checks
// that verification rejects each one and names the proof that fails.
func TestInvalidRankingsDetected(t *testing.T) {
	_, c := testContest(t, 5, 1, 3)
	valid, _, err := c.Encrypt(rand.Reader, 0, []int{3, 1})
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := c.Encrypt(rand.Reader, 0, []int{0, 2, 4})
	enc01 := func(v uint64, values []uint32, option int) (*elgamal.Ciphertext, *proof.Proof) {
		ct, r, err := elgamal.EncryptRand(c.Key, v, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p, err := proof.Prove(rand.Reader, c.statement(0, uint16(option), values, ct), &proof.Witness{Value: uint32(v), Nonce: r})
		if err != nil {
			t.Fatal(err)
		}
		return ct, p
	}
	reenc := func(ct *elgamal.Ciphertext, plus uint64) *elgamal.Ciphertext {
		z, _, _ := elgamal.EncryptRand(c.Key, plus, rand.Reader)
		return elgamal.Add(ct, z)
	}
	cases := []struct {
		name, want string
		b          *Ballot
	}{
		{"two candidates with rank 1", "not a permutation", rebuild(c, valid, func(x *Ballot) {
			x.ranks[1] = reenc(x.ranks[3], 0) // candidate 1 gets candidate 3's rank 1
		})},
		{"a rank changed (rank 3 of 2)", "not a permutation", rebuild(c, valid, func(x *Ballot) {
			x.ranks[1] = reenc(x.ranks[1], 1)
		})},
		{"an unranked candidate given a rank", "not a permutation", rebuild(c, valid, func(x *Ballot) {
			x.ranks[0] = reenc(x.ranks[0], 3)
		})},
		{"ranks swapped after proving", "not a permutation", rebuild(c, valid, func(x *Ballot) {
			x.ranks[1], x.ranks[3] = x.ranks[3], x.ranks[1]
		})},
		{"a gap: positions 1 and 3 used, 2 not", "filled in order", rebuild(c, valid, func(x *Ballot) {
			x.used[1], x.usedPf[1] = enc01(0, []uint32{0, 1}, OptionUsed+1)
			x.used[2], x.usedPf[2] = enc01(1, []uint32{0, 1}, OptionUsed+2)
		})},
		{"more preferences than allowed (4 of max 3)", "position 4 in use", rebuild(c, valid, func(x *Ballot) {
			ct, _ := enc01(1, []uint32{0, 1}, OptionUsed+3)
			x.used[3] = ct // the proof of B_3 ∈ {0} was made for another ciphertext
		})},
		{"no preference (min 1)", "position 1 in use", rebuild(c, valid, func(x *Ballot) {
			x.used[0], _ = enc01(0, []uint32{0, 1}, OptionUsed)
		})},
		{"a position encrypting 2", "position 2 in use", rebuild(c, valid, func(x *Ballot) {
			x.used[1] = reenc(x.used[1], 1)
		})},
		{"ranking proof of another ballot", "not a permutation", rebuild(c, valid, func(x *Ballot) {
			x.shufPf = other.shufPf
		})},
		{"ranks of another ballot", "not a permutation", rebuild(c, valid, func(x *Ballot) {
			x.ranks = other.ranks
		})},
		{"style changed", "position 1 in use", rebuild(c, valid, func(x *Ballot) { x.Style = 2 })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, _ := tc.b.MarshalBinary()
			b, err := c.Parse(data)
			if err != nil {
				t.Fatalf("does not parse: %v", err)
			}
			err = c.Verify(b)
			if !errors.Is(err, ErrInvalidRanking) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v, want %q", err, tc.want)
			}
			t.Log(err)
			if bad := c.BatchVerify([]*Ballot{valid, b, other}); !slices.Equal(bad, []int{1}) {
				t.Fatalf("BatchVerify = %v", bad)
			}
		})
	}
	// The same ballot under another contest index, manifest or shape fails.
	data, _ := valid.MarshalBinary()
	for name, d := range map[string]Contest{
		"other contest": {ManifestHash: c.ManifestHash, Key: c.Key, Index: 3, Styles: 3, Candidates: 5, MinRanked: 1, MaxRanked: 3},
		"other shape":   {ManifestHash: c.ManifestHash, Key: c.Key, Index: 2, Styles: 3, Candidates: 5, MinRanked: 0, MaxRanked: 3},
	} {
		b, err := d.Parse(data)
		if err == nil {
			err = d.Verify(b)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	wrong := *c
	wrong.ManifestHash[0] ^= 1
	if _, err := wrong.Parse(data); !errors.Is(err, ErrWrongManifest) {
		t.Errorf("other manifest: %v", err)
	}
}

func TestAuditMismatch(t *testing.T) {
	_, c := testContest(t, 4, 1, 4)
	b, op, err := c.Encrypt(rand.Reader, 0, []int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	lie := *op
	lie.Ranking = []int{0, 2}
	if err := c.CheckAudit(b, &lie); !errors.Is(err, ErrAuditMismatch) {
		t.Fatalf("other ranking: %v", err)
	}
	lie = *op
	lie.RankNonces = slices.Clone(op.RankNonces)
	lie.RankNonces[1] = op.RankNonces[2]
	if err := c.CheckAudit(b, &lie); !errors.Is(err, ErrAuditMismatch) {
		t.Fatalf("other nonce: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	_, c := testContest(t, 4, 1, 4)
	b, _, err := c.Encrypt(rand.Reader, 1, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := b.MarshalBinary()
	mod := func(off int, x ...byte) []byte { d := slices.Clone(data); copy(d[off:], x); return d }
	nonCanonical := bytes.Repeat([]byte{0xff}, 32)
	for name, d := range map[string][]byte{
		"empty":            nil,
		"version":          mod(0, 2),
		"style":            mod(33, 0, 3),
		"contest":          mod(35, 0, 9),
		"candidates":       mod(37, 0, 5),
		"truncated":        data[:len(data)-1],
		"trailing":         append(slices.Clone(data), 0),
		"identity α of B0": mod(39, make([]byte, 32)...),
		"non-canonical R1": mod(39+4*64+64, nonCanonical...),
		"proof scalar":     mod(39+8*64+96, nonCanonical...),
		"shuffle header":   mod(len(data)-shuffle.ProofSize(4, 1), 9),
	} {
		if _, err := c.Parse(d); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func encodedPoint(v uint64) [32]byte {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(v >> (8 * i))
	}
	sc := ristretto255.NewScalar()
	if err := sc.Decode(s[:]); err != nil {
		panic(err)
	}
	var out [32]byte
	ristretto255.NewElement().ScalarBaseMult(sc).Encode(out[:0])
	return out
}

func TestDecodeStrict(t *testing.T) {
	_, c := testContest(t, 4, 1, 3) // one ciphertext of 4 digits base 5
	enc := func(ranks ...int) [][32]byte {
		v, p := uint64(0), uint64(1)
		for _, r := range ranks {
			v += uint64(r) * p
			p *= 5
		}
		return [][32]byte{encodedPoint(v)}
	}
	if r, err := c.Decode(enc(2, 0, 1, 0)); err != nil || !slices.Equal(r, []int{2, 0}) {
		t.Fatalf("Decode = %v, %v", r, err)
	}
	for name, pts := range map[string][][32]byte{
		"two rank 1":         enc(1, 1, 0, 0),
		"gap":                enc(1, 0, 3, 0),
		"no preference":      enc(0, 0, 0, 0),
		"four (max 3)":       enc(1, 2, 3, 4),
		"digit beyond n":     {encodedPoint(5 * 5 * 5 * 5)},
		"value not in table": {encodedPoint(1 << 21)},
		"not a point":        {{0xff}},
		"wrong width":        {encodedPoint(1), encodedPoint(0)},
	} {
		if _, err := c.Decode(pts); !errors.Is(err, ErrNotARanking) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
