package stv

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Rule names a published STV rule set. A count is a pure function of the
// rule and the [Election] (the decrypted ballots, seats, withdrawn
// candidates and the lot order), so anyone can re-run it.
type Rule string

const (
	// ERS97 is the Electoral Reform Society's rules, "How to conduct an
	// election by the Single Transferable Vote", 3rd edition (1997),
	// sections 5.1–5.6: votes in hundredths, last-parcel surplus transfers,
	// deferred surpluses, bulk exclusion, exclusions batch by batch.
	ERS97 Rule = "ers97"
	// Meek is Meek's method as the Proportional Representation
	// Foundation's "Reference Meek Rule" specifies it (after Hill, Wichmann
	// and Woodall, Algorithm 123, Computer Journal 30(3), 1987): fixed-point
	// decimal arithmetic with 9 places, keep factors rounded up, ω = 10^-6.
	Meek Rule = "meek"
)

// Limits of an [Election].
const (
	MaxCandidates = 1024
	MaxSeats      = MaxCandidates - 1
	// MaxPapers bounds the total number of ballot papers (weights).
	MaxPapers = 1 << 31
)

// ErrInvalidElection is returned by [Count] for an election it cannot count
// (no candidates, seats out of range, a ballot naming an unknown
// candidate twice, a lot order that is not a permutation). Maps to HTTP 400.
var ErrInvalidElection = errors.New("stv: invalid election")

// Ballot is one or more identical ballot papers: Weight papers ranking the
// candidates Prefs (0-based indices) in order of preference. A paper
// with no preference is counted as invalid (ERS97 6.9: no first
// preference) and takes no part in the count.
type Ballot struct {
	Weight int
	Prefs  []int
}

// Election is what a count needs.
type Election struct {
	// Candidates is the number of candidates; Names (optional) their names.
	Candidates int
	Names      []string
	// Seats is the number of places to fill.
	Seats int
	// Withdrawn candidates take no part: preferences for them are skipped.
	Withdrawn []int
	Ballots   []Ballot
	// Lot is the result of drawing lots, done once before the count: every
	// candidate, in the order drawn. A tie that the rule settles by lot
	// (ERS97 5.2.3 and 5.2.5, Meek T) is settled by choosing, among the
	// tied candidates, the one drawn first, for whatever the rule is
	// choosing: the candidate to exclude (defeat), or the surplus to
	// transfer first. Nil means the candidates in index order (as OpenSTV's
	// and Droop's default tie order); see [LotFromSeed].
	Lot []int
}

// LotFromSeed draws the lot order from a public seed: the candidates
// sorted by SHA-256("eballot-v1/stv/lot" ‖ lp(seed) ‖ u32(candidate))
// (ties, which need a hash collision, by index). A seed fixed before the
// ballots are known (for example the manifest hash and the hash of the
// final mixed list) makes the lot reproducible by anyone.
func LotFromSeed(seed []byte, candidates int) []int {
	type key struct {
		h [32]byte
		c int
	}
	ks := make([]key, candidates)
	for c := range ks {
		m := []byte("eballot-v1/stv/lot")
		m = binary.BigEndian.AppendUint32(m, uint32(len(seed)))
		m = append(m, seed...)
		m = binary.BigEndian.AppendUint32(m, uint32(c))
		ks[c] = key{sha256.Sum256(m), c}
	}
	slices.SortFunc(ks, func(a, b key) int {
		if d := strings.Compare(string(a.h[:]), string(b.h[:])); d != 0 {
			return d
		}
		return a.c - b.c
	})
	out := make([]int, candidates)
	for i, k := range ks {
		out[i] = k.c
	}
	return out
}

func (e *Election) validate() error {
	if e == nil || e.Candidates < 1 || e.Candidates > MaxCandidates {
		return fmt.Errorf("%w: need 1 to %d candidates", ErrInvalidElection, MaxCandidates)
	}
	if e.Names != nil && len(e.Names) != e.Candidates {
		return fmt.Errorf("%w: %d names for %d candidates", ErrInvalidElection, len(e.Names), e.Candidates)
	}
	withdrawn := make([]bool, e.Candidates)
	for _, c := range e.Withdrawn {
		if c < 0 || c >= e.Candidates || withdrawn[c] {
			return fmt.Errorf("%w: withdrawn candidate %d", ErrInvalidElection, c)
		}
		withdrawn[c] = true
	}
	if e.Seats < 1 || e.Seats > e.Candidates-len(e.Withdrawn) || e.Seats > MaxSeats {
		return fmt.Errorf("%w: %d seats for %d standing candidates", ErrInvalidElection, e.Seats, e.Candidates-len(e.Withdrawn))
	}
	var papers int64
	for i, b := range e.Ballots {
		if b.Weight < 1 {
			return fmt.Errorf("%w: ballot %d has weight %d", ErrInvalidElection, i, b.Weight)
		}
		papers += int64(b.Weight)
		if papers > MaxPapers {
			return fmt.Errorf("%w: more than %d papers", ErrInvalidElection, int64(MaxPapers))
		}
		seen := make(map[int]bool, len(b.Prefs))
		for _, c := range b.Prefs {
			if c < 0 || c >= e.Candidates || seen[c] {
				return fmt.Errorf("%w: ballot %d ranks candidate %d twice or does not exist", ErrInvalidElection, i, c)
			}
			seen[c] = true
		}
	}
	if e.Lot != nil {
		if len(e.Lot) != e.Candidates {
			return fmt.Errorf("%w: lot order lists %d of %d candidates", ErrInvalidElection, len(e.Lot), e.Candidates)
		}
		seen := make([]bool, e.Candidates)
		for _, c := range e.Lot {
			if c < 0 || c >= e.Candidates || seen[c] {
				return fmt.Errorf("%w: lot order is not a permutation", ErrInvalidElection)
			}
			seen[c] = true
		}
	}
	return nil
}

// lotRank returns each candidate's position in the lot order.
func (e *Election) lotRank() []int {
	r := make([]int, e.Candidates)
	for i := range r {
		r[i] = i
	}
	if e.Lot != nil {
		for i, c := range e.Lot {
			r[c] = i
		}
	}
	return r
}

// Count counts the election under rule.
func Count(rule Rule, e *Election) (*Result, error) {
	if err := e.validate(); err != nil {
		return nil, err
	}
	switch rule {
	case ERS97:
		return countERS97(e), nil
	case Meek:
		return countMeek(e), nil
	}
	return nil, fmt.Errorf("%w: unknown rule %q", ErrInvalidElection, rule)
}

// Value is a fixed-point decimal number of votes with the count's number
// of decimal places (ERS97: 2, Meek: 9).
type Value int64

// format writes v with places decimals.
func (v Value) format(places int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(int64(v), 10)
	for len(s) <= places {
		s = "0" + s
	}
	s = s[:len(s)-places] + "." + s[len(s)-places:]
	if neg {
		s = "-" + s
	}
	return s
}

// State is a candidate's state after a stage.
type State string

// Candidate states.
const (
	Continuing State = "continuing" // ERS97 "continuing", Meek "hopeful"
	Elected    State = "elected"
	Excluded   State = "excluded" // ERS97 excluded, Meek defeated
	Withdrawn  State = "withdrawn"
)

// Stage is one stage of a count (ERS97: a stage or one batch of an
// exclusion; Meek: a round), with everything needed to print the result
// sheet. Vote values are decimal strings with the rule's places.
type Stage struct {
	// Number is the stage number (1 = first preferences); Batch numbers
	// the batches of an ERS97 exclusion (1, 2, …; 0 otherwise).
	Number int `json:"stage"`
	Batch  int `json:"batch,omitempty"`
	// Action is "first", "surplus", "exclusion" (ERS97), "round" (Meek) or
	// "end" (remaining candidates deemed elected or excluded).
	Action string `json:"action"`
	// From lists the candidates whose surplus is transferred or who are
	// excluded at this stage; TransferValue is the value of each paper
	// transferred (ERS97).
	From          []int  `json:"from,omitempty"`
	TransferValue string `json:"transfer_value,omitempty"`
	// Votes[c] is candidate c's vote at the end of the stage; States[c]
	// its state.
	Votes  []string `json:"votes"`
	States []State  `json:"states"`
	// KeepFactors (Meek) are the candidates' keep factors.
	KeepFactors []string `json:"keep_factors,omitempty"`
	// Exhausted is the value of papers with no further preference
	// (ERS97: non-transferable papers; Meek: the weight left on ballots);
	// Remainder (ERS97) the non-transferable difference from neglected
	// remainders and surpluses with too few transferable papers. Their sum
	// is the non-transferable vote.
	Exhausted string `json:"exhausted"`
	Remainder string `json:"remainder,omitempty"`
	// Quota is the quota in force at the end of the stage; Surplus (Meek)
	// the total surplus.
	Quota   string `json:"quota"`
	Surplus string `json:"surplus,omitempty"`
	// Elected and Excluded list the candidates deemed elected or excluded
	// (Meek: defeated) at this stage, in that order.
	Elected  []int `json:"elected,omitempty"`
	Excluded []int `json:"excluded,omitempty"`
	// Notes records every decision a tie forced, and deferred surpluses.
	Notes []string `json:"notes,omitempty"`
}

// Result is a count: the stages and the candidates elected, in order of
// election.
type Result struct {
	Rule       Rule    `json:"rule"`
	Candidates int     `json:"candidates"`
	Seats      int     `json:"seats"`
	Decimals   int     `json:"decimals"`
	Valid      int64   `json:"valid_papers"`
	Invalid    int64   `json:"invalid_papers"`
	Stages     []Stage `json:"stages"`
	Elected    []int   `json:"elected"`
}
