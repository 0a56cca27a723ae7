package ranked

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/group"
	"github.com/gtank/ristretto255"
	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/proof"
	"github.com/unionvote/eballot/crypto/shuffle"
)

// Protocol constants (protocol §9.1).
const (
	// Version is the ranked-ballot encoding version.
	Version = 1
	// MaxCandidates bounds n (a ballot of 64 candidates is about 51 KB).
	MaxCandidates = 64
	// GeneratorLabel is the label of the shuffle generators of the ballot
	// proof (crypto/shuffle).
	GeneratorLabel = "eballot-v1/ranked"
	// OptionUsed is the option code of the range proof of b_j, the proof
	// for position j being OptionUsed + j; OptionStep + j is the proof of
	// b_j − b_{j+1} (protocol §9.1: codes outside the selection range
	// 0 … 63 and the sum code 0xffff of §4.1).
	OptionUsed = 0x8000
	OptionStep = 0x9000
	// contextTag starts the Fiat–Shamir context of the ballot's shuffle proof.
	contextTag = "eballot-v1/ranked-ballot"
)

var (
	// ErrMalformed is returned for an encoding that is not the canonical
	// encoding of a ranked ballot of this contest (other version, style,
	// contest or candidate count, wrong length, a non-canonical element or
	// scalar, an identity α). Maps to HTTP 400.
	ErrMalformed = errors.New("ranked: malformed ballot")
	// ErrWrongManifest is returned when the ballot names another manifest
	// hash. Maps to HTTP 400.
	ErrWrongManifest = errors.New("ranked: ballot is for another manifest")
	// ErrInvalidRanking is returned (wrapped, naming the proof that fails)
	// when the ballot's proofs do not show a valid ranking. Maps to HTTP 422.
	ErrInvalidRanking = errors.New("ranked: ballot does not prove a valid ranking")
	// ErrBadChoice is returned by [Contest.Encrypt] for a ranking that does
	// not fit the contest (repeated or unknown candidate, too few or too
	// many preferences).
	ErrBadChoice = errors.New("ranked: ranking does not fit the contest")
	// ErrAuditMismatch is returned by [Contest.CheckAudit] when an opening
	// does not reproduce the ballot.
	ErrAuditMismatch = errors.New("ranked: audit does not match ballot")
)

// Contest is one ranked contest of an election: where it is (manifest
// hash, contest index, number of ballot styles), the election key, the
// number of candidates and how many preferences a voter may express.
type Contest struct {
	ManifestHash [32]byte
	Key          *elgamal.PublicKey
	// Index is the contest's position among the manifest's questions.
	Index uint16
	// Styles is the number of ballot styles; a ballot's style is < Styles.
	Styles int
	// Candidates is n, 2 ≤ n ≤ MaxCandidates.
	Candidates int
	// MinRanked and MaxRanked bound the number of preferences:
	// 0 ≤ MinRanked ≤ MaxRanked ≤ Candidates, MaxRanked ≥ 1.
	MinRanked, MaxRanked int
}

// Check validates the contest's parameters.
func (c *Contest) Check() error {
	switch {
	case c == nil || c.Key == nil:
		return errors.New("ranked: missing contest or key")
	case c.Styles < 1 || c.Styles > 1<<16:
		return fmt.Errorf("ranked: %d styles", c.Styles)
	case c.Candidates < 2 || c.Candidates > MaxCandidates:
		return fmt.Errorf("ranked: %d candidates (need 2 to %d)", c.Candidates, MaxCandidates)
	case c.MinRanked < 0 || c.MaxRanked < 1 || c.MinRanked > c.MaxRanked || c.MaxRanked > c.Candidates:
		return fmt.Errorf("ranked: preferences between %d and %d of %d candidates", c.MinRanked, c.MaxRanked, c.Candidates)
	}
	return nil
}

// Ballot is an encrypted ranking (protocol §9.1): for each position j the
// ciphertext B_j of b_j (1 if the voter ranked at least j+1 candidates),
// for each candidate c the ciphertext R_c of its rank (1 … k, or 0 if
// unranked), the range proofs of b_j and b_j − b_{j+1}, and a proof that R
// is a re-encrypted permutation of ((j+1)·B_j)_j. A Ballot is immutable.
type Ballot struct {
	Style    uint16
	used     []*elgamal.Ciphertext // B_j
	ranks    []*elgamal.Ciphertext // R_c
	usedPf   []*proof.Proof
	stepPf   []*proof.Proof
	shufPf   *shuffle.Proof
	encoding []byte
}

// Ranks returns R_0 … R_{n−1}, the candidates' encrypted ranks: the part
// that is mixed and decrypted.
func (b *Ballot) Ranks() []*elgamal.Ciphertext { return append([]*elgamal.Ciphertext(nil), b.ranks...) }

// MarshalBinary returns the canonical encoding (protocol §9.1):
//
//	u8 version = 1 ‖ manifest_hash[32] ‖ u16 style ‖ u16 contest ‖ u16 n ‖
//	n × B_j[64] ‖ n × R_c[64] ‖ n × proof(b_j) ‖ (n−1) × proof(b_j − b_{j+1}) ‖
//	shuffle proof (N = n, width 1)
func (b *Ballot) MarshalBinary() ([]byte, error) { return append([]byte(nil), b.encoding...), nil }

// Opening is the secret of an encrypted ranking: the ranking and every
// nonce. A voter's device reveals it for a ballot it audits (Benaloh
// cast-or-audit) and never for a ballot it casts.
type Opening struct {
	Ranking    []int          // candidates in order of preference
	UsedNonces []group.Scalar // ν_j of B_j
	RankNonces []group.Scalar // ρ_c added to (ψ(c)+1)·B_{ψ(c)} to make R_c
}

// allowed returns A_j, the values b_j may take: {1} for j < MinRanked, {0}
// for j ≥ MaxRanked, else {0, 1}.
func (c *Contest) allowed(j int) []uint32 {
	switch {
	case j < c.MinRanked:
		return []uint32{1}
	case j >= c.MaxRanked:
		return []uint32{0}
	}
	return []uint32{0, 1}
}

// Size returns the encoded size of a ballot of this contest.
func (c *Contest) Size() int {
	n := c.Candidates
	size := 1 + 32 + 6 + 2*n*elgamal.CiphertextSize + (n-1)*2*proof.BranchSize + shuffle.ProofSize(n, 1)
	for j := 0; j < n; j++ {
		size += len(c.allowed(j)) * proof.BranchSize
	}
	return size
}

func (c *Contest) statement(style uint16, option uint16, values []uint32, ct *elgamal.Ciphertext) *proof.Statement {
	return &proof.Statement{ManifestHash: c.ManifestHash[:], Key: c.Key, Style: style, Question: c.Index,
		Option: option, Values: values, Ciphertext: ct}
}

// shuffleStatement binds the ballot's shuffle proof to the manifest,
// style, contest and shape: context = lp(tag) ‖ manifest_hash ‖ u16 style ‖
// u16 contest ‖ u16 n ‖ u16 min ‖ u16 max.
func (c *Contest) shuffleStatement(style uint16) *shuffle.Statement {
	ctx := enc.AppendLP(nil, []byte(contextTag))
	ctx = append(ctx, c.ManifestHash[:]...)
	ctx = binary.BigEndian.AppendUint16(ctx, style)
	ctx = binary.BigEndian.AppendUint16(ctx, c.Index)
	ctx = binary.BigEndian.AppendUint16(ctx, uint16(c.Candidates))
	ctx = binary.BigEndian.AppendUint16(ctx, uint16(c.MinRanked))
	ctx = binary.BigEndian.AppendUint16(ctx, uint16(c.MaxRanked))
	return &shuffle.Statement{Key: c.Key, Label: GeneratorLabel, Context: ctx}
}

// step returns B_j − B_{j+1}; the error (an identity α) has probability
// about 2^-252 for honest ballots.
func step(a, b *elgamal.Ciphertext) (*elgamal.Ciphertext, error) {
	a1, b1 := a.Fast()
	a2, b2 := b.Fast()
	var x, y ristretto255.Element
	x.Subtract(a1, a2)
	y.Subtract(b1, b2)
	return elgamal.ParseCiphertext(append(x.Encode(nil), y.Encode(nil)...))
}

// positionInputs returns the shuffle input I_j = (j+1)·B_j.
func positionInputs(used []*elgamal.Ciphertext) (*shuffle.List, error) {
	rows := make([][]*elgamal.Ciphertext, len(used))
	for j, u := range used {
		a, b := u.Fast()
		m := smallScalar(uint64(j + 1))
		var x, y ristretto255.Element
		x.VarTimeMultiScalarMult([]*ristretto255.Scalar{m}, []*ristretto255.Element{a})
		y.VarTimeMultiScalarMult([]*ristretto255.Scalar{m}, []*ristretto255.Element{b})
		ct, err := elgamal.ParseCiphertext(append(x.Encode(nil), y.Encode(nil)...))
		if err != nil {
			return nil, fmt.Errorf("ranked: position input %d: %w", j, err) // unreachable: α ≠ identity
		}
		rows[j] = []*elgamal.Ciphertext{ct}
	}
	return shuffle.NewList(rows)
}

func smallScalar(v uint64) *ristretto255.Scalar {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:8], v)
	s := ristretto255.NewScalar()
	if err := s.Decode(b[:]); err != nil {
		panic("ranked: small scalar") // unreachable
	}
	return s
}

// checkRanking validates a ranking (candidates in order of preference) and
// returns the permutation ψ with ψ(c) = position of c, unranked candidates
// taking the positions after k in increasing candidate order.
func (c *Contest) checkRanking(ranking []int) ([]int, error) {
	n := c.Candidates
	if len(ranking) < c.MinRanked || len(ranking) > c.MaxRanked {
		return nil, fmt.Errorf("%w: %d preferences (need %d to %d)", ErrBadChoice, len(ranking), c.MinRanked, c.MaxRanked)
	}
	psi := make([]int, n)
	for i := range psi {
		psi[i] = -1
	}
	for p, cand := range ranking {
		if cand < 0 || cand >= n {
			return nil, fmt.Errorf("%w: no candidate %d", ErrBadChoice, cand)
		}
		if psi[cand] >= 0 {
			return nil, fmt.Errorf("%w: candidate %d ranked twice", ErrBadChoice, cand)
		}
		psi[cand] = p
	}
	next := len(ranking)
	for cand := range psi {
		if psi[cand] < 0 {
			psi[cand] = next
			next++
		}
	}
	return psi, nil
}

// Encrypt encrypts a ranking (candidate indices 0 … n−1 in order of
// preference, MinRanked to MaxRanked of them, no repeats) for a ballot of
// the given style, with all proofs, and returns the ballot and its secret
// opening. Randomness comes from rand (crypto/rand in production). The
// range proofs and the shuffle proof multiply secrets in constant time;
// the placement of rank values follows the ranking in memory (see
// crypto/shuffle).
func (c *Contest) Encrypt(rand io.Reader, style int, ranking []int) (*Ballot, *Opening, error) {
	if err := c.Check(); err != nil {
		return nil, nil, err
	}
	if style < 0 || style >= c.Styles {
		return nil, nil, fmt.Errorf("%w: style %d of %d", ErrBadChoice, style, c.Styles)
	}
	psi, err := c.checkRanking(ranking)
	if err != nil {
		return nil, nil, err
	}
	n, k := c.Candidates, len(ranking)
	st := uint16(style)
	b := &Ballot{Style: st, used: make([]*elgamal.Ciphertext, n), usedPf: make([]*proof.Proof, n),
		stepPf: make([]*proof.Proof, n-1)}
	op := &Opening{Ranking: append([]int(nil), ranking...), UsedNonces: make([]group.Scalar, n)}
	val := func(j int) uint32 {
		if j < k {
			return 1
		}
		return 0
	}
	for j := 0; j < n; j++ {
		ct, nu, err := elgamal.EncryptRand(c.Key, uint64(val(j)), rand)
		if err != nil {
			return nil, nil, fmt.Errorf("ranked: encrypt: %w", err)
		}
		b.used[j], op.UsedNonces[j] = ct, nu
		if b.usedPf[j], err = proof.Prove(rand, c.statement(st, uint16(OptionUsed+j), c.allowed(j), ct),
			&proof.Witness{Value: val(j), Nonce: nu}); err != nil {
			return nil, nil, fmt.Errorf("ranked: prove position %d: %w", j, err)
		}
	}
	for j := 0; j+1 < n; j++ {
		d, err := step(b.used[j], b.used[j+1])
		if err != nil {
			return nil, nil, fmt.Errorf("ranked: encrypt: %w", err)
		}
		nonce := enc.G.NewScalar().Sub(op.UsedNonces[j], op.UsedNonces[j+1])
		if b.stepPf[j], err = proof.Prove(rand, c.statement(st, uint16(OptionStep+j), []uint32{0, 1}, d),
			&proof.Witness{Value: val(j) - val(j+1), Nonce: nonce}); err != nil {
			return nil, nil, fmt.Errorf("ranked: prove step %d: %w", j, err)
		}
	}
	in, err := positionInputs(b.used)
	if err != nil {
		return nil, nil, err
	}
	out, sp, wit, err := shuffle.Permute(rand, c.shuffleStatement(st), in, psi)
	if err != nil {
		return nil, nil, fmt.Errorf("ranked: prove ranking: %w", err)
	}
	b.ranks = make([]*elgamal.Ciphertext, n)
	for cand := range b.ranks {
		b.ranks[cand] = out.Ciphertext(cand, 0)
	}
	b.shufPf = sp
	op.RankNonces = wit.Nonces
	b.encoding = c.encode(b)
	return b, op, nil
}

func (c *Contest) encode(b *Ballot) []byte {
	out := make([]byte, 0, c.Size())
	out = append(out, Version)
	out = append(out, c.ManifestHash[:]...)
	out = binary.BigEndian.AppendUint16(out, b.Style)
	out = binary.BigEndian.AppendUint16(out, c.Index)
	out = binary.BigEndian.AppendUint16(out, uint16(c.Candidates))
	for _, ct := range b.used {
		out = append(out, ct.Bytes()...)
	}
	for _, ct := range b.ranks {
		out = append(out, ct.Bytes()...)
	}
	for _, p := range b.usedPf {
		out = append(out, p.Bytes()...)
	}
	for _, p := range b.stepPf {
		out = append(out, p.Bytes()...)
	}
	return append(out, b.shufPf.Bytes()...)
}

// Parse strictly decodes a ranked ballot of this contest (see
// [Ballot.MarshalBinary]): version, manifest hash ([ErrWrongManifest]),
// style < Styles, contest index and candidate count, exact length, every
// element and scalar canonical, no identity α. It does not verify the
// proofs ([Contest.Verify]).
func (c *Contest) Parse(data []byte) (*Ballot, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	n := c.Candidates
	if len(data) < 39 || data[0] != Version {
		return nil, fmt.Errorf("%w: header", ErrMalformed)
	}
	if string(data[1:33]) != string(c.ManifestHash[:]) {
		return nil, ErrWrongManifest
	}
	style := binary.BigEndian.Uint16(data[33:35])
	if int(style) >= c.Styles {
		return nil, fmt.Errorf("%w: style %d of %d", ErrMalformed, style, c.Styles)
	}
	if binary.BigEndian.Uint16(data[35:37]) != c.Index || int(binary.BigEndian.Uint16(data[37:39])) != n {
		return nil, fmt.Errorf("%w: contest or candidate count", ErrMalformed)
	}
	if len(data) != c.Size() {
		return nil, fmt.Errorf("%w: length %d, want %d", ErrMalformed, len(data), c.Size())
	}
	b := &Ballot{Style: style, used: make([]*elgamal.Ciphertext, n), ranks: make([]*elgamal.Ciphertext, n),
		usedPf: make([]*proof.Proof, n), stepPf: make([]*proof.Proof, n-1), encoding: append([]byte(nil), data...)}
	r := b.encoding[39:]
	take := func(m int) []byte { x := r[:m]; r = r[m:]; return x }
	var err error
	for j := range b.used {
		if b.used[j], err = elgamal.ParseCiphertext(take(elgamal.CiphertextSize)); err != nil {
			return nil, fmt.Errorf("%w: B_%d: %w", ErrMalformed, j, err)
		}
	}
	for cand := range b.ranks {
		if b.ranks[cand], err = elgamal.ParseCiphertext(take(elgamal.CiphertextSize)); err != nil {
			return nil, fmt.Errorf("%w: R_%d: %w", ErrMalformed, cand, err)
		}
	}
	for j := range b.usedPf {
		m := len(c.allowed(j))
		if b.usedPf[j], err = proof.ParseProof(take(m*proof.BranchSize), m); err != nil {
			return nil, fmt.Errorf("%w: proof of B_%d: %w", ErrMalformed, j, err)
		}
	}
	for j := range b.stepPf {
		if b.stepPf[j], err = proof.ParseProof(take(2*proof.BranchSize), 2); err != nil {
			return nil, fmt.Errorf("%w: proof of step %d: %w", ErrMalformed, j, err)
		}
	}
	if b.shufPf, err = shuffle.ParseProof(r); err != nil {
		return nil, fmt.Errorf("%w: ranking proof: %w", ErrMalformed, err)
	}
	if b.shufPf.Rows() != n || b.shufPf.Width() != 1 {
		return nil, fmt.Errorf("%w: ranking proof shape", ErrMalformed) // unreachable: length checked
	}
	return b, nil
}

// statements returns the range-proof statements and proofs of b, in order
// (B_0 … B_{n−1}, then the steps), and the name of each for error reports.
func (c *Contest) statements(b *Ballot) ([]*proof.Statement, []*proof.Proof, []string, error) {
	n := c.Candidates
	sts := make([]*proof.Statement, 0, 2*n-1)
	ps := make([]*proof.Proof, 0, 2*n-1)
	names := make([]string, 0, 2*n-1)
	for j := 0; j < n; j++ {
		sts = append(sts, c.statement(b.Style, uint16(OptionUsed+j), c.allowed(j), b.used[j]))
		ps = append(ps, b.usedPf[j])
		names = append(names, fmt.Sprintf("position %d in use", j+1))
	}
	for j := 0; j+1 < n; j++ {
		d, err := step(b.used[j], b.used[j+1])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: step %d has an identity α", ErrInvalidRanking, j)
		}
		sts = append(sts, c.statement(b.Style, uint16(OptionStep+j), []uint32{0, 1}, d))
		ps = append(ps, b.stepPf[j])
		names = append(names, fmt.Sprintf("positions %d and %d filled in order", j+1, j+2))
	}
	return sts, ps, names, nil
}

// Verify checks every proof of a parsed ballot: each b_j is allowed (so
// between MinRanked and MaxRanked positions are used, as a prefix), and R
// is a re-encrypted permutation of (1·b_0, 2·b_1, …, n·b_{n−1}), so the
// candidates' ranks are exactly 1 … k once each and 0 for the others. The
// error names the first proof that fails.
func (c *Contest) Verify(b *Ballot) error {
	if err := c.Check(); err != nil {
		return err
	}
	sts, ps, names, err := c.statements(b)
	if err != nil {
		return err
	}
	for i := range sts {
		if err := proof.Verify(sts[i], ps[i]); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidRanking, names[i], err)
		}
	}
	return c.verifyShuffle(b)
}

func (c *Contest) verifyShuffle(b *Ballot) error {
	in, err := positionInputs(b.used)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRanking, err)
	}
	rows := make([][]*elgamal.Ciphertext, len(b.ranks))
	for i, r := range b.ranks {
		rows[i] = []*elgamal.Ciphertext{r}
	}
	out, err := shuffle.NewList(rows)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRanking, err)
	}
	if err := shuffle.Verify(c.shuffleStatement(b.Style), in, out, b.shufPf); err != nil {
		return fmt.Errorf("%w: ranks are not a permutation of the positions: %w", ErrInvalidRanking, err)
	}
	return nil
}

// CheckAudit checks that an opening reproduces a ballot (Benaloh audit):
// the ranking is valid, and re-encrypting it with the revealed nonces
// gives the ballot's B and R ciphertexts. (The proofs are checked by
// [Contest.Verify].)
func (c *Contest) CheckAudit(b *Ballot, op *Opening) error {
	if err := c.Check(); err != nil {
		return err
	}
	psi, err := c.checkRanking(op.Ranking)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAuditMismatch, err)
	}
	n, k := c.Candidates, len(op.Ranking)
	if len(op.UsedNonces) != n || len(op.RankNonces) != n {
		return fmt.Errorf("%w: nonce count", ErrAuditMismatch)
	}
	for j := 0; j < n; j++ {
		m := uint64(0)
		if j < k {
			m = 1
		}
		if elgamal.CheckEncryption(c.Key, b.used[j], m, op.UsedNonces[j]) != nil {
			return fmt.Errorf("%w: B_%d", ErrAuditMismatch, j)
		}
	}
	for cand, p := range psi {
		rank := uint64(0)
		if p < k {
			rank = uint64(p + 1)
		}
		// R_c = (p+1)·B_p + Enc(0; ρ_c) encrypts rank with nonce (p+1)·ν_p + ρ_c.
		nonce := enc.G.NewScalar().Mul(enc.G.NewScalar().SetUint64(uint64(p+1)), op.UsedNonces[p])
		nonce.Add(nonce, op.RankNonces[cand])
		if elgamal.CheckEncryption(c.Key, b.ranks[cand], rank, nonce) != nil {
			return fmt.Errorf("%w: R_%d", ErrAuditMismatch, cand)
		}
	}
	return nil
}
