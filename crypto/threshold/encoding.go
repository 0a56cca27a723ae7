package threshold

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cloudflare/circl/group"

	"github.com/unionvote/eballot/crypto/internal/canonjson"
)

// maxJSON bounds any JSON object decoded by this package.
const maxJSON = 8 << 20

// strictJSON decodes exactly one JSON value in its one accepted form.
func strictJSON(data []byte, v any) error {
	if len(data) > maxJSON {
		return errors.New("threshold: JSON too large")
	}
	// One accepted form (docs/protocol.md §3): no duplicate or
	// differently-cased member, no missing one, integers only.
	if err := canonjson.Decode(data, v); err != nil {
		return fmt.Errorf("threshold: decode JSON: %w", err)
	}
	return nil
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// ---- Dealing ----

// MarshalBinary encodes the dealing:
// 0x01 0x01 ‖ lp(ceremony) ‖ u16 n ‖ u16 k ‖ u16 dealer ‖ k × C[32] ‖ A[32] ‖ z[32].
func (d *Dealing) MarshalBinary() ([]byte, error) {
	if d == nil {
		return nil, errors.New("threshold: nil dealing")
	}
	if err := d.checkShape(); err != nil {
		return nil, err
	}
	b := lp([]byte{wireVersion, kindDealing}, []byte(d.Ceremony))
	b = binary.BigEndian.AppendUint16(b, uint16(d.N))
	b = binary.BigEndian.AppendUint16(b, uint16(d.Threshold))
	b = binary.BigEndian.AppendUint16(b, uint16(d.Dealer))
	for _, c := range d.Commitments {
		b = append(b, encodeElement(c)...)
	}
	pf, _ := d.Proof.MarshalBinary()
	return append(b, pf...), nil
}

// ParseDealing decodes [Dealing.MarshalBinary] output strictly. It checks the
// shape, not the proof (see [Dealing.Verify]).
func ParseDealing(b []byte) (*Dealing, error) {
	r := &reader{b: b}
	r.header(kindDealing)
	d := &Dealing{Ceremony: r.lpString(64)}
	d.N, d.Threshold, d.Dealer = int(r.u16()), int(r.u16()), int(r.u16())
	if r.err != nil {
		return nil, r.err
	}
	if err := checkParams(d.N, d.Threshold); err != nil {
		return nil, err
	}
	cs := make([][]byte, d.Threshold)
	for l := range cs {
		cs[l] = r.bytes(ElementSize)
	}
	pfb := r.bytes(SchnorrProofSize)
	if err := r.done(); err != nil {
		return nil, err
	}
	return newDealing(d, cs, pfb)
}

func newDealing(d *Dealing, cs [][]byte, pfb []byte) (*Dealing, error) {
	if err := checkParams(d.N, d.Threshold); err != nil {
		return nil, err
	}
	if len(cs) != d.Threshold {
		return nil, errors.New("threshold: dealing must have k commitments")
	}
	for _, cb := range cs {
		c, err := decodeElement(cb)
		if err != nil {
			return nil, fmt.Errorf("threshold: dealing commitment: %w", err)
		}
		d.Commitments = append(d.Commitments, c)
	}
	pf, err := ParseSchnorrProof(pfb)
	if err != nil {
		return nil, err
	}
	d.Proof = pf
	if err := d.checkShape(); err != nil {
		return nil, err
	}
	return d, nil
}

type dealingJSON struct {
	Version     int      `json:"version"`
	Ceremony    string   `json:"ceremony"`
	N           int      `json:"n"`
	Threshold   int      `json:"threshold"`
	Dealer      int      `json:"dealer"`
	Commitments []string `json:"commitments"`
	Proof       string   `json:"proof"`
}

// MarshalJSON encodes {"version":1,"ceremony","n","threshold","dealer",
// "commitments":[hex…],"proof":hex}.
func (d *Dealing) MarshalJSON() ([]byte, error) {
	if d == nil {
		return nil, errors.New("threshold: nil dealing")
	}
	if err := d.checkShape(); err != nil {
		return nil, err
	}
	j := dealingJSON{Version: wireVersion, Ceremony: d.Ceremony, N: d.N, Threshold: d.Threshold, Dealer: d.Dealer}
	for _, c := range d.Commitments {
		j.Commitments = append(j.Commitments, hexOf(encodeElement(c)))
	}
	pf, _ := d.Proof.MarshalBinary()
	j.Proof = hexOf(pf)
	return json.Marshal(j)
}

// UnmarshalJSON decodes strictly (unknown fields, bad hex, non-canonical or
// identity elements and bad shapes are rejected).
func (d *Dealing) UnmarshalJSON(data []byte) error {
	var j dealingJSON
	if err := strictJSON(data, &j); err != nil {
		return err
	}
	if j.Version != wireVersion {
		return errors.New("threshold: unsupported dealing version")
	}
	if err := checkParams(j.N, j.Threshold); err != nil {
		return err
	}
	if len(j.Commitments) != j.Threshold {
		return errors.New("threshold: dealing must have k commitments")
	}
	cs := make([][]byte, len(j.Commitments))
	for i, s := range j.Commitments {
		b, err := decodeHex(s, ElementSize)
		if err != nil {
			return err
		}
		cs[i] = b
	}
	pfb, err := decodeHex(j.Proof, SchnorrProofSize)
	if err != nil {
		return err
	}
	nd, err := newDealing(&Dealing{Ceremony: j.Ceremony, N: j.N, Threshold: j.Threshold, Dealer: j.Dealer}, cs, pfb)
	if err != nil {
		return err
	}
	*d = *nd
	return nil
}

// ---- Share and Complaint ----

func encodeShareLike(kind byte, ceremony string, dealer, recipient int, v group.Scalar) []byte {
	b := lp([]byte{wireVersion, kind}, []byte(ceremony))
	b = binary.BigEndian.AppendUint16(b, uint16(dealer))
	b = binary.BigEndian.AppendUint16(b, uint16(recipient))
	return append(b, encodeScalar(v)...)
}

func checkShareLike(ceremony string, dealer, recipient int, v group.Scalar) error {
	if err := checkCeremony(ceremony); err != nil {
		return err
	}
	if dealer < 1 || dealer > MaxTrustees || recipient < 1 || recipient > MaxTrustees {
		return errors.New("threshold: trustee index out of range")
	}
	if v == nil {
		return errors.New("threshold: missing share value")
	}
	return nil
}

func parseShareLike(kind byte, b []byte) (string, int, int, group.Scalar, error) {
	r := &reader{b: b}
	r.header(kind)
	c := r.lpString(64)
	dealer, recipient := int(r.u16()), int(r.u16())
	vb := r.bytes(ScalarSize)
	if err := r.done(); err != nil {
		return "", 0, 0, nil, err
	}
	v, err := decodeScalar(vb)
	if err != nil {
		return "", 0, 0, nil, err
	}
	if err := checkShareLike(c, dealer, recipient, v); err != nil {
		return "", 0, 0, nil, err
	}
	return c, dealer, recipient, v, nil
}

// MarshalBinary encodes the share (the plaintext of the recipient's
// envelope): 0x01 0x02 ‖ lp(ceremony) ‖ u16 dealer ‖ u16 recipient ‖ f(j)[32].
func (s *Share) MarshalBinary() ([]byte, error) {
	if s == nil {
		return nil, errors.New("threshold: nil share")
	}
	if err := checkShareLike(s.Ceremony, s.Dealer, s.Recipient, s.Value); err != nil {
		return nil, err
	}
	return encodeShareLike(kindShare, s.Ceremony, s.Dealer, s.Recipient, s.Value), nil
}

// ParseShare decodes [Share.MarshalBinary] output strictly.
func ParseShare(b []byte) (*Share, error) {
	c, d, r, v, err := parseShareLike(kindShare, b)
	if err != nil {
		return nil, err
	}
	return &Share{Ceremony: c, Dealer: d, Recipient: r, Value: v}, nil
}

// MarshalBinary encodes the complaint:
// 0x01 0x03 ‖ lp(ceremony) ‖ u16 dealer ‖ u16 recipient ‖ share[32].
func (c *Complaint) MarshalBinary() ([]byte, error) {
	if c == nil {
		return nil, errors.New("threshold: nil complaint")
	}
	if err := checkShareLike(c.Ceremony, c.Dealer, c.Recipient, c.Share); err != nil {
		return nil, err
	}
	return encodeShareLike(kindComplaint, c.Ceremony, c.Dealer, c.Recipient, c.Share), nil
}

// ParseComplaint decodes [Complaint.MarshalBinary] output strictly.
func ParseComplaint(b []byte) (*Complaint, error) {
	c, d, r, v, err := parseShareLike(kindComplaint, b)
	if err != nil {
		return nil, err
	}
	return &Complaint{Ceremony: c, Dealer: d, Recipient: r, Share: v}, nil
}

type shareJSON struct {
	Version   int    `json:"version"`
	Ceremony  string `json:"ceremony"`
	Dealer    int    `json:"dealer"`
	Recipient int    `json:"recipient"`
	Value     string `json:"value"`
}

// complaintJSON is shareJSON with the value named "share".
type complaintJSON struct {
	Version   int    `json:"version"`
	Ceremony  string `json:"ceremony"`
	Dealer    int    `json:"dealer"`
	Recipient int    `json:"recipient"`
	Value     string `json:"share"`
}

// marshalShareLike encodes a share or a complaint (W: its JSON form).
func marshalShareLike[W shareJSON | complaintJSON](ceremony string, dealer, recipient int, v group.Scalar) ([]byte, error) {
	if err := checkShareLike(ceremony, dealer, recipient, v); err != nil {
		return nil, err
	}
	return json.Marshal(W(shareJSON{wireVersion, ceremony, dealer, recipient, hexOf(encodeScalar(v))}))
}

// unmarshalShareLike decodes a share or a complaint (W: its JSON form)
// strictly.
func unmarshalShareLike[W shareJSON | complaintJSON](data []byte) (ceremony string, dealer, recipient int, v group.Scalar, err error) {
	var w W
	if err := strictJSON(data, &w); err != nil {
		return "", 0, 0, nil, err
	}
	j := shareJSON(w)
	if v, err = jsonShareValue(j.Version, j.Value); err != nil {
		return "", 0, 0, nil, err
	}
	if err := checkShareLike(j.Ceremony, j.Dealer, j.Recipient, v); err != nil {
		return "", 0, 0, nil, err
	}
	return j.Ceremony, j.Dealer, j.Recipient, v, nil
}

// MarshalJSON encodes {"version":1,"ceremony","dealer","recipient","value":hex}.
func (s *Share) MarshalJSON() ([]byte, error) {
	if s == nil {
		return nil, errors.New("threshold: nil share")
	}
	return marshalShareLike[shareJSON](s.Ceremony, s.Dealer, s.Recipient, s.Value)
}

// UnmarshalJSON decodes strictly.
func (s *Share) UnmarshalJSON(data []byte) error {
	c, d, r, v, err := unmarshalShareLike[shareJSON](data)
	if err != nil {
		return err
	}
	*s = Share{Ceremony: c, Dealer: d, Recipient: r, Value: v}
	return nil
}

// MarshalJSON encodes {"version":1,"ceremony","dealer","recipient","share":hex}.
func (c *Complaint) MarshalJSON() ([]byte, error) {
	if c == nil {
		return nil, errors.New("threshold: nil complaint")
	}
	return marshalShareLike[complaintJSON](c.Ceremony, c.Dealer, c.Recipient, c.Share)
}

// UnmarshalJSON decodes strictly.
func (c *Complaint) UnmarshalJSON(data []byte) error {
	cer, d, r, v, err := unmarshalShareLike[complaintJSON](data)
	if err != nil {
		return err
	}
	*c = Complaint{Ceremony: cer, Dealer: d, Recipient: r, Share: v}
	return nil
}

func jsonShareValue(version int, h string) (group.Scalar, error) {
	if version != wireVersion {
		return nil, errors.New("threshold: unsupported version")
	}
	b, err := decodeHex(h, ScalarSize)
	if err != nil {
		return nil, err
	}
	return decodeScalar(b)
}

// ---- Partial ----

// MarshalBinary encodes the partial decryption:
// 0x01 0x04 ‖ manifest_hash[32] ‖ u16 trustee ‖ u32 count ‖
// count × (D[32] ‖ A[32] ‖ B[32] ‖ z[32]).
func (p *Partial) MarshalBinary() ([]byte, error) {
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	b := append([]byte{wireVersion, kindPartial}, p.ManifestHash[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(p.Trustee))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.D)))
	for i, D := range p.D {
		b = append(b, encodeElement(D)...)
		pf, _ := p.Proofs[i].MarshalBinary()
		b = append(b, pf...)
	}
	return b, nil
}

func (p *Partial) checkShape() error {
	if p == nil {
		return errors.New("threshold: nil partial")
	}
	if p.Trustee < 1 || p.Trustee > MaxTrustees {
		return errors.New("threshold: trustee index out of range")
	}
	if len(p.D) == 0 || len(p.D) > MaxAlphas || len(p.Proofs) != len(p.D) {
		return errors.New("threshold: bad number of decryptions")
	}
	for i := range p.D {
		pf := p.Proofs[i]
		if p.D[i] == nil || pf == nil || pf.A == nil || pf.B == nil || pf.Z == nil {
			return errors.New("threshold: incomplete decryption")
		}
	}
	return nil
}

// ParsePartial decodes [Partial.MarshalBinary] output strictly. It does not
// verify the proofs (see [VerifyPartial]).
func ParsePartial(b []byte) (*Partial, error) {
	r := &reader{b: b}
	r.header(kindPartial)
	p := &Partial{}
	copy(p.ManifestHash[:], r.bytes(ManifestHashSize))
	p.Trustee = int(r.u16())
	count := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	if count == 0 || count > MaxAlphas || int64(len(r.b)) != int64(count)*(ElementSize+DLEQProofSize) {
		return nil, errors.New("threshold: bad partial length")
	}
	for range count {
		if err := p.appendDecryption(r.bytes(ElementSize), r.bytes(DLEQProofSize)); err != nil {
			return nil, err
		}
	}
	if err := r.done(); err != nil {
		return nil, err
	}
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Partial) appendDecryption(db, pfb []byte) error {
	D, err := decodeElement(db)
	if err != nil {
		return fmt.Errorf("threshold: partial decryption: %w", err)
	}
	pf, err := ParseDLEQProof(pfb)
	if err != nil {
		return err
	}
	p.D = append(p.D, D)
	p.Proofs = append(p.Proofs, pf)
	return nil
}

type decryptionJSON struct {
	D     string `json:"d"`
	Proof string `json:"proof"`
}

type partialJSON struct {
	Version      int              `json:"version"`
	ManifestHash string           `json:"manifest_hash"`
	Trustee      int              `json:"trustee"`
	Decryptions  []decryptionJSON `json:"decryptions"`
}

// MarshalJSON encodes {"version":1,"manifest_hash":hex,"trustee":j,
// "decryptions":[{"d":hex,"proof":hex}…]}.
func (p *Partial) MarshalJSON() ([]byte, error) {
	if err := p.checkShape(); err != nil {
		return nil, err
	}
	j := partialJSON{Version: wireVersion, ManifestHash: hexOf(p.ManifestHash[:]), Trustee: p.Trustee}
	for i, D := range p.D {
		pf, _ := p.Proofs[i].MarshalBinary()
		j.Decryptions = append(j.Decryptions, decryptionJSON{hexOf(encodeElement(D)), hexOf(pf)})
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes strictly.
func (p *Partial) UnmarshalJSON(data []byte) error {
	var j partialJSON
	if err := strictJSON(data, &j); err != nil {
		return err
	}
	if j.Version != wireVersion {
		return errors.New("threshold: unsupported partial version")
	}
	mh, err := decodeHex(j.ManifestHash, ManifestHashSize)
	if err != nil {
		return err
	}
	if len(j.Decryptions) == 0 || len(j.Decryptions) > MaxAlphas {
		return errors.New("threshold: bad number of decryptions")
	}
	np := &Partial{Trustee: j.Trustee}
	copy(np.ManifestHash[:], mh)
	for _, dj := range j.Decryptions {
		db, err := decodeHex(dj.D, ElementSize)
		if err != nil {
			return err
		}
		pfb, err := decodeHex(dj.Proof, DLEQProofSize)
		if err != nil {
			return err
		}
		if err := np.appendDecryption(db, pfb); err != nil {
			return err
		}
	}
	if err := np.checkShape(); err != nil {
		return err
	}
	*p = *np
	return nil
}

// ---- PublicKey ----

type publicKeyJSON struct {
	Threshold   int      `json:"threshold"`
	ElectionKey string   `json:"election_key"`
	PublicKeys  []string `json:"public_keys"`
}

// MarshalJSON encodes the manifest's "trustees" object (protocol §3):
// {"threshold":k,"election_key":hex,"public_keys":[hex X_1 … X_n]}.
func (pk *PublicKey) MarshalJSON() ([]byte, error) {
	if err := checkPub(pk); err != nil {
		return nil, err
	}
	j := publicKeyJSON{Threshold: pk.Threshold, ElectionKey: hexOf(encodeElement(pk.Key))}
	for _, X := range pk.Shares {
		j.PublicKeys = append(j.PublicKeys, hexOf(encodeElement(X)))
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes strictly. It cannot check that the shares lie on a
// polynomial through K (that needs the dealings: [PublicFromDealings]).
func (pk *PublicKey) UnmarshalJSON(data []byte) error {
	var j publicKeyJSON
	if err := strictJSON(data, &j); err != nil {
		return err
	}
	if err := checkParams(len(j.PublicKeys), j.Threshold); err != nil {
		return err
	}
	kb, err := decodeHex(j.ElectionKey, ElementSize)
	if err != nil {
		return err
	}
	K, err := decodeElement(kb)
	if err != nil {
		return err
	}
	np := &PublicKey{Threshold: j.Threshold, Key: K}
	for _, s := range j.PublicKeys {
		b, err := decodeHex(s, ElementSize)
		if err != nil {
			return err
		}
		X, err := decodeElement(b)
		if err != nil {
			return err
		}
		np.Shares = append(np.Shares, X)
	}
	*pk = *np
	return nil
}

// Equal reports whether two public keys are identical.
func (pk *PublicKey) Equal(o *PublicKey) bool {
	if pk == nil || o == nil || pk.Threshold != o.Threshold || len(pk.Shares) != len(o.Shares) || !pk.Key.IsEqual(o.Key) {
		return false
	}
	for i := range pk.Shares {
		if !pk.Shares[i].IsEqual(o.Shares[i]) {
			return false
		}
	}
	return true
}
