package ranked

import (
	"fmt"
	"sync"

	"github.com/unionvote/eballot/crypto/internal/par"

	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/proof"
	"github.com/unionvote/eballot/crypto/shuffle"
)

// PackBound bounds the plaintext of one packed ciphertext: the mix input
// packs several candidates' ranks into one ciphertext as digits in base
// n+1, as many as keep the value below 2^20 (protocol §9.5), so a
// decrypted value is found in a table of at most 2^20 points.
const PackBound = 1 << 20

// DigitsPerCiphertext returns d, the number of ranks packed into one
// ciphertext of the mix input: with d_max the largest d with
// (n+1)^d ≤ PackBound and w = ⌈n / d_max⌉ ciphertexts a ballot, the
// candidates are spread evenly, d = ⌈n / w⌉ (so the decryption table,
// (n+1)^d points, is as small as the width allows).
func (c *Contest) DigitsPerCiphertext() int {
	dmax, v := 0, 1
	for v*(c.Candidates+1) <= PackBound {
		v *= c.Candidates + 1
		dmax++
	}
	w := (c.Candidates + dmax - 1) / dmax
	return (c.Candidates + w - 1) / w
}

// MixWidth returns the number of ciphertexts of a ballot in the mix:
// ⌈n / d⌉.
func (c *Contest) MixWidth() int {
	d := c.DigitsPerCiphertext()
	return (c.Candidates + d - 1) / d
}

// MixInput returns the list the first trustee shuffles: row i is ballot
// i's ranks packed (protocol §9.5): column m is Σ_{c = m·d}^{min(n, (m+1)·d)−1}
// (n+1)^{c−m·d}·R_c, computed homomorphically (anyone recomputes it from
// the verified ballots).
func (c *Contest) MixInput(ballots []*Ballot) (*shuffle.List, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if len(ballots) == 0 {
		return nil, fmt.Errorf("ranked: no ballots to mix")
	}
	n, d, w := c.Candidates, c.DigitsPerCiphertext(), c.MixWidth()
	rows := make([][]*elgamal.Ciphertext, len(ballots))
	var firstErr error
	var mu sync.Mutex
	par.For(len(ballots), func(i int) {
		b := ballots[i]
		row := make([]*elgamal.Ciphertext, w)
		for m := 0; m < w; m++ {
			lo, hi := m*d, min(n, (m+1)*d)
			var a, bb ristretto255.Element
			a0, b0 := b.ranks[hi-1].Fast()
			a, bb = *a0, *b0
			for cand := hi - 2; cand >= lo; cand-- {
				mulSmall(&a, n+1)
				mulSmall(&bb, n+1)
				ra, rb := b.ranks[cand].Fast()
				a.Add(&a, ra)
				bb.Add(&bb, rb)
			}
			ct, err := elgamal.ParseCiphertext(append(a.Encode(nil), bb.Encode(nil)...))
			if err != nil { // an identity α: probability about 2^-252
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("ranked: ballot %d packs to an identity α", i)
				}
				mu.Unlock()
				return
			}
			row[m] = ct
		}
		rows[i] = row
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return shuffle.NewList(rows)
}

// MixLabel is the generator label of the mix (protocol §9.5).
const MixLabel = "eballot-v1/mix"

// MixStatement returns the base statement of the contest's mix cascade:
// label MixLabel, context manifest_hash ‖ u16 contest; trustee t shuffles
// under shuffle.RoundStatement(base, t).
func (c *Contest) MixStatement() *shuffle.Statement {
	ctx := append(c.ManifestHash[:0:0], c.ManifestHash[:]...)
	ctx = append(ctx, byte(c.Index>>8), byte(c.Index))
	return &shuffle.Statement{Key: c.Key, Label: MixLabel, Context: ctx}
}

// mulSmall sets p = m·p by double-and-add (public values only).
func mulSmall(p *ristretto255.Element, m int) {
	var acc ristretto255.Element
	acc.Zero()
	for bit := 62; bit >= 0; bit-- {
		acc.Add(&acc, &acc)
		if m>>bit&1 == 1 {
			acc.Add(&acc, p)
		}
	}
	*p = acc
}

// packTable maps the encoding of v·G to v for 0 ≤ v < (n+1)^d.
type packTable struct {
	once sync.Once
	m    map[[32]byte]uint32
}

var packTables sync.Map // n → *packTable

func (c *Contest) table() map[[32]byte]uint32 {
	v, _ := packTables.LoadOrStore(c.Candidates, &packTable{})
	t := v.(*packTable)
	t.once.Do(func() {
		size := 1
		for range c.DigitsPerCiphertext() {
			size *= c.Candidates + 1
		}
		t.m = make(map[[32]byte]uint32, size)
		var p, g ristretto255.Element
		p.Zero()
		g.Base()
		for v := 0; v < size; v++ {
			var k [32]byte
			p.Encode(k[:0])
			t.m[k] = uint32(v)
			p.Add(&p, &g)
		}
	})
	return t.m
}

// ErrNotARanking is returned by [Contest.Decode] when decrypted values are
// not a valid packed ranking; with verified ballots, mixes and decryptions
// this cannot happen. Maps to HTTP 422.
var ErrNotARanking = fmt.Errorf("ranked: decrypted ballot is not a valid ranking")

// Decode turns the decrypted points of one mixed row (m·G for each of the
// MixWidth columns, 32-byte encodings) into the ranking it encodes:
// candidates in order of preference. It checks strictly that every value
// is a packed rank vector whose non-zero ranks are exactly 1 … k once each
// with MinRanked ≤ k ≤ MaxRanked.
func (c *Contest) Decode(points [][32]byte) ([]int, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	n, d, w := c.Candidates, c.DigitsPerCiphertext(), c.MixWidth()
	if len(points) != w {
		return nil, fmt.Errorf("%w: %d values, want %d", ErrNotARanking, len(points), w)
	}
	tab := c.table()
	ranks := make([]int, n)
	for m := 0; m < w; m++ {
		v, ok := tab[points[m]]
		if !ok {
			return nil, fmt.Errorf("%w: column %d is not a packed rank vector", ErrNotARanking, m)
		}
		for cand := m * d; cand < min(n, (m+1)*d); cand++ {
			ranks[cand] = int(v % uint32(n+1))
			v /= uint32(n + 1)
		}
		if v != 0 {
			return nil, fmt.Errorf("%w: column %d has digits beyond its candidates", ErrNotARanking, m)
		}
	}
	return RankingOf(ranks, c.MinRanked, c.MaxRanked)
}

// RankingOf turns ranks per candidate (1 … k, 0 = unranked) into the
// ranking, checking that the non-zero ranks are exactly 1 … k with
// min ≤ k ≤ max.
func RankingOf(ranks []int, minRanked, maxRanked int) ([]int, error) {
	k := 0
	for _, r := range ranks {
		if r != 0 {
			k++
		}
	}
	if k < minRanked || k > maxRanked {
		return nil, fmt.Errorf("%w: %d preferences (need %d to %d)", ErrNotARanking, k, minRanked, maxRanked)
	}
	ranking := make([]int, k)
	for i := range ranking {
		ranking[i] = -1
	}
	for cand, r := range ranks {
		if r == 0 {
			continue
		}
		if r < 0 || r > k || ranking[r-1] >= 0 {
			return nil, fmt.Errorf("%w: rank %d repeated or out of range", ErrNotARanking, r)
		}
		ranking[r-1] = cand
	}
	return ranking, nil
}

// BatchVerify verifies many ballots of the contest on all cores and
// returns the indices of those that fail (nil if all pass). The range
// proofs are checked together (crypto/proof batch verification) and each
// ballot's ranking proof on its own.
func (c *Contest) BatchVerify(ballots []*Ballot) []int {
	if c.Check() != nil {
		all := make([]int, len(ballots))
		for i := range all {
			all[i] = i
		}
		return all
	}
	bad := make([]bool, len(ballots))
	var sts []*proof.Statement
	var ps []*proof.Proof
	var owner []int
	for i, b := range ballots {
		s, p, _, err := c.statements(b)
		if err != nil {
			bad[i] = true
			continue
		}
		sts = append(sts, s...)
		ps = append(ps, p...)
		for range s {
			owner = append(owner, i)
		}
	}
	for _, x := range proof.BatchVerify(sts, ps) {
		bad[owner[x]] = true
	}
	par.For(len(ballots), func(i int) {
		if !bad[i] && c.verifyShuffle(ballots[i]) != nil {
			bad[i] = true
		}
	})
	var out []int
	for i, b := range bad {
		if b {
			out = append(out, i)
		}
	}
	return out
}
