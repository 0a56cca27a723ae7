package tally

import (
	"encoding/json"
	"errors"
	"fmt"

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
	// Check names the check of docs/protocol.md §8.2 that failed:
	// "partial.trustee", "partial.manifest", "partial.count" or
	// "partial.proof".
	Check string
	Err   error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("tally: partial decryption of trustee %d is wrong: %v", e.Trustee, e.Err)
}
func (e *PartialError) Unwrap() error { return e.Err }

// ErrNotEnough is returned when fewer than threshold valid partials from
// distinct trustees are available.
var ErrNotEnough = errors.New("tally: not enough valid partial decryptions")

// Counts is a decrypted tally: Values[i] is the number of marks for
// Positions[i]; Ballots[s] the number of ballots of style s. Positions are
// those of [Sums.Positions] except that a compact question's one sum is
// counted as its two options.
type Counts struct {
	Positions []Position
	Values    []uint64
	Ballots   []int64
	// Trustees lists the trustees whose partials were combined.
	Trustees []int
	// Paper are the paper votes per workplace ballot and channel, when the
	// ballot has a paper section (docs/protocol.md §10): Compute adds them
	// to the online counts and gives each channel.
	Paper []PaperTotals
	// ClosedAt is the time voting stopped as the ledger's signed close
	// states it (protocol version 4; verify.Result.ClosedAt), empty when
	// the close states none: Compute then takes the manifest's closes_at.
	ClosedAt string
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

// CheckPartials checks every partial against pub and the sums, in order
// (docs/protocol.md §8.2): a trustee of the manifest not seen before with a
// valid partial (partial.trustee), this manifest (partial.manifest), one
// decryption per sum the trustees decrypt (partial.count), every DLEQ
// proof (partial.proof). It returns the valid ones, in order, and one
// PartialError per rejected one.
func CheckPartials(pub *threshold.PublicKey, s *Sums, partials []*threshold.Partial) (good []*threshold.Partial, bad []*PartialError) {
	alphas := s.Alphas()
	mh := s.manifestHash
	seen := map[int]bool{}
	for i, p := range partials {
		switch {
		case p.Trustee < 1 || p.Trustee > len(pub.Shares):
			bad = append(bad, &PartialError{p.Trustee, i, "partial.trustee", fmt.Errorf("no trustee %d in the manifest", p.Trustee)})
		case seen[p.Trustee]:
			bad = append(bad, &PartialError{p.Trustee, i, "partial.trustee", errors.New("second partial from the same trustee")})
		case p.ManifestHash != mh:
			bad = append(bad, &PartialError{p.Trustee, i, "partial.manifest", errors.New("made for another manifest")})
		case len(p.D) != len(alphas):
			bad = append(bad, &PartialError{p.Trustee, i, "partial.count", fmt.Errorf("has %d decryptions, the tally needs %d (made from another set of ballots?)", len(p.D), len(alphas))})
		default:
			if err := threshold.VerifyPartial(pub, mh[:], alphas, p); err != nil {
				bad = append(bad, &PartialError{p.Trustee, i, "partial.proof", fmt.Errorf("DLEQ proof: %w", err)})
				continue
			}
			seen[p.Trustee] = true
			good = append(good, p)
		}
	}
	return good, bad
}

// Needed returns how many valid partials the tally needs: the threshold,
// or 0 when no sum needs the trustees (see [Sums.Decrypted]).
func Needed(pub *threshold.PublicKey, s *Sums) int {
	if len(s.Alphas()) == 0 {
		return 0
	}
	return pub.Threshold
}

// Decrypt checks every partial (see [CheckPartials]), combines the first
// [Needed] valid ones, and recovers each count by baby-step giant-step. A
// sum whose α is the identity is not decrypted by the trustees (its β is
// m·G in the clear, see [Sums.Decrypted]); when no sum needs them, no
// partial is needed and Counts.Trustees is empty. It returns the counts and
// one PartialError per rejected partial; the error is non-nil
// (ErrNotEnough) only when the valid partials are too few.
func Decrypt(pub *threshold.PublicKey, s *Sums, partials []*threshold.Partial) (*Counts, []*PartialError, error) {
	good, bad := CheckPartials(pub, s, partials)
	k := Needed(pub, s)
	if len(good) < k {
		return nil, bad, fmt.Errorf("%w: %d valid, %d needed", ErrNotEnough, len(good), pub.Threshold)
	}
	c, err := Combine(pub, s, good[:k])
	return c, bad, err
}

// Combine decrypts the sums with exactly the given partials: [Needed] of
// them, valid (see [CheckPartials]) and of distinct trustees.
func Combine(pub *threshold.PublicKey, s *Sums, set []*threshold.Partial) (*Counts, error) {
	cts := s.Ciphertexts()
	dec := s.Decrypted()
	alphas := s.Alphas()
	mh := s.manifestHash
	k := Needed(pub, s)
	if len(set) != k {
		return nil, fmt.Errorf("tally: %d partials given, %d needed", len(set), k)
	}
	var max int64 = 1
	for _, n := range s.ballots {
		max = maxInt(max, n)
	}
	table, err := elgamal.NewTable(uint64(max))
	if err != nil {
		return nil, fmt.Errorf("build table: %w", err)
	}
	var xa []group.Element
	if k > 0 {
		if xa, err = threshold.Combine(pub, mh[:], alphas, set); err != nil {
			return nil, fmt.Errorf("combine: %w", err)
		}
	}
	pos := s.Positions()
	var cpos []Position
	var vals []uint64
	pairs := map[int64]*elgamal.Table{} // compact questions' tables, by ballot count
	j := 0
	for i, c := range cts {
		M := c.Beta()
		if dec[i] {
			neg := group.Ristretto255.NewElement().Neg(xa[j])
			M.Add(M, neg)
			j++
		}
		p := pos[i]
		if s.shape[p.Question].Compact {
			// yes + B·no (protocol §4.2 version 3, §7), with yes, no ≤ n < B.
			n := s.ballots[p.Style]
			if pairs[n] == nil {
				if pairs[n], err = elgamal.NewPairTable(uint64(n), manifest.CompactBase); err != nil {
					return nil, fmt.Errorf("solve count %d: %d ballots of a compact question (at most %d): %w", i, n, manifest.CompactBase-1, err)
				}
			}
			v, err := pairs[n].Solve(M)
			if err != nil || v%manifest.CompactBase+v/manifest.CompactBase > uint64(n) {
				return nil, fmt.Errorf("solve count %d: %w", i, elgamal.ErrOutOfRange)
			}
			cpos = append(cpos, p, Position{p.Style, p.Question, 1})
			vals = append(vals, v%manifest.CompactBase, v/manifest.CompactBase)
			continue
		}
		v, err := table.Solve(M)
		if err != nil {
			return nil, fmt.Errorf("solve count %d: %w", i, err)
		}
		cpos = append(cpos, p)
		vals = append(vals, v)
	}
	ts := make([]int, k)
	for i, p := range set {
		ts[i] = p.Trustee
	}
	return &Counts{Positions: cpos, Values: vals, Ballots: s.Ballots(), Trustees: ts}, nil
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// CheckTrustees checks the manifest's trustees object: a valid threshold
// public key whose shares are consistent with the election key (see
// [threshold.PublicKey.Consistent]; check manifest.trustees of
// docs/protocol.md §8.2).
func CheckTrustees(m *manifest.Manifest) error {
	pk, err := TrusteeKey(m)
	if err != nil {
		return err
	}
	return pk.Consistent()
}
