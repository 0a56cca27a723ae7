package threshold

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cloudflare/circl/group"
)

// Dealing is trustee Dealer's public round-1 message (protocol §7): the
// Feldman commitments C_l = a_l·G to its polynomial f (degree Threshold−1)
// and a Schnorr proof of knowledge of a_0 under [DealingContext].
type Dealing struct {
	Ceremony    string          // ceremony id, [a-z0-9-]{1,64} (the election id)
	N           int             // number of trustees
	Threshold   int             // k
	Dealer      int             // 1-based dealer index
	Commitments []group.Element // C_0 … C_{k−1}
	Proof       *SchnorrProof   // proof of knowledge of a_0 for C_0
}

// Share is f_i(j), dealer i's share for recipient j. It is secret: the
// ceremony tool MUST encrypt its binary encoding to the recipient.
type Share struct {
	Ceremony  string
	Dealer    int
	Recipient int
	Value     group.Scalar
}

// Complaint is recipient's public claim that the share it received from
// Dealer does not match Dealer's commitments. It reveals that share so
// anyone can check the claim (see [Adjudicate]).
type Complaint struct {
	Ceremony  string
	Dealer    int
	Recipient int
	Share     group.Scalar
}

// PublicKey is the public outcome of the ceremony (the manifest's
// "trustees" object): the threshold k, the joint election key K = Σ C_{i,0}
// and every trustee's public share X_j = x_j·G (Shares[j−1]).
type PublicKey struct {
	Threshold int
	Key       group.Element
	Shares    []group.Element
}

// SecretShare is trustee Index's secret key share x_j = Σ_i f_i(j).
type SecretShare struct {
	Index int
	x     group.Scalar
}

// DealingContext is the Schnorr context of dealer's proof (protocol §7):
// lp(ceremony) ‖ u16(n) ‖ u16(k) ‖ u16(dealer).
func DealingContext(ceremony string, n, k, dealer int) []byte {
	b := lp(nil, []byte(ceremony))
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = binary.BigEndian.AppendUint16(b, uint16(k))
	return binary.BigEndian.AppendUint16(b, uint16(dealer))
}

// Deal makes dealer's random polynomial of degree k−1 and returns its public
// Dealing and the n shares f(1) … f(n) (shares[j−1] is for trustee j,
// including the dealer itself). Randomness: 64 bytes per coefficient plus
// 64 for the proof nonce are read from rand.
func Deal(rand io.Reader, ceremony string, n, k, dealer int) (*Dealing, []*Share, error) {
	if err := checkCeremony(ceremony); err != nil {
		return nil, nil, err
	}
	if err := checkParams(n, k); err != nil {
		return nil, nil, err
	}
	if dealer < 1 || dealer > n {
		return nil, nil, fmt.Errorf("threshold: dealer %d out of range", dealer)
	}
	coeffs := make([]group.Scalar, k)
	d := &Dealing{Ceremony: ceremony, N: n, Threshold: k, Dealer: dealer, Commitments: make([]group.Element, k)}
	for l := range coeffs {
		a, err := randomScalar(rand)
		if err != nil {
			return nil, nil, err
		}
		if a.IsZero() {
			return nil, nil, errors.New("threshold: zero coefficient from reader")
		}
		coeffs[l] = a
		d.Commitments[l] = g.NewElement().MulGen(a)
	}
	pf, err := ProveSchnorr(rand, DealingContext(ceremony, n, k, dealer), coeffs[0])
	if err != nil {
		return nil, nil, err
	}
	d.Proof = pf
	shares := make([]*Share, n)
	for j := 1; j <= n; j++ {
		// Horner: f(j) = a_0 + j(a_1 + j(a_2 + …)).
		js := scalarOf(j)
		v := g.NewScalar().Set(coeffs[k-1])
		for l := k - 2; l >= 0; l-- {
			v.Mul(v, js)
			v.Add(v, coeffs[l])
		}
		shares[j-1] = &Share{Ceremony: ceremony, Dealer: dealer, Recipient: j, Value: v}
	}
	for _, a := range coeffs {
		a.SetUint64(0)
	}
	return d, shares, nil
}

// Verify checks the dealing's shape against the ceremony parameters and its
// proof of knowledge of the constant term. Identity commitments are rejected.
func (d *Dealing) Verify(ceremony string, n, k int) error {
	if d == nil {
		return errors.New("threshold: nil dealing")
	}
	if d.Ceremony != ceremony || d.N != n || d.Threshold != k {
		return errors.New("threshold: dealing is for another ceremony or parameters")
	}
	if err := d.checkShape(); err != nil {
		return err
	}
	if err := VerifySchnorr(DealingContext(d.Ceremony, d.N, d.Threshold, d.Dealer), d.Commitments[0], d.Proof); err != nil {
		return fmt.Errorf("threshold: dealing %d: %w", d.Dealer, err)
	}
	return nil
}

func (d *Dealing) checkShape() error {
	if err := checkCeremony(d.Ceremony); err != nil {
		return err
	}
	if err := checkParams(d.N, d.Threshold); err != nil {
		return err
	}
	if d.Dealer < 1 || d.Dealer > d.N {
		return fmt.Errorf("threshold: dealer %d out of range", d.Dealer)
	}
	if len(d.Commitments) != d.Threshold {
		return errors.New("threshold: dealing must have k commitments")
	}
	for _, c := range d.Commitments {
		if c == nil || c.IsIdentity() {
			return errors.New("threshold: missing or identity commitment")
		}
	}
	if d.Proof == nil || d.Proof.A == nil || d.Proof.Z == nil {
		return errors.New("threshold: missing proof")
	}
	return nil
}

// evalCommitments returns Σ_l j^l·C_l (= f(j)·G for an honest dealer).
func evalCommitments(cs []group.Element, j int) group.Element {
	js := scalarOf(j)
	acc := g.NewElement().Set(cs[len(cs)-1])
	for l := len(cs) - 2; l >= 0; l-- {
		acc.Mul(acc, js)
		acc.Add(acc, cs[l])
	}
	return acc
}

func shareMatches(d *Dealing, recipient int, v group.Scalar) bool {
	return g.NewElement().MulGen(v).IsEqual(evalCommitments(d.Commitments, recipient))
}

// VerifyShare checks f_i(j)·G = Σ_l j^l·C_{i,l} for a share received from
// d.Dealer. The dealing must already have passed [Dealing.Verify].
func VerifyShare(d *Dealing, s *Share) error {
	if d == nil || s == nil || s.Value == nil {
		return errors.New("threshold: nil dealing or share")
	}
	if err := d.checkShape(); err != nil {
		return err
	}
	if s.Ceremony != d.Ceremony || s.Dealer != d.Dealer || s.Recipient < 1 || s.Recipient > d.N {
		return errors.New("threshold: share does not belong to this dealing")
	}
	if !shareMatches(d, s.Recipient, s.Value) {
		return fmt.Errorf("threshold: share from dealer %d to %d does not match commitments", s.Dealer, s.Recipient)
	}
	return nil
}

// NewComplaint makes the complaint that reveals a share which failed
// [VerifyShare].
func NewComplaint(s *Share) *Complaint {
	if s == nil || s.Value == nil {
		return nil
	}
	return &Complaint{Ceremony: s.Ceremony, Dealer: s.Dealer, Recipient: s.Recipient, Share: g.NewScalar().Set(s.Value)}
}

// Adjudicate decides a complaint against d.Dealer from public data only
// (protocol §7): the dealer is disqualified iff the complained-of share does
// not match the commitments AND the dealer did not answer with a share for
// the same recipient that does (answer may be nil). If the dealer's answer is
// valid, the recipient uses it instead of the share it received. A complaint
// whose share matches is unjustified and disqualifies nobody. An error means
// the complaint is malformed or not about this dealing (and is ignored).
func Adjudicate(d *Dealing, c *Complaint, answer *Share) (disqualify bool, err error) {
	if d == nil || c == nil || c.Share == nil {
		return false, errors.New("threshold: nil dealing or complaint")
	}
	if err := d.checkShape(); err != nil {
		return false, err
	}
	if c.Ceremony != d.Ceremony || c.Dealer != d.Dealer || c.Recipient < 1 || c.Recipient > d.N || c.Recipient == d.Dealer {
		return false, errors.New("threshold: complaint does not belong to this dealing")
	}
	if shareMatches(d, c.Recipient, c.Share) {
		return false, nil // unjustified
	}
	if answer != nil && answer.Recipient == c.Recipient && VerifyShare(d, answer) == nil {
		return false, nil // answered
	}
	return true, nil
}

// checkQualified verifies the qualified dealings: at least k, distinct
// dealers, each valid for (ceremony, n, k).
func checkQualified(ceremony string, n, k int, qualified []*Dealing) error {
	if err := checkParams(n, k); err != nil {
		return err
	}
	if len(qualified) < k || len(qualified) > n {
		return fmt.Errorf("threshold: need between k=%d and n=%d qualified dealings, have %d", k, n, len(qualified))
	}
	var seen [MaxTrustees + 1]bool
	for _, d := range qualified {
		if err := d.Verify(ceremony, n, k); err != nil {
			return err
		}
		if seen[d.Dealer] {
			return fmt.Errorf("threshold: dealer %d appears twice", d.Dealer)
		}
		seen[d.Dealer] = true
	}
	return nil
}

// PublicFromDealings computes K and X_1 … X_n from the dealings of the
// qualified dealers (at least k of them, each verified here).
func PublicFromDealings(ceremony string, n, k int, qualified []*Dealing) (*PublicKey, error) {
	if err := checkQualified(ceremony, n, k, qualified); err != nil {
		return nil, err
	}
	agg := make([]group.Element, k) // A_l = Σ_i C_{i,l}
	for l := range agg {
		agg[l] = g.Identity()
		for _, d := range qualified {
			agg[l].Add(agg[l], d.Commitments[l])
		}
	}
	if agg[0].IsIdentity() {
		return nil, errors.New("threshold: joint key is the identity")
	}
	pk := &PublicKey{Threshold: k, Key: agg[0], Shares: make([]group.Element, n)}
	for j := 1; j <= n; j++ {
		pk.Shares[j-1] = evalCommitments(agg, j)
		if pk.Shares[j-1].IsIdentity() {
			return nil, errors.New("threshold: public share is the identity")
		}
	}
	return pk, nil
}

// Finalise computes trustee me's secret share x_me = Σ_i f_i(me) from the
// shares it received from every qualified dealer (shares from other dealers
// are an error), checks each share, and returns it with the public key.
func Finalise(ceremony string, n, k int, qualified []*Dealing, me int, shares []*Share) (*PublicKey, *SecretShare, error) {
	pk, err := PublicFromDealings(ceremony, n, k, qualified)
	if err != nil {
		return nil, nil, err
	}
	if me < 1 || me > n {
		return nil, nil, fmt.Errorf("threshold: trustee %d out of range", me)
	}
	if len(shares) != len(qualified) {
		return nil, nil, errors.New("threshold: need exactly one share from each qualified dealer")
	}
	x := g.NewScalar()
	for _, d := range qualified {
		i := slices.IndexFunc(shares, func(s *Share) bool { return s != nil && s.Dealer == d.Dealer })
		if i < 0 {
			return nil, nil, fmt.Errorf("threshold: no share from dealer %d", d.Dealer)
		}
		s := shares[i]
		if s.Recipient != me {
			return nil, nil, fmt.Errorf("threshold: share from dealer %d is for trustee %d", d.Dealer, s.Recipient)
		}
		if err := VerifyShare(d, s); err != nil {
			return nil, nil, err
		}
		x.Add(x, s.Value)
	}
	if !g.NewElement().MulGen(x).IsEqual(pk.Shares[me-1]) {
		return nil, nil, errors.New("threshold: secret share does not match public share")
	}
	return pk, &SecretShare{Index: me, x: x}, nil
}

// Public returns X_j = x_j·G.
func (s *SecretShare) Public() group.Element {
	if s == nil || s.x == nil {
		return nil
	}
	return g.NewElement().MulGen(s.x)
}

// MarshalBinary encodes the secret share: 0x01 0x05 ‖ u16 index ‖ x[32].
// The output is secret.
func (s *SecretShare) MarshalBinary() ([]byte, error) {
	if s == nil || s.x == nil {
		return nil, errors.New("threshold: nil secret share")
	}
	b := []byte{wireVersion, kindSecretShare}
	b = binary.BigEndian.AppendUint16(b, uint16(s.Index))
	return append(b, encodeScalar(s.x)...), nil
}

// ParseSecretShare decodes [SecretShare.MarshalBinary] output strictly.
func ParseSecretShare(b []byte) (*SecretShare, error) {
	r := &reader{b: b}
	r.header(kindSecretShare)
	idx := int(r.u16())
	xb := r.bytes(ScalarSize)
	if err := r.done(); err != nil {
		return nil, err
	}
	if idx < 1 || idx > MaxTrustees {
		return nil, errors.New("threshold: secret share index out of range")
	}
	x, err := decodeScalar(xb)
	if err != nil {
		return nil, err
	}
	return &SecretShare{Index: idx, x: x}, nil
}

// Equal reports whether two secret shares are equal, in constant time.
func (s *SecretShare) Equal(o *SecretShare) bool {
	if s == nil || o == nil || s.x == nil || o.x == nil {
		return s == o
	}
	return s.Index == o.Index && subtle.ConstantTimeCompare(encodeScalar(s.x), encodeScalar(o.x)) == 1
}
