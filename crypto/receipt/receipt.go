package receipt

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

const (
	// TrackerSize is the length of a ballot tracker T (protocol §4.3).
	TrackerSize = 32
	// AuthorisationSize is the length of prefix[32] ‖ signature[256] (§5).
	AuthorisationSize = 288
	// MaxBallotSize bounds ballot_bytes (protocol §4.2).
	MaxBallotSize = 64 << 10
	// MaxReceiptJSON bounds the JSON encoding of a receipt.
	MaxReceiptJSON = 16 << 10
	// MaxProofHashes bounds the inclusion proof length (a tree of at most
	// [MaxTreeSize] leaves needs at most 40).
	MaxProofHashes = 40
	// receiptVersion is the "version" field of the receipt JSON.
	receiptVersion = 1
	// minBallotSize is version ‖ manifest_hash ‖ style ‖ nq.
	minBallotSize = 1 + 32 + 2 + 2
)

var electionIDRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// EntryBytes returns the ledger record T ‖ authorisation ‖ ballot_bytes
// (protocol §6) after checking the lengths.
func EntryBytes(tracker, authorisation, ballot []byte) ([]byte, error) {
	if len(tracker) != TrackerSize || len(authorisation) != AuthorisationSize {
		return nil, errors.New("receipt: bad tracker or authorisation length")
	}
	if len(ballot) < minBallotSize || len(ballot) > MaxBallotSize {
		return nil, errors.New("receipt: ballot length out of range")
	}
	e := make([]byte, 0, len(tracker)+len(authorisation)+len(ballot))
	e = append(e, tracker...)
	e = append(e, authorisation...)
	return append(e, ballot...), nil
}

// LeafHash returns the RFC 6962 leaf hash SHA-256(0x00 ‖ entry).
func LeafHash(entry []byte) tlog.Hash { return tlog.RecordHash(entry) }

// Tracker returns T = SHA-256("ballot-v1" ‖ manifest_hash ‖ ballot_bytes)
// (protocol §4.3), taking manifest_hash from ballot_bytes[1:33]. Ballot
// versions 1, 2 and 3 (§4.2, version 3 from protocol 7; the tracker is
// over the whole encoding of any).
func Tracker(ballot []byte) ([TrackerSize]byte, error) {
	if len(ballot) < minBallotSize || len(ballot) > MaxBallotSize || ballot[0] < 1 || ballot[0] > 3 {
		return [TrackerSize]byte{}, errors.New("receipt: not a version 1, 2 or 3 ballot")
	}
	h := sha256.New()
	h.Write([]byte("ballot-v1"))
	h.Write(ballot[1:33])
	h.Write(ballot)
	var t [TrackerSize]byte
	h.Sum(t[:0])
	return t, nil
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ShortCode returns the short code of a tracker (protocol §4.3): the first
// 10 bytes in Crockford base32, most significant bit first, as four groups
// of four characters joined by "-".
func ShortCode(tracker [TrackerSize]byte) string {
	var sb strings.Builder
	var acc uint64
	for _, b := range tracker[:5] {
		acc = acc<<8 | uint64(b)
	}
	hi := acc
	acc = 0
	for _, b := range tracker[5:10] {
		acc = acc<<8 | uint64(b)
	}
	lo := acc
	for i, v := range []uint64{hi, lo} {
		for j := 7; j >= 0; j-- {
			if c := i*8 + (7 - j); c > 0 && c%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(crockford[(v>>(5*j))&31])
		}
	}
	return sb.String()
}

// Receipt is what the voter keeps after casting (protocol §6).
type Receipt struct {
	ElectionID     string
	Tracker        [TrackerSize]byte
	ShortCode      string
	Index          int64
	InclusionProof tlog.RecordProof
	Checkpoint     []byte // signed note
}

// NewReceipt assembles a receipt (the short code is computed).
func NewReceipt(electionID string, tracker [TrackerSize]byte, index int64, proof tlog.RecordProof, signedCheckpoint []byte) *Receipt {
	return &Receipt{
		ElectionID: electionID, Tracker: tracker, ShortCode: ShortCode(tracker), Index: index,
		InclusionProof: append(tlog.RecordProof(nil), proof...), Checkpoint: append([]byte(nil), signedCheckpoint...),
	}
}

func (r *Receipt) check() error {
	if r == nil {
		return errors.New("receipt: nil receipt")
	}
	if !electionIDRE.MatchString(r.ElectionID) {
		return errors.New("receipt: election id must match [a-z0-9-]{1,64}")
	}
	if subtle.ConstantTimeCompare([]byte(r.ShortCode), []byte(ShortCode(r.Tracker))) != 1 {
		return errors.New("receipt: short code does not match tracker")
	}
	if r.Index < 0 || r.Index >= MaxTreeSize {
		return errors.New("receipt: index out of range")
	}
	if len(r.InclusionProof) > MaxProofHashes {
		return errors.New("receipt: inclusion proof too long")
	}
	if len(r.Checkpoint) == 0 || len(r.Checkpoint) > MaxSignedCheckpoint {
		return errors.New("receipt: checkpoint missing or too long")
	}
	return nil
}

type receiptJSON struct {
	Version        int      `json:"version"`
	ElectionID     string   `json:"election_id"`
	Tracker        string   `json:"tracker"`
	ShortCode      string   `json:"short_code"`
	Index          int64    `json:"index"`
	InclusionProof []string `json:"inclusion_proof"`
	Checkpoint     string   `json:"checkpoint"`
}

// MarshalJSON encodes {"version":1,"election_id","tracker":hex,"short_code",
// "index","inclusion_proof":[hex…],"checkpoint":signed note text}.
func (r *Receipt) MarshalJSON() ([]byte, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	j := receiptJSON{Version: receiptVersion, ElectionID: r.ElectionID, Tracker: hex.EncodeToString(r.Tracker[:]),
		ShortCode: r.ShortCode, Index: r.Index, InclusionProof: []string{}, Checkpoint: string(r.Checkpoint)}
	for _, h := range r.InclusionProof {
		j.InclusionProof = append(j.InclusionProof, hex.EncodeToString(h[:]))
	}
	// Like JavaScript's JSON.stringify: no HTML escaping of <, >, &.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, fmt.Errorf("receipt: encode JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decodeHex32(s string) ([32]byte, error) {
	var out [32]byte
	if len(s) != 64 {
		return out, errors.New("receipt: hash must be 64 hex characters")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return out, errors.New("receipt: hex must be lowercase")
		}
	}
	_, err := hex.Decode(out[:], []byte(s))
	return out, err
}

// ParseReceipt decodes a receipt's JSON strictly: at most [MaxReceiptJSON]
// bytes, one object, unknown fields rejected, lowercase hex, short code
// matching the tracker, bounded index and proof. It does not check the
// checkpoint signature or the proof (see [VerifyReceipt]).
func ParseReceipt(data []byte) (*Receipt, error) {
	if len(data) > MaxReceiptJSON {
		return nil, errors.New("receipt: JSON too large")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j receiptJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("receipt: decode JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("receipt: trailing data after JSON value")
	}
	if j.Version != receiptVersion {
		return nil, errors.New("receipt: unsupported version")
	}
	if len(j.InclusionProof) > MaxProofHashes {
		return nil, errors.New("receipt: inclusion proof too long")
	}
	t, err := decodeHex32(j.Tracker)
	if err != nil {
		return nil, err
	}
	r := &Receipt{ElectionID: j.ElectionID, Tracker: t, ShortCode: j.ShortCode, Index: j.Index, Checkpoint: []byte(j.Checkpoint)}
	for _, s := range j.InclusionProof {
		h, err := decodeHex32(s)
		if err != nil {
			return nil, err
		}
		r.InclusionProof = append(r.InclusionProof, h)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkEntry checks that entry is T ‖ authorisation ‖ ballot_bytes for the
// receipt's tracker, with T recomputed from ballot_bytes.
func checkEntry(tracker [TrackerSize]byte, entry []byte) error {
	if len(entry) < TrackerSize+AuthorisationSize+minBallotSize || len(entry) > TrackerSize+AuthorisationSize+MaxBallotSize {
		return errors.New("receipt: entry length out of range")
	}
	if !bytes.Equal(entry[:TrackerSize], tracker[:]) {
		return errors.New("receipt: entry is for another tracker")
	}
	t, err := Tracker(entry[TrackerSize+AuthorisationSize:])
	if err != nil {
		return err
	}
	if t != tracker {
		return errors.New("receipt: tracker does not match the ballot")
	}
	return nil
}

// VerifyReceipt checks a receipt against the entry it names: entry must be
// T ‖ authorisation ‖ ballot_bytes with T = the receipt's tracker =
// SHA-256("ballot-v1" ‖ manifest_hash ‖ ballot_bytes); the checkpoint must be
// signed by verifierKey with origin "eballot/<election_id>"; and the
// inclusion proof must put LeafHash(entry) at the receipt's index. It
// returns the checkpoint. It does not check the authorisation or the
// ballot's proofs (the ledger and the scrutineer do).
func VerifyReceipt(r *Receipt, verifierKey string, entry []byte) (Checkpoint, error) {
	if err := r.check(); err != nil {
		return Checkpoint{}, err
	}
	if err := checkEntry(r.Tracker, entry); err != nil {
		return Checkpoint{}, err
	}
	return VerifyReceiptLeaf(r, verifierKey, LeafHash(entry))
}

// VerifyReceiptLeaf is [VerifyReceipt] for a caller that has only the leaf
// hash; it cannot check that the leaf belongs to the tracker.
func VerifyReceiptLeaf(r *Receipt, verifierKey string, leaf tlog.Hash) (Checkpoint, error) {
	if err := r.check(); err != nil {
		return Checkpoint{}, err
	}
	c, err := OpenCheckpoint(r.Checkpoint, verifierKey)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != Origin(r.ElectionID) {
		return Checkpoint{}, errors.New("receipt: checkpoint is for another election")
	}
	if err := VerifyInclusion(c, r.Index, leaf, r.InclusionProof); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}

// VerifyReceiptAgainst verifies the receipt ([VerifyReceipt]) and then that
// the signed checkpoint later (same key and origin, not smaller) extends the
// receipt's checkpoint, using the consistency proof. It returns the later
// checkpoint.
func VerifyReceiptAgainst(r *Receipt, verifierKey string, entry, later []byte, consistency tlog.TreeProof) (Checkpoint, error) {
	c, err := VerifyReceipt(r, verifierKey, entry)
	if err != nil {
		return Checkpoint{}, err
	}
	lc, err := OpenCheckpoint(later, verifierKey)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := VerifyConsistency(c, lc, consistency); err != nil {
		return Checkpoint{}, err
	}
	return lc, nil
}
