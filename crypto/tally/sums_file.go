package tally

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gtank/ristretto255"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/elgamal"
)

// SumsFile is the serialised form of [Sums] in a verified state file
// (docs/protocol.md §8.4): the manifest hash, the ballots summed per style
// and, per style with at least one ballot, the summed ciphertexts α ‖ β in
// hex, flattened over questions and options. A summed α may be the identity
// (nonces can cancel), so these are not ballot ciphertexts and are decoded
// here, not by [elgamal.ParseCiphertext].
type SumsFile struct {
	ManifestHash string     `json:"manifest_hash"`
	Ballots      []int64    `json:"ballots"`
	Sums         [][]string `json:"sums"` // [style][flat(q,o)], null for a style without ballots
}

// File returns the serialised form of s.
func (s *Sums) File() SumsFile {
	f := SumsFile{ManifestHash: hex.EncodeToString(s.manifestHash[:]), Ballots: append([]int64{}, s.ballots...), Sums: make([][]string, len(s.ballots))}
	for st := range s.ballots {
		if s.ballots[st] == 0 || s.alpha[st] == nil {
			continue
		}
		row := make([]string, s.width)
		for k := range s.width {
			row[k] = hex.EncodeToString(elgamal.FromElements(s.alpha[st][k], s.beta[st][k]).Bytes())
		}
		f.Sums[st] = row
	}
	return f
}

// ErrSumsFile is the error of [ParseSumsFile].
var ErrSumsFile = errors.New("tally: sums in the state file")

// ParseSumsFile rebuilds the sums of election e from f, strictly: the same
// manifest hash, one count per style, canonical group elements, sums exactly
// for the styles with ballots.
func ParseSumsFile(e *ballot.Election, f SumsFile) (*Sums, error) {
	s := NewSums(e)
	if mh := hex.EncodeToString(s.manifestHash[:]); f.ManifestHash != mh {
		return nil, fmt.Errorf("%w: manifest hash %s, the election's is %s", ErrSumsFile, f.ManifestHash, mh)
	}
	if len(f.Ballots) != len(s.ballots) || len(f.Sums) != len(s.ballots) {
		return nil, fmt.Errorf("%w: %d counts and %d rows for %d workplace ballots", ErrSumsFile, len(f.Ballots), len(f.Sums), len(s.ballots))
	}
	for st, n := range f.Ballots {
		if n < 0 {
			return nil, fmt.Errorf("%w: workplace ballot %d: negative count", ErrSumsFile, st)
		}
		if (n == 0) != (f.Sums[st] == nil) {
			return nil, fmt.Errorf("%w: workplace ballot %d: %d ballots but sums present=%v", ErrSumsFile, st, n, f.Sums[st] != nil)
		}
		s.ballots[st] = n
		if n == 0 {
			continue
		}
		if len(f.Sums[st]) != s.width {
			return nil, fmt.Errorf("%w: workplace ballot %d: %d sums, the manifest has %d options", ErrSumsFile, st, len(f.Sums[st]), s.width)
		}
		s.alpha[st] = make([]*ristretto255.Element, s.width)
		s.beta[st] = make([]*ristretto255.Element, s.width)
		for k, h := range f.Sums[st] {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != elgamal.CiphertextSize || hex.EncodeToString(b) != h {
				return nil, fmt.Errorf("%w: workplace ballot %d, sum %d: not %d bytes of lower-case hex", ErrSumsFile, st, k, elgamal.CiphertextSize)
			}
			s.alpha[st][k], s.beta[st][k] = ristretto255.NewElement(), ristretto255.NewElement()
			if s.alpha[st][k].Decode(b[:32]) != nil || s.beta[st][k].Decode(b[32:]) != nil {
				return nil, fmt.Errorf("%w: workplace ballot %d, sum %d: not a group element", ErrSumsFile, st, k)
			}
		}
	}
	return s, nil
}
