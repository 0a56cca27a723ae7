// Package ballot implements the encrypted ballot of the eBallot protocol
// (docs/protocol.md §4): encryption with range proofs ([Election.Encrypt]),
// the canonical binary encoding (§4.2, [Election.Parse],
// [Ballot.MarshalBinary]), its JSON form ([Election.ParseJSON],
// [Ballot.MarshalJSON]), the tracker T and its short code (§4.3,
// [Ballot.Tracker], [ShortCode]), proof verification one at a time
// ([Election.Verify]) or in bulk ([Election.BatchVerify]) and the Benaloh
// cast-or-audit check (§4.4, [Election.CheckAudit]).
//
// What a verified ballot proves: it is bound to one manifest (its hash is in
// every proof transcript), every selection encrypts 0 or 1 under the
// election key, and every question's number of marks is between min and
// max (a compact question, version 3: its one ciphertext encrypts 0, 1 or
// [manifest.CompactBase], none or one of its two options). It does not prove who cast it (that is the blind-signature
// authorisation, protocol §5) nor that it was cast as intended (that is the
// Benaloh audit: the voter's device reveals an [Audit] for a ballot it will
// not cast, and anyone recomputes the encryption).
//
// What it assumes: the security of [elgamal] and [proof]; an honest
// randomness source for [Election.Encrypt] (crypto/rand in production).
//
// Start with [NewElection] for a validated manifest; the [Election] caches
// the manifest hash, election key and question shape.
package ballot

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"

	"github.com/cloudflare/circl/group"

	"github.com/unionvote/eballot/crypto/internal/par"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/proof"
	"github.com/unionvote/eballot/crypto/ranked"
)

// Ballot encoding versions (protocol §4.2): version 1 for a manifest of
// choose questions only, version 2 for a manifest with a ranked question
// (each ranked question carried as a crypto/ranked ballot, §9.1), version 3
// (protocol 7) for a manifest with a compact yes/no question (one
// ciphertext of 0, 1 or [manifest.CompactBase] and one proof a question).
const (
	Version  = 1
	Version2 = 2
	Version3 = 3
)

// CompactOption is the option index in the proof transcript of a compact
// question's one proof (protocol §4.1, §4.2 version 3).
const CompactOption = 0xfffe

// MaxSize is the bound on an encoded ballot (protocol §4.2).
const MaxSize = manifest.MaxBallotSize

var (
	// ErrMalformed is returned for a ballot encoding that is not the
	// canonical encoding of a ballot of this manifest's shape: other version,
	// style out of range, wrong counts or lengths, trailing bytes, a
	// non-canonical element or scalar, an identity α, more than [MaxSize]
	// bytes, or (JSON) unknown, missing or non-canonical fields.
	// The service maps it to 400.
	ErrMalformed = errors.New("ballot: malformed ballot")
	// ErrHint is returned by [Election.ParseHinted] when a decompression
	// hint (protocol §4.5) is not the one of its element: wrong length, not
	// canonical, the negative root or not a root.
	ErrHint = errors.New("ballot: wrong decompression hint")
	// ErrWrongManifest is returned when a ballot's manifest hash is not
	// this election's. The service maps it to 400.
	ErrWrongManifest = errors.New("ballot: ballot is for another manifest")
	// ErrBadProof is returned when a proof of the ballot does not verify.
	// The service maps it to 422.
	ErrBadProof = errors.New("ballot: invalid proof")
	// ErrInvalidChoices is returned by [Election.Encrypt] when the choices do
	// not fit the manifest (shape, 0/1 marks, min/max).
	ErrInvalidChoices = errors.New("ballot: invalid choices")
	// ErrAuditMismatch is returned by [Election.CheckAudit] when the
	// revealed plaintext and nonces do not reproduce the ballot.
	ErrAuditMismatch = errors.New("ballot: audit does not match ballot")
	// ErrInvalidRanking is returned (wrapped, naming the question and the
	// failing proof) for a ranked question whose proofs do not show a
	// valid ranking (crypto/ranked ErrInvalidRanking).
	ErrInvalidRanking = errors.New("ballot: invalid ranking")
)

// Election is a validated manifest prepared for ballot operations. It is
// immutable and safe for concurrent use.
type Election struct {
	m       *manifest.Manifest
	hash    [32]byte
	key     *elgamal.PublicKey
	shape   []manifest.QuestionShape
	sumVals [][]uint32
	size    int
	// version is the encoding version of this manifest's ballots;
	// contests[q] is question q's ranked contest (nil: a choose question).
	version  byte
	contests []*ranked.Contest
	// compact[q] is V of compact question q (nil: not compact).
	compact [][]uint32
}

// NewElection validates m and prepares it.
func NewElection(m *manifest.Manifest) (*Election, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	h, err := m.Hash()
	if err != nil {
		return nil, err
	}
	k, err := m.ElectionKey()
	if err != nil {
		return nil, err
	}
	e := &Election{m: m, hash: h, key: k, shape: m.Shape(), size: m.BallotSize(), version: Version,
		contests: make([]*ranked.Contest, len(m.Questions)), compact: make([][]uint32, len(m.Questions))}
	if m.HasRanked() {
		e.version = Version2
	}
	if m.HasCompact() {
		e.version = Version3
	}
	for qi, q := range e.shape {
		if q.Ranked {
			e.contests[qi] = &ranked.Contest{ManifestHash: h, Key: k, Index: uint16(qi), Styles: len(m.Styles),
				Candidates: q.Options, MinRanked: q.Min, MaxRanked: q.Max}
			if err := e.contests[qi].Check(); err != nil {
				return nil, fmt.Errorf("%w: questions[%d]: %w", manifest.ErrInvalid, qi, err)
			}
		}
		if q.Compact {
			e.compact[qi] = CompactValues(q.Min)
		}
		var v []uint32
		for x := q.Min; x <= q.Max; x++ {
			v = append(v, uint32(x))
		}
		e.sumVals = append(e.sumVals, v)
	}
	return e, nil
}

// CompactValues returns V of a compact question with the given min (0 or
// 1): the value of no mark (0, only when min is 0), of option 0 (1) and of
// option 1 ([manifest.CompactBase]), in that order (protocol §4.2).
func CompactValues(min int) []uint32 {
	if min == 0 {
		return []uint32{0, 1, manifest.CompactBase}
	}
	return []uint32{1, manifest.CompactBase}
}

// CompactValue returns the value a compact question's marks encrypt: 0 for
// none, 1 for option 0, [manifest.CompactBase] for option 1; false when
// marks is not two 0/1 marks with at most one set.
func CompactValue(marks []int) (uint32, bool) {
	if len(marks) != 2 {
		return 0, false
	}
	switch {
	case marks[0] == 0 && marks[1] == 0:
		return 0, true
	case marks[0] == 1 && marks[1] == 0:
		return 1, true
	case marks[0] == 0 && marks[1] == 1:
		return manifest.CompactBase, true
	}
	return 0, false
}

// Manifest returns the manifest (do not modify it).
func (e *Election) Manifest() *manifest.Manifest { return e.m }

// ManifestHash returns manifest_hash.
func (e *Election) ManifestHash() [32]byte { return e.hash }

// Key returns the election key K.
func (e *Election) Key() *elgamal.PublicKey { return e.key }

// BallotSize returns the exact size of an encoded ballot.
func (e *Election) BallotSize() int { return e.size }

// Version returns the encoding version of this election's ballots: 3 when
// the manifest has a compact question, else 2 when it has a ranked
// question, else 1.
func (e *Election) Version() int { return int(e.version) }

// Contest returns question q's ranked contest (crypto/ranked), or nil for
// a choose question or an index out of range.
func (e *Election) Contest(q int) *ranked.Contest {
	if q < 0 || q >= len(e.contests) {
		return nil
	}
	return e.contests[q]
}

// Ballot is an encrypted ballot (protocol §4.2).
type Ballot struct {
	// ManifestHash binds the ballot to its manifest.
	ManifestHash [32]byte
	// Style is the index into manifest.styles.
	Style uint16
	// Questions has one entry per manifest question, in order.
	Questions []Question
}

// Question is the encrypted answer to one question: Selections and
// SumProof for a choose question, Ranked for a ranked question (version 2),
// Compact for a compact question (version 3).
type Question struct {
	// Selections has one entry per option, in order.
	Selections []Selection
	// SumProof proves the sum of the selections is in [min … max].
	SumProof *proof.Proof
	// Ranked is the encrypted ranking of a ranked question (§9.1).
	Ranked *ranked.Ballot
	// Compact is a compact question's one ciphertext (of 0, 1 or
	// [manifest.CompactBase]) with its proof of [CompactValues] branches.
	Compact *Selection
}

// Ciphertexts returns the question's counted ciphertexts: a choose
// question's selections in order, a compact question's one ciphertext, none
// for a ranked question (its ciphertexts are crypto/ranked's).
func (q *Question) Ciphertexts() []*elgamal.Ciphertext {
	if q.Compact != nil {
		return []*elgamal.Ciphertext{q.Compact.Ciphertext}
	}
	cts := make([]*elgamal.Ciphertext, 0, len(q.Selections))
	for _, s := range q.Selections {
		cts = append(cts, s.Ciphertext)
	}
	return cts
}

// Selection is one option's encrypted 0/1 mark with its proof.
type Selection struct {
	Ciphertext *elgamal.Ciphertext
	Proof      *proof.Proof
}

// Audit is the opening of a ballot for a Benaloh audit (protocol §4.4): the
// marks and every selection nonce. It is secret until the voter chooses to
// audit; an audited ballot MUST NOT be cast.
type Audit struct {
	// Choices[q][o] is the 0/1 mark of option o of question q.
	Choices [][]int `json:"choices"`
	// Nonces[q][o] is the hex of the 32-byte nonce r of that selection;
	// for a compact question Nonces[q] is the one nonce of its ciphertext.
	Nonces [][]string `json:"nonces"`
	// Rankings[q] is the opening of ranked question q (nil for a choose
	// question; then Choices[q] is the ranking and Nonces[q] empty). Its
	// JSON form is not defined yet: a Go-side audit only.
	Rankings []*ranked.Opening `json:"-"`
}

// Encrypt encrypts choices (Choices[q][o] ∈ {0,1}, per question between min
// and max marks) for the given style index, proving every selection and
// sum. It returns the ballot and its [Audit] opening (secret). All
// randomness is read from rand (use crypto/rand.Reader).
func (e *Election) Encrypt(rand io.Reader, style int, choices [][]int) (*Ballot, *Audit, error) {
	if style < 0 || style >= len(e.m.Styles) {
		return nil, nil, fmt.Errorf("%w: style %d out of range", ErrInvalidChoices, style)
	}
	if len(choices) != len(e.shape) {
		return nil, nil, fmt.Errorf("%w: %d questions, want %d", ErrInvalidChoices, len(choices), len(e.shape))
	}
	for qi, q := range e.shape {
		if q.Ranked {
			continue // crypto/ranked checks the ranking
		}
		if len(choices[qi]) != q.Options {
			return nil, nil, fmt.Errorf("%w: question %d: %d options, want %d", ErrInvalidChoices, qi, len(choices[qi]), q.Options)
		}
		n := 0
		for _, c := range choices[qi] {
			if c != 0 && c != 1 {
				return nil, nil, fmt.Errorf("%w: question %d: mark not 0 or 1", ErrInvalidChoices, qi)
			}
			n += c
		}
		if n < q.Min || n > q.Max {
			return nil, nil, fmt.Errorf("%w: question %d: %d marks not in %d..%d", ErrInvalidChoices, qi, n, q.Min, q.Max)
		}
	}
	b := &Ballot{ManifestHash: e.hash, Style: uint16(style), Questions: make([]Question, len(e.shape))}
	a := &Audit{Choices: make([][]int, len(e.shape)), Nonces: make([][]string, len(e.shape))}
	for qi, q := range e.shape {
		if q.Ranked {
			rb, op, err := e.contests[qi].Encrypt(rand, style, choices[qi])
			if err != nil {
				return nil, nil, fmt.Errorf("%w: question %d: %w", ErrInvalidChoices, qi, err)
			}
			b.Questions[qi].Ranked = rb
			a.Choices[qi] = append([]int(nil), choices[qi]...)
			if a.Rankings == nil {
				a.Rankings = make([]*ranked.Opening, len(e.shape))
			}
			a.Rankings[qi] = op
			continue
		}
		if vals := e.compact[qi]; vals != nil {
			v, _ := CompactValue(choices[qi]) // checked above: two 0/1 marks, at most one
			ct, r, err := elgamal.EncryptRand(e.key, uint64(v), rand)
			if err != nil {
				return nil, nil, fmt.Errorf("ballot: encrypt: %w", err)
			}
			p, err := proof.Prove(rand, e.compactStatement(b, qi, ct), &proof.Witness{Value: v, Nonce: r})
			if err != nil {
				return nil, nil, fmt.Errorf("ballot: encrypt: %w", err)
			}
			b.Questions[qi].Compact = &Selection{ct, p}
			a.Choices[qi] = append([]int(nil), choices[qi]...)
			a.Nonces[qi] = []string{hex.EncodeToString(enc.MarshalScalar(r))}
			continue
		}
		rsum := enc.G.NewScalar()
		var cts []*elgamal.Ciphertext
		total := 0
		a.Choices[qi] = append([]int(nil), choices[qi]...)
		for oi := 0; oi < q.Options; oi++ {
			m := choices[qi][oi]
			total += m
			ct, r, err := elgamal.EncryptRand(e.key, uint64(m), rand)
			if err != nil {
				return nil, nil, fmt.Errorf("ballot: encrypt: %w", err)
			}
			st := e.statement(b, qi, oi, ct)
			p, err := proof.Prove(rand, st, &proof.Witness{Value: uint32(m), Nonce: r})
			if err != nil {
				return nil, nil, fmt.Errorf("ballot: encrypt: %w", err)
			}
			b.Questions[qi].Selections = append(b.Questions[qi].Selections, Selection{ct, p})
			a.Nonces[qi] = append(a.Nonces[qi], hex.EncodeToString(enc.MarshalScalar(r)))
			rsum.Add(rsum, r)
			cts = append(cts, ct)
		}
		sum := elgamal.Sum(cts...)
		p, err := proof.Prove(rand, e.sumStatement(b, qi, sum), &proof.Witness{Value: uint32(total), Nonce: rsum})
		if err != nil {
			return nil, nil, fmt.Errorf("ballot: encrypt: %w", err)
		}
		b.Questions[qi].SumProof = p
	}
	return b, a, nil
}

var zeroOne = []uint32{0, 1}

func (e *Election) statement(b *Ballot, q, o int, ct *elgamal.Ciphertext) *proof.Statement {
	return &proof.Statement{ManifestHash: e.hash[:], Key: e.key, Style: b.Style,
		Question: uint16(q), Option: uint16(o), Values: zeroOne, Ciphertext: ct}
}

func (e *Election) compactStatement(b *Ballot, q int, ct *elgamal.Ciphertext) *proof.Statement {
	return &proof.Statement{ManifestHash: e.hash[:], Key: e.key, Style: b.Style,
		Question: uint16(q), Option: CompactOption, Values: e.compact[q], Ciphertext: ct}
}

func (e *Election) sumStatement(b *Ballot, q int, sum *elgamal.Ciphertext) *proof.Statement {
	return &proof.Statement{ManifestHash: e.hash[:], Key: e.key, Style: b.Style,
		Question: uint16(q), Option: proof.SumOption, Values: e.sumVals[q], Ciphertext: sum}
}

// MarshalBinary returns the canonical binary encoding (protocol §4.2).
func (b *Ballot) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, 1024)
	out = append(out, b.version())
	out = append(out, b.ManifestHash[:]...)
	out = binary.BigEndian.AppendUint16(out, b.Style)
	if len(b.Questions) > 0xffff {
		return nil, ErrMalformed
	}
	out = binary.BigEndian.AppendUint16(out, uint16(len(b.Questions)))
	for _, q := range b.Questions {
		if q.Ranked != nil {
			if q.Selections != nil || q.SumProof != nil || q.Compact != nil {
				return nil, ErrMalformed
			}
			rb, _ := q.Ranked.MarshalBinary()
			out = append(out, rb...)
			continue
		}
		if q.Compact != nil {
			if q.Selections != nil || q.SumProof != nil || q.Compact.Ciphertext == nil || q.Compact.Proof == nil {
				return nil, ErrMalformed
			}
			out = append(out, q.Compact.Ciphertext.Bytes()...)
			out = append(out, q.Compact.Proof.Bytes()...)
			continue
		}
		if len(q.Selections) > 0xffff || q.SumProof == nil {
			return nil, ErrMalformed
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(q.Selections)))
		for _, s := range q.Selections {
			if s.Ciphertext == nil || s.Proof == nil {
				return nil, ErrMalformed
			}
			out = append(out, s.Ciphertext.Bytes()...)
			out = append(out, s.Proof.Bytes()...)
		}
		out = append(out, q.SumProof.Bytes()...)
	}
	return out, nil
}

// version is the encoding version of b: 3 when it has a compact question,
// else 2 when it has a ranked question.
func (b *Ballot) version() byte {
	v := byte(Version)
	for _, q := range b.Questions {
		if q.Compact != nil {
			return Version3
		}
		if q.Ranked != nil {
			v = Version2
		}
	}
	return v
}

// Parse strictly decodes a binary ballot of this election (protocol §4.2).
// It returns [ErrMalformed] or [ErrWrongManifest] (wrapped); it does not
// verify proofs (see [Election.Verify]).
func (e *Election) Parse(data []byte) (*Ballot, error) { return e.ParseHinted(data, nil) }

// HintsSize returns the size of a ballot's decompression hints
// (protocol §4.5): 32 bytes for each group element of the encoding.
func (e *Election) HintsSize() int { return e.elements() * enc.HintSize }

// elements counts the group elements of a ballot: per selection α, β and
// the proof's A_0, B_0, A_1, B_1; per question the sum proof's A_j, B_j;
// per compact question α, β and its proof's A_j, B_j.
func (e *Election) elements() int {
	n := 0
	for qi, q := range e.shape {
		if q.Ranked {
			continue // ranked parts carry no hints: decoded in full
		}
		if q.Compact {
			n += 2 + 2*len(e.compact[qi])
			continue
		}
		n += 6*q.Options + 2*len(e.sumVals[qi])
	}
	return n
}

// Hints returns the decompression hints of a ballot encoding of this
// election (protocol §4.5, the exporter's side): the inverse square root of
// each group element, in the order of the encoding. It returns the error
// [Election.Parse] would for a malformed ballot.
func (e *Election) Hints(data []byte) ([]byte, error) {
	if _, err := e.Parse(data); err != nil {
		return nil, err
	}
	out := make([]byte, 0, e.HintsSize())
	e.eachElement(data, func(el []byte) {
		h, err := enc.Hint(el)
		if err != nil {
			panic("ballot: hint of a parsed element: " + err.Error()) // unreachable
		}
		out = append(out, h...)
	})
	return out, nil
}

// eachElement calls f on every group element of a well-formed ballot
// encoding, in order.
func (e *Election) eachElement(data []byte, f func([]byte)) {
	p := data[37:]
	for qi, q := range e.shape {
		if q.Ranked {
			p = p[e.contests[qi].Size():]
			continue
		}
		if q.Compact {
			f(p[:32])
			f(p[32:64])
			for j := range e.compact[qi] {
				br := p[64+j*proof.BranchSize:]
				f(br[:32])
				f(br[32:64])
			}
			p = p[64+len(e.compact[qi])*proof.BranchSize:]
			continue
		}
		p = p[2:]
		for range q.Options {
			for k := 0; k < 2; k++ {
				f(p[32*k : 32*k+32])
			}
			for j := 0; j < 2; j++ {
				br := p[64+j*proof.BranchSize:]
				f(br[:32])
				f(br[32:64])
			}
			p = p[64+2*proof.BranchSize:]
		}
		for j := range e.sumVals[qi] {
			br := p[j*proof.BranchSize:]
			f(br[:32])
			f(br[32:64])
		}
		p = p[len(e.sumVals[qi])*proof.BranchSize:]
	}
}

// ParseHinted is [Election.Parse] with the ballot's decompression hints
// (protocol §4.5; nil decodes every element in full): the same ballots are
// accepted, as the same values. A ballot that [Election.Parse] refuses gets
// its error whatever the hints; one that it accepts, with hints that are
// not its own, gets [ErrHint] (wrapped, naming the first wrong hint).
func (e *Election) ParseHinted(data, hints []byte) (*Ballot, error) {
	b, err := e.parse(data, hints)
	if err != nil && errors.Is(err, ErrHint) {
		// A wrong hint, or an element that is itself wrong: decode in
		// full to tell them apart (only on failure).
		if _, perr := e.parse(data, nil); perr != nil {
			return nil, perr
		}
	}
	return b, err
}

func (e *Election) parse(data, hints []byte) (*Ballot, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrMalformed, len(data), MaxSize)
	}
	if len(data) < 37 {
		return nil, fmt.Errorf("%w: truncated header", ErrMalformed)
	}
	if data[0] != e.version {
		return nil, fmt.Errorf("%w: version %d, this manifest's ballots are version %d", ErrMalformed, data[0], e.version)
	}
	b := new(Ballot)
	copy(b.ManifestHash[:], data[1:33])
	if b.ManifestHash != e.hash {
		return nil, ErrWrongManifest
	}
	b.Style = binary.BigEndian.Uint16(data[33:35])
	if int(b.Style) >= len(e.m.Styles) {
		return nil, fmt.Errorf("%w: style %d out of range", ErrMalformed, b.Style)
	}
	if nq := int(binary.BigEndian.Uint16(data[35:37])); nq != len(e.shape) {
		return nil, fmt.Errorf("%w: %d questions, want %d", ErrMalformed, nq, len(e.shape))
	}
	if len(data) != e.size {
		// The layout is fixed by the manifest; report counts first if wrong.
		if err := e.checkCounts(data); err != nil {
			return nil, err
		}
		if len(data) > e.size {
			return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(data)-e.size)
		}
		return nil, fmt.Errorf("%w: truncated", ErrMalformed)
	}
	if hints != nil && len(hints) != e.HintsSize() {
		return nil, fmt.Errorf("%w: %d bytes of hints, want %d", ErrHint, len(hints), e.HintsSize())
	}
	hint := func(n int) []byte { // the next n elements' hints
		if hints == nil {
			return nil
		}
		h := hints[:n*enc.HintSize]
		hints = hints[n*enc.HintSize:]
		return h
	}
	p := data[37:]
	b.Questions = make([]Question, len(e.shape))
	for qi, q := range e.shape {
		if q.Ranked {
			c := e.contests[qi]
			rb, err := c.Parse(p[:c.Size()])
			if err != nil {
				return nil, fmt.Errorf("%w: question %d: %w", ErrMalformed, qi, err)
			}
			if rb.Style != b.Style {
				return nil, fmt.Errorf("%w: question %d: ranked part of style %d in a ballot of style %d", ErrMalformed, qi, rb.Style, b.Style)
			}
			b.Questions[qi] = Question{Ranked: rb}
			p = p[c.Size():]
			continue
		}
		if vals := e.compact[qi]; vals != nil {
			n := len(vals)
			ct, err := elgamal.ParseCiphertextHinted(p[:64], hint(2))
			if err != nil {
				return nil, parseError(fmt.Sprintf("question %d", qi), err)
			}
			pf, err := proof.ParseProofHinted(p[64:64+n*proof.BranchSize], n, hint(2*n))
			if err != nil {
				return nil, parseError(fmt.Sprintf("question %d", qi), err)
			}
			b.Questions[qi] = Question{Compact: &Selection{ct, pf}}
			p = p[64+n*proof.BranchSize:]
			continue
		}
		if no := int(binary.BigEndian.Uint16(p)); no != q.Options {
			return nil, fmt.Errorf("%w: question %d: %d options, want %d", ErrMalformed, qi, no, q.Options)
		}
		p = p[2:]
		sels := make([]Selection, q.Options)
		for oi := range sels {
			ct, err := elgamal.ParseCiphertextHinted(p[:64], hint(2))
			if err != nil {
				return nil, parseError(fmt.Sprintf("question %d option %d", qi, oi), err)
			}
			pf, err := proof.ParseProofHinted(p[64:64+2*proof.BranchSize], 2, hint(4))
			if err != nil {
				return nil, parseError(fmt.Sprintf("question %d option %d", qi, oi), err)
			}
			sels[oi] = Selection{ct, pf}
			p = p[64+2*proof.BranchSize:]
		}
		n := len(e.sumVals[qi])
		sp, err := proof.ParseProofHinted(p[:n*proof.BranchSize], n, hint(2*n))
		if err != nil {
			return nil, parseError(fmt.Sprintf("question %d sum", qi), err)
		}
		p = p[n*proof.BranchSize:]
		b.Questions[qi] = Question{Selections: sels, SumProof: sp}
	}
	return b, nil
}

// parseError wraps an element's decoding error: [ErrHint] for a wrong
// decompression hint, [ErrMalformed] otherwise.
func parseError(where string, err error) error {
	if errors.Is(err, enc.ErrHint) {
		return fmt.Errorf("%w: %s: %w", ErrHint, where, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrMalformed, where, err)
}

// checkCounts walks the option counts of a ballot of the wrong length.
func (e *Election) checkCounts(data []byte) error {
	off := 37
	for qi, q := range e.shape {
		if q.Ranked {
			off += e.contests[qi].Size()
			continue
		}
		if q.Compact {
			off += manifest.CompactSize(q.Min)
			continue
		}
		if off+2 > len(data) {
			return fmt.Errorf("%w: truncated", ErrMalformed)
		}
		if no := int(binary.BigEndian.Uint16(data[off:])); no != q.Options {
			return fmt.Errorf("%w: question %d: %d options, want %d", ErrMalformed, qi, no, q.Options)
		}
		off += 2 + q.Options*(64+2*proof.BranchSize) + len(e.sumVals[qi])*proof.BranchSize
	}
	return nil
}

// checkShape verifies a Ballot value (possibly built by hand) has this
// election's hash and shape.
func (e *Election) checkShape(b *Ballot) error {
	if b == nil {
		return ErrMalformed
	}
	if b.ManifestHash != e.hash {
		return ErrWrongManifest
	}
	if int(b.Style) >= len(e.m.Styles) || len(b.Questions) != len(e.shape) {
		return ErrMalformed
	}
	for qi, q := range e.shape {
		bq := b.Questions[qi]
		if q.Ranked {
			if bq.Ranked == nil || bq.Selections != nil || bq.SumProof != nil || bq.Compact != nil || bq.Ranked.Style != b.Style {
				return ErrMalformed
			}
			continue
		}
		if q.Compact {
			c := bq.Compact
			if c == nil || bq.Ranked != nil || bq.Selections != nil || bq.SumProof != nil ||
				c.Ciphertext == nil || c.Proof == nil || c.Proof.Branches() != len(e.compact[qi]) {
				return ErrMalformed
			}
			continue
		}
		if bq.Ranked != nil || bq.Compact != nil || len(bq.Selections) != q.Options || bq.SumProof == nil || bq.SumProof.Branches() != len(e.sumVals[qi]) {
			return ErrMalformed
		}
		for _, s := range bq.Selections {
			if s.Ciphertext == nil || s.Proof == nil || s.Proof.Branches() != 2 {
				return ErrMalformed
			}
		}
	}
	return nil
}

// statements lists every proof of b with its statement, selections first
// then the sum proof, question by question.
func (e *Election) statements(b *Ballot, sts []*proof.Statement, ps []*proof.Proof) ([]*proof.Statement, []*proof.Proof) {
	for qi, q := range b.Questions {
		if q.Ranked != nil {
			continue // crypto/ranked's proofs: [Election.verifyRanked]
		}
		if q.Compact != nil {
			sts = append(sts, e.compactStatement(b, qi, q.Compact.Ciphertext))
			ps = append(ps, q.Compact.Proof)
			continue
		}
		cts := make([]*elgamal.Ciphertext, len(q.Selections))
		for oi, s := range q.Selections {
			sts = append(sts, e.statement(b, qi, oi, s.Ciphertext))
			ps = append(ps, s.Proof)
			cts[oi] = s.Ciphertext
		}
		st := e.sumStatement(b, qi, elgamal.Sum(cts...))
		st.Parts = cts // lets the batch verifier fold the sum into the selections
		sts = append(sts, st)
		ps = append(ps, q.SumProof)
	}
	return sts, ps
}

// Verify checks b's manifest hash, shape and every proof. It returns
// [ErrWrongManifest], [ErrMalformed] or [ErrBadProof] (wrapped, naming the
// question and option).
func (e *Election) Verify(b *Ballot) error {
	if err := e.checkShape(b); err != nil {
		return err
	}
	sts, ps := e.statements(b, nil, nil)
	for i := range sts {
		if err := proof.Verify(sts[i], ps[i]); err != nil {
			st := sts[i]
			if st.Option == proof.SumOption {
				return fmt.Errorf("%w: question %d sum: %w", ErrBadProof, st.Question, err)
			}
			if st.Option == CompactOption {
				return fmt.Errorf("%w: question %d: %w", ErrBadProof, st.Question, err)
			}
			return fmt.Errorf("%w: question %d option %d: %w", ErrBadProof, st.Question, st.Option, err)
		}
	}
	for qi, q := range b.Questions {
		if q.Ranked != nil {
			if err := e.contests[qi].Verify(q.Ranked); err != nil {
				return e.rankingError(qi, err)
			}
		}
	}
	return nil
}

// rankingError names the ranked question whose proofs fail.
func (e *Election) rankingError(qi int, err error) error {
	return fmt.Errorf("%w: question %d (%s): %w", ErrInvalidRanking, qi, e.m.Questions[qi].ID, err)
}

// RankingError returns the error of [Election.Verify] for a ballot whose
// ranked question q fails (for callers that verify ranked parts in bulk).
func (e *Election) RankingError(q int) error {
	return e.rankingError(q, ranked.ErrInvalidRanking)
}

// batchWindow is the number of ballots whose proof statements
// [Election.BatchVerify] materialises at a time (a variable for tests).
var batchWindow = 4096

// BatchVerify verifies many ballots at once with the batch verifier of
// [proof.BatchVerify] (random linear combination, chunked, on all cores) and
// returns the sorted indices of the ballots that fail [Election.Verify]
// (nil if none does). Statements are built 4096 ballots at a time;
// to bound memory for a whole election, decode and verify the ledger in
// slices (e.g. 10,000 ballots) rather than holding every decoded ballot.
func (e *Election) BatchVerify(bs []*Ballot) []int {
	return e.BatchVerifyN(bs, 0)
}

// BatchVerifyN is [Election.BatchVerify] on at most procs goroutines
// (procs ≤ 0 means GOMAXPROCS); a pipeline that verifies one slice of
// ballots per core passes 1.
func (e *Election) BatchVerifyN(bs []*Ballot, procs int) []int {
	if procs <= 0 {
		procs = runtime.GOMAXPROCS(0)
	}
	var out []int
	for lo := 0; lo < len(bs); lo += batchWindow {
		hi := min(lo+batchWindow, len(bs))
		window := bs[lo:hi]
		bad := make([]bool, len(window))
		perSt := make([][]*proof.Statement, len(window))
		perP := make([][]*proof.Proof, len(window))
		// Building a statement sums and encodes ciphertexts: do it on all
		// cores too.
		par.N(len(window), procs, func(i int) {
			if e.checkShape(window[i]) != nil {
				bad[i] = true
				return
			}
			perSt[i], perP[i] = e.statements(window[i], nil, nil)
		})
		var sts []*proof.Statement
		var ps []*proof.Proof
		var owner []int
		for i := range window {
			sts = append(sts, perSt[i]...)
			ps = append(ps, perP[i]...)
			for range perSt[i] {
				owner = append(owner, i)
			}
		}
		for _, k := range proof.BatchVerifyN(sts, ps, procs) {
			bad[owner[k]] = true
		}
		// Ranked parts: crypto/ranked's batch verifier, per question.
		for qi, c := range e.contests {
			if c == nil {
				continue
			}
			var rbs []*ranked.Ballot
			var rowner []int
			for i, b := range window {
				if !bad[i] {
					rbs = append(rbs, b.Questions[qi].Ranked)
					rowner = append(rowner, i)
				}
			}
			for _, k := range c.BatchVerify(rbs) {
				bad[rowner[k]] = true
			}
		}
		for i, b := range bad {
			if b {
				out = append(out, lo+i)
			}
		}
	}
	return out
}

// CheckAudit checks a Benaloh audit (protocol §4.4): every selection
// ciphertext must equal (r·G, m·G + r·K) for the revealed mark m ∈ {0,1} and
// nonce r. It returns [ErrAuditMismatch] or [ErrMalformed] (wrapped). It
// does not check the proofs or min/max (use [Election.Verify]).
func (e *Election) CheckAudit(b *Ballot, a *Audit) error {
	if err := e.checkShape(b); err != nil {
		return err
	}
	if a == nil || len(a.Choices) != len(b.Questions) || len(a.Nonces) != len(b.Questions) {
		return fmt.Errorf("%w: audit shape", ErrMalformed)
	}
	for qi, q := range b.Questions {
		if q.Ranked != nil {
			if qi >= len(a.Rankings) || a.Rankings[qi] == nil {
				return fmt.Errorf("%w: audit of question %d has no ranking opening", ErrMalformed, qi)
			}
			if err := e.contests[qi].CheckAudit(q.Ranked, a.Rankings[qi]); err != nil {
				return fmt.Errorf("%w: question %d: %w", ErrAuditMismatch, qi, err)
			}
			continue
		}
		if q.Compact != nil {
			v, ok := CompactValue(a.Choices[qi])
			if !ok || len(a.Nonces[qi]) != 1 {
				return fmt.Errorf("%w: question %d: not one or no mark of two, with one nonce", ErrMalformed, qi)
			}
			r, err := auditNonce(a.Nonces[qi][0])
			if err != nil {
				return err
			}
			if err := elgamal.CheckEncryption(e.key, q.Compact.Ciphertext, uint64(v), r); err != nil {
				return fmt.Errorf("%w: question %d", ErrAuditMismatch, qi)
			}
			continue
		}
		if len(a.Choices[qi]) != len(q.Selections) || len(a.Nonces[qi]) != len(q.Selections) {
			return fmt.Errorf("%w: audit shape", ErrMalformed)
		}
		for oi, s := range q.Selections {
			m := a.Choices[qi][oi]
			if m != 0 && m != 1 {
				return fmt.Errorf("%w: question %d option %d: mark not 0 or 1", ErrAuditMismatch, qi, oi)
			}
			r, err := auditNonce(a.Nonces[qi][oi])
			if err != nil {
				return err
			}
			if err := elgamal.CheckEncryption(e.key, s.Ciphertext, uint64(m), r); err != nil {
				return fmt.Errorf("%w: question %d option %d", ErrAuditMismatch, qi, oi)
			}
		}
	}
	return nil
}

// auditNonce decodes an audit's nonce: lowercase hex of a canonical scalar.
func auditNonce(h string) (group.Scalar, error) {
	rb, err := hex.DecodeString(h)
	if err != nil || hex.EncodeToString(rb) != h {
		return nil, fmt.Errorf("%w: nonce not lowercase hex", ErrMalformed)
	}
	r, err := enc.DecodeScalar(rb)
	if err != nil {
		return nil, fmt.Errorf("%w: nonce: %w", ErrMalformed, err)
	}
	return r, nil
}

// Tracker returns T = SHA-256("ballot-v1" ‖ manifest_hash ‖ ballot_bytes)
// (protocol §4.3).
func (b *Ballot) Tracker() ([32]byte, error) {
	bb, err := b.MarshalBinary()
	if err != nil {
		return [32]byte{}, err
	}
	return TrackerOf(b.ManifestHash, bb), nil
}

// TrackerOf computes T from a manifest hash and canonical ballot bytes.
func TrackerOf(manifestHash [32]byte, ballotBytes []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("ballot-v1"))
	h.Write(manifestHash[:])
	h.Write(ballotBytes)
	var t [32]byte
	h.Sum(t[:0])
	return t
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ShortCode returns the human form of a tracker (protocol §4.3): the first
// 10 bytes of T in Crockford base32, most significant bit first, 16
// characters in four groups of four joined by "-".
func ShortCode(t [32]byte) string {
	out := make([]byte, 0, 19)
	var acc uint64
	for _, c := range t[:5] {
		acc = acc<<8 | uint64(c)
	}
	var acc2 uint64
	for _, c := range t[5:10] {
		acc2 = acc2<<8 | uint64(c)
	}
	k := 0
	for _, a := range []uint64{acc, acc2} {
		for i := 7; i >= 0; i-- {
			if k > 0 && k%4 == 0 {
				out = append(out, '-')
			}
			out = append(out, crockford[(a>>(5*uint(i)))&31])
			k++
		}
	}
	return string(out)
}

// ParseAll decodes many binary ballots on all cores with [Election.Parse].
// errs[i] is the error for data[i] (nil if it decoded); errs is nil when
// every ballot decoded.
func (e *Election) ParseAll(data [][]byte) (bs []*Ballot, errs []error) {
	return e.ParseAllHinted(data, nil)
}

// ParseAllHinted is [Election.ParseAll] with [Election.ParseHinted]:
// hints[i] are data[i]'s decompression hints (hints nil: none).
func (e *Election) ParseAllHinted(data, hints [][]byte) (bs []*Ballot, errs []error) {
	bs = make([]*Ballot, len(data))
	all := make([]error, len(data))
	var failed atomic.Bool
	par.For(len(data), func(i int) {
		var h []byte
		if hints != nil {
			h = hints[i]
		}
		if bs[i], all[i] = e.ParseHinted(data[i], h); all[i] != nil {
			failed.Store(true)
		}
	})
	if failed.Load() {
		return bs, all
	}
	return bs, nil
}
