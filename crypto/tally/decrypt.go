package tally

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cloudflare/circl/group"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/threshold"
)

// TrusteeKey returns the trustees' public key of the manifest (its
// "trustees" object as a threshold.PublicKey).
func TrusteeKey(m *manifest.Manifest) (*threshold.PublicKey, error) {
	b, err := json.Marshal(m.Trustees)
	if err != nil {
		return nil, fmt.Errorf("encode trustees: %w", err)
	}
	var pk threshold.PublicKey
	if err := pk.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("decode trustees: %w", err)
	}
	return &pk, nil
}

// PartialError names a trustee whose partial decryption was rejected.
type PartialError struct {
	Trustee int // 1-based trustee index as claimed by the partial
	File    int // position of the partial in the list given to Decrypt
	Err     error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("tally: partial decryption of trustee %d is wrong: %v", e.Trustee, e.Err)
}
func (e *PartialError) Unwrap() error { return e.Err }

// ErrNotEnough is returned when fewer than threshold valid partials from
// distinct trustees are available.
var ErrNotEnough = errors.New("tally: not enough valid partial decryptions")

// Counts is a decrypted tally: Values[i] is the number of marks for
// Positions[i]; Ballots[s] the number of ballots of style s.
type Counts struct {
	Positions []Position
	Values    []uint64
	Ballots   []int64
	// Trustees lists the trustees whose partials were combined.
	Trustees []int
	// Paper are the paper votes per workplace ballot and channel, when the
	// ballot has a paper section (docs/protocol.md §9): Compute adds them
	// to the online counts and gives each channel.
	Paper []PaperTotals
}

func (c *Counts) paperOf(style int, channel string) PaperTotals {
	for _, p := range c.Paper {
		if p.Style == style && p.Channel == channel {
			return p
		}
	}
	return PaperTotals{Style: style, Channel: channel}
}

func (c *Counts) rejectedOf(style int) *Rejected {
	for _, p := range c.Paper {
		if p.Style == style && p.Rejected != nil {
			r := *p.Rejected
			return &r
		}
	}
	return &Rejected{}
}

// Count returns the count at style, question and option (0 for a style
// without ballots).
func (c *Counts) Count(style, question, option int) uint64 {
	for i, p := range c.Positions {
		if p == (Position{style, question, option}) {
			return c.Values[i]
		}
	}
	return 0
}

// Decrypt checks every partial against pub and the sums (DLEQ proofs, the
// manifest hash, one partial per trustee), combines the first pub.Threshold
// valid ones, recovers each count by baby-step giant-step, and checks that
// every other valid partial agrees. It returns the counts and one
// PartialError per rejected partial; the error is non-nil (ErrNotEnough) only
// when the valid partials are too few.
func Decrypt(pub *threshold.PublicKey, s *Sums, partials []*threshold.Partial) (*Counts, []*PartialError, error) {
	cts, err := s.Ciphertexts()
	if err != nil {
		return nil, nil, err
	}
	alphas := make([]group.Element, len(cts))
	for i, c := range cts {
		alphas[i] = c.Alpha()
	}
	mh := s.manifestHash
	var bad []*PartialError
	var good []*threshold.Partial
	seen := map[int]bool{}
	for i, p := range partials {
		switch {
		case p.Trustee < 1 || p.Trustee > len(pub.Shares):
			bad = append(bad, &PartialError{p.Trustee, i, fmt.Errorf("no trustee %d in the manifest", p.Trustee)})
		case seen[p.Trustee]:
			bad = append(bad, &PartialError{p.Trustee, i, errors.New("second partial from the same trustee")})
		case p.ManifestHash != mh:
			bad = append(bad, &PartialError{p.Trustee, i, errors.New("made for another manifest")})
		case len(p.D) != len(alphas):
			bad = append(bad, &PartialError{p.Trustee, i, fmt.Errorf("has %d decryptions, the tally needs %d (made from another set of ballots?)", len(p.D), len(alphas))})
		default:
			if err := threshold.VerifyPartial(pub, mh[:], alphas, p); err != nil {
				bad = append(bad, &PartialError{p.Trustee, i, fmt.Errorf("DLEQ proof: %w", err)})
				continue
			}
			seen[p.Trustee] = true
			good = append(good, p)
		}
	}
	if len(good) < pub.Threshold {
		return nil, bad, fmt.Errorf("%w: %d valid, %d needed", ErrNotEnough, len(good), pub.Threshold)
	}
	var max int64 = 1
	for _, n := range s.ballots {
		max = maxInt(max, n)
	}
	table, err := elgamal.NewTable(uint64(max))
	if err != nil {
		return nil, bad, fmt.Errorf("build table: %w", err)
	}
	solve := func(set []*threshold.Partial) ([]uint64, error) {
		xa, err := threshold.Combine(pub, mh[:], alphas, set)
		if err != nil {
			return nil, fmt.Errorf("combine: %w", err)
		}
		vals := make([]uint64, len(cts))
		for i, c := range cts {
			M := group.Ristretto255.NewElement()
			M.Neg(xa[i])
			M.Add(c.Beta(), M)
			v, err := table.Solve(M)
			if err != nil {
				return nil, fmt.Errorf("solve count %d: %w", i, err)
			}
			vals[i] = v
		}
		return vals, nil
	}
	k := pub.Threshold
	vals, err := solve(good[:k])
	if err != nil {
		return nil, bad, err
	}
	// Every other valid partial must give the same counts (it does when the
	// DLEQ proofs hold; this is a cheap cross-check of the combination).
	for _, p := range good[k:] {
		set := append(slices.Clone(good[:k-1]), p)
		v2, err := solve(set)
		if err != nil || !slices.Equal(v2, vals) {
			bad = append(bad, &PartialError{p.Trustee, -1, errors.New("combination with it gives other counts")})
		}
	}
	ts := make([]int, k)
	for i, p := range good[:k] {
		ts[i] = p.Trustee
	}
	return &Counts{Positions: s.Positions(), Values: vals, Ballots: s.Ballots(), Trustees: ts}, bad, nil
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
