// Package tally computes the tally of an eBallot election from verified
// ballots (docs/protocol.md §7–8): the homomorphic sums per ballot style,
// question and option (Sums), their threshold decryption from the trustees'
// partial decryptions (Decrypt, naming any trustee whose partial is wrong),
// and the statutory result per TULRCA s.231 (Compute).
//
// What a tally proves: with k valid partials (each with a DLEQ proof against
// the trustee's public share from the key ceremony), the counts are the
// plaintexts of the sums of the ciphertexts of the ballots that were summed.
// That those ballots are exactly the ledger's valid entries is the job of
// crypto/verify, which builds the Sums while verifying an export.
package tally

import (
	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/manifest"
)

// Position names one counted option: style, question and option indices.
// A compact question (protocol §4.2 version 3) has one sum, at option 0,
// which decrypts to yes + B·no; [Counts] has both options.
type Position struct {
	Style, Question, Option int
}

// Sums holds the homomorphic sum of the selections of a set of ballots, per
// style, question and option, and the number of ballots per style.
// It is not safe for concurrent use.
type Sums struct {
	manifestHash [32]byte
	shape        []manifest.QuestionShape
	ballots      []int64
	alpha, beta  [][]*ristretto255.Element // [style][flat(q,o)]
	width        int
}

// NewSums returns empty sums for the election's manifest.
func NewSums(e *ballot.Election) *Sums {
	m := e.Manifest()
	s := &Sums{manifestHash: e.ManifestHash(), shape: m.Shape(), ballots: make([]int64, len(m.Styles))}
	for _, q := range s.shape {
		switch {
		case q.Ranked: // ranked questions go to the mix (§9), not the tally
		case q.Compact:
			s.width++ // one sum of yes + B·no
		default:
			s.width += q.Options
		}
	}
	s.alpha = make([][]*ristretto255.Element, len(m.Styles))
	s.beta = make([][]*ristretto255.Element, len(m.Styles))
	return s
}

// Add adds a ballot (which the caller has verified) to its style's sums.
func (s *Sums) Add(b *ballot.Ballot) {
	st := int(b.Style)
	if s.alpha[st] == nil {
		s.alpha[st] = make([]*ristretto255.Element, s.width)
		s.beta[st] = make([]*ristretto255.Element, s.width)
		for i := range s.width {
			s.alpha[st][i] = ristretto255.NewElement()
			s.beta[st][i] = ristretto255.NewElement()
		}
	}
	k := 0
	for _, q := range b.Questions {
		if c := q.Compact; c != nil {
			a, be := c.Ciphertext.Fast()
			s.alpha[st][k].Add(s.alpha[st][k], a)
			s.beta[st][k].Add(s.beta[st][k], be)
			k++
			continue
		}
		for _, sel := range q.Selections {
			a, be := sel.Ciphertext.Fast()
			s.alpha[st][k].Add(s.alpha[st][k], a)
			s.beta[st][k].Add(s.beta[st][k], be)
			k++
		}
	}
	s.ballots[st]++
}

// ManifestHash returns the manifest hash the sums are bound to.
func (s *Sums) ManifestHash() [32]byte { return s.manifestHash }

// Ballots returns the number of ballots summed per style.
func (s *Sums) Ballots() []int64 { return append([]int64(nil), s.ballots...) }

// Positions lists the sums to decrypt, in order: every style with at least
// one ballot, then every question, then every option (a compact question:
// its one sum, at option 0). A style without ballots has nothing to
// decrypt (all its counts are 0).
func (s *Sums) Positions() []Position {
	var ps []Position
	for st := range s.ballots {
		if s.ballots[st] == 0 {
			continue
		}
		for q, sh := range s.shape {
			if sh.Ranked {
				continue
			}
			if sh.Compact {
				ps = append(ps, Position{st, q, 0})
				continue
			}
			for o := range sh.Options {
				ps = append(ps, Position{st, q, o})
			}
		}
	}
	return ps
}

// Ciphertexts returns the summed ciphertexts at Positions, in order. A sum
// may have the identity as α: ballots' nonces can cancel (two colluding
// voters who use r and −r), and that is no reason to refuse a count
// (docs/protocol.md §7, "Sums whose α is the identity").
func (s *Sums) Ciphertexts() []*elgamal.Ciphertext {
	var cs []*elgamal.Ciphertext
	for st := range s.ballots {
		if s.ballots[st] == 0 {
			continue
		}
		for k := range s.width {
			cs = append(cs, elgamal.FromElements(s.alpha[st][k], s.beta[st][k]))
		}
	}
	return cs
}

// Decrypted reports, for each position (in the order of Positions), whether
// the trustees decrypt it: every position whose summed α is not the
// identity. A sum with the identity as α is m·G = β in the clear and needs
// no trustee.
func (s *Sums) Decrypted() []bool {
	cs := s.Ciphertexts()
	out := make([]bool, len(cs))
	for i, c := range cs {
		a, _ := c.Fast()
		out[i] = a.Equal(identity) != 1
	}
	return out
}

var identity = ristretto255.NewElement()

// Alphas returns what the trustees partially decrypt: α of every summed
// ciphertext at Positions whose α is not the identity, in order (possibly
// none: then no partial decryption is needed).
func (s *Sums) Alphas() []group.Element {
	var as []group.Element
	dec := s.Decrypted()
	for i, c := range s.Ciphertexts() {
		if dec[i] {
			as = append(as, c.Alpha())
		}
	}
	return as
}
