// Package paper is the public format of the paper leg of a ballot
// (docs/protocol.md §10, docs/paper.md): the signed batch entries and the
// signed close of the paper count that the ledger appends after the close
// of voting, and [Counter], which checks them and sums the paper votes for
// the scrutineer's tally.
//
// A [Batch] is the totals of one batch of vote slips of one workplace
// ballot (a ballot style, TULRCA s.228) and one channel (postal or
// workplace box), keyed by two different scrutineer staff whose keyings
// must agree. A [Close] ends the paper count: per workplace ballot, the
// papers logged as returned, late, rejected as voted online and returned a
// second time. Both are canonical JSON (sorted keys, no whitespace, the
// form of the manifest, protocol §3) signed by the ledger's note key with
// a note whose text binds the election, the sequence number and the
// SHA-256 of the bytes (see [BatchNoteText], [CloseNoteText]).
//
// Nothing in this format names a member or a paper number (s.230(4)(a)).
package paper

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Channels of a paper vote.
const (
	ChannelPostal    = "postal"
	ChannelWorkplace = "workplace"
)

// Bounds on decoded values.
const (
	// MaxEntry bounds the encoded bytes of a batch or a close.
	MaxEntry = 256 << 10
	// MaxPapers bounds the papers of one batch.
	MaxPapers = 1 << 30
	// MaxID bounds batch ids, box ids and keyer ids (bytes).
	MaxID = 64
	// MaxNote bounds a signed note.
	MaxNote = 4096
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("paper: malformed entry")

// QuestionTotals are the counts of one question in a batch: one count per
// option (indexed like the manifest's options), blank answers and spoilt
// answers. Every question's counts add up to the batch's papers.
type QuestionTotals struct {
	Blank   int64   `json:"blank"`
	Options []int64 `json:"options"`
	Spoilt  int64   `json:"spoilt"`
}

// Totals are what one scrutineer keyed for a batch.
type Totals struct {
	Papers    int64            `json:"papers"`
	Questions []QuestionTotals `json:"questions"`
}

// Keying is one keying of a batch: who keyed it (the staff account's
// public id, never a name) and the totals keyed.
type Keying struct {
	Keyer  string `json:"keyer"`
	Totals Totals `json:"totals"`
}

// Batch is one accepted batch (field order = sorted JSON keys).
type Batch struct {
	// BatchID is the batch's label, unique in the election (printed on the
	// batch's bag).
	BatchID string `json:"batch_id"`
	// Box is the workplace box the slips came from ("" for postal).
	Box     string `json:"box"`
	Channel string `json:"channel"`
	// ElectionID is the manifest's election id.
	ElectionID string `json:"election_id"`
	// Keyings are the two keyings; they are equal except for the keyer.
	Keyings []Keying `json:"keyings"`
	// Prev is the hex SHA-256 of the previous batch's bytes (64 zeros
	// for the first batch): the batches form a chain.
	Prev string `json:"prev"`
	// Seq is the batch's position, 0, 1, 2, … without gaps.
	Seq int64 `json:"seq"`
	// Style is the workplace ballot: an index into the manifest's styles.
	Style int `json:"style"`
}

// StyleReturns are the papers logged for one workplace ballot.
type StyleReturns struct {
	// Late counts returns logged after the close: excluded.
	Late int64 `json:"late"`
	// Postal counts papers returned by post and accepted (marked register).
	Postal int64 `json:"postal"`
	// SecondReturn counts returns of a paper (or a member) already marked
	// by paper: set aside unopened.
	SecondReturn int64 `json:"second_return"`
	// Style is the manifest's style id.
	Style string `json:"style"`
	// VotedOnline counts papers whose member had voted online: set aside
	// unopened ("rejected: voted online").
	VotedOnline int64 `json:"voted_online"`
	// Workplace counts papers issued at a workplace box (marked register).
	Workplace int64 `json:"workplace"`
}

// Close ends the paper count of an election.
type Close struct {
	// Batches is the number of batches before it.
	Batches    int64  `json:"batches"`
	ElectionID string `json:"election_id"`
	// Head is the hex SHA-256 of the last batch's bytes (64 zeros if none).
	Head string `json:"head"`
	// Styles are in the manifest's order, one per style.
	Styles []StyleReturns `json:"styles"`
}

// ZeroHash is the Prev of the first batch and the Head of a count with no
// batch.
var ZeroHash = strings.Repeat("0", 64)

// Hash returns the hex SHA-256 of entry bytes (the chain's link).
func Hash(raw []byte) string {
	h := sha256.Sum256(raw)
	return fmt.Sprintf("%x", h)
}

// canonical encodes v without HTML escaping and without a trailing newline.
func canonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// strict decodes raw into v: one JSON object, no unknown member, and raw
// must be v's canonical encoding (one byte form per value).
func strict(raw []byte, v any) error {
	if len(raw) > MaxEntry {
		return fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxEntry)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	again, err := canonical(v)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !bytes.Equal(again, raw) {
		return fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return nil
}

func checkID(what, s string, empty bool) error {
	if s == "" && empty {
		return nil
	}
	if len(s) == 0 || len(s) > MaxID {
		return fmt.Errorf("%w: %s must be 1 to %d characters", ErrMalformed, what, MaxID)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("%w: %s may hold only letters, digits, '-', '_' and '.'", ErrMalformed, what)
		}
	}
	return nil
}

func checkHex(what, s string) error {
	if len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: %s must be 64 lowercase hex digits", ErrMalformed, what)
	}
	return nil
}

// Marshal returns the batch's canonical bytes after checking its form.
func (b *Batch) Marshal() ([]byte, error) {
	if err := b.checkForm(); err != nil {
		return nil, err
	}
	return canonical(b)
}

// ParseBatch decodes a batch strictly and checks its form (not its
// signature, chain or sums against a manifest: [Counter] does that).
func ParseBatch(raw []byte) (*Batch, error) {
	var b Batch
	if err := strict(raw, &b); err != nil {
		return nil, err
	}
	if err := b.checkForm(); err != nil {
		return nil, err
	}
	return &b, nil
}

func (b *Batch) checkForm() error {
	if err := checkID("batch_id", b.BatchID, false); err != nil {
		return err
	}
	if err := checkID("election_id", b.ElectionID, false); err != nil {
		return err
	}
	if err := checkHex("prev", b.Prev); err != nil {
		return err
	}
	switch b.Channel {
	case ChannelPostal:
		if b.Box != "" {
			return fmt.Errorf("%w: a postal batch has no box", ErrMalformed)
		}
	case ChannelWorkplace:
		if err := checkID("box", b.Box, false); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: channel must be %q or %q", ErrMalformed, ChannelPostal, ChannelWorkplace)
	}
	if b.Seq < 0 || b.Style < 0 || b.Style >= 1<<16 {
		return fmt.Errorf("%w: seq and style must be ≥ 0 (style < 65536)", ErrMalformed)
	}
	if len(b.Keyings) != 2 {
		return fmt.Errorf("%w: a batch has exactly two keyings", ErrMalformed)
	}
	for i, k := range b.Keyings {
		if err := checkID(fmt.Sprintf("keyings[%d].keyer", i), k.Keyer, false); err != nil {
			return err
		}
		if k.Totals.Questions == nil {
			return fmt.Errorf("%w: keyings[%d] has no questions", ErrMalformed, i)
		}
		if err := k.Totals.checkForm(); err != nil {
			return fmt.Errorf("keyings[%d]: %w", i, err)
		}
	}
	return nil
}

func (t *Totals) checkForm() error {
	if t.Papers < 0 || t.Papers > MaxPapers {
		return fmt.Errorf("%w: papers must be 0 to %d", ErrMalformed, MaxPapers)
	}
	if len(t.Questions) > 32 {
		return fmt.Errorf("%w: too many questions", ErrMalformed)
	}
	for _, q := range t.Questions {
		if q.Options == nil || len(q.Options) > 64 {
			return fmt.Errorf("%w: a question needs 1 to 64 option counts", ErrMalformed)
		}
		if q.Blank < 0 || q.Spoilt < 0 {
			return fmt.Errorf("%w: counts must be ≥ 0", ErrMalformed)
		}
		for _, n := range q.Options {
			if n < 0 {
				return fmt.Errorf("%w: counts must be ≥ 0", ErrMalformed)
			}
		}
	}
	return nil
}

// Sum checks that every question's counts add up to the papers, and
// returns the first question (0-based) that does not, or -1.
func (t *Totals) Sum() int {
	for i, q := range t.Questions {
		n := q.Blank + q.Spoilt
		for _, c := range q.Options {
			n += c
		}
		if n != t.Papers {
			return i
		}
	}
	return -1
}

// Difference names the first difference between two keyings' totals, or
// returns "" when they agree.
func Difference(a, b Totals) string {
	if a.Papers != b.Papers {
		return fmt.Sprintf("papers: %d and %d", a.Papers, b.Papers)
	}
	if len(a.Questions) != len(b.Questions) {
		return fmt.Sprintf("number of questions: %d and %d", len(a.Questions), len(b.Questions))
	}
	for i := range a.Questions {
		qa, qb := a.Questions[i], b.Questions[i]
		if len(qa.Options) != len(qb.Options) {
			return fmt.Sprintf("question %d: number of options: %d and %d", i+1, len(qa.Options), len(qb.Options))
		}
		for j := range qa.Options {
			if qa.Options[j] != qb.Options[j] {
				return fmt.Sprintf("question %d, option %d: %d and %d", i+1, j+1, qa.Options[j], qb.Options[j])
			}
		}
		if qa.Blank != qb.Blank {
			return fmt.Sprintf("question %d, blank: %d and %d", i+1, qa.Blank, qb.Blank)
		}
		if qa.Spoilt != qb.Spoilt {
			return fmt.Sprintf("question %d, spoilt: %d and %d", i+1, qa.Spoilt, qb.Spoilt)
		}
	}
	return ""
}

// Marshal returns the close's canonical bytes after checking its form.
func (c *Close) Marshal() ([]byte, error) {
	if err := c.checkForm(); err != nil {
		return nil, err
	}
	return canonical(c)
}

// ParseClose decodes a close strictly and checks its form.
func ParseClose(raw []byte) (*Close, error) {
	var c Close
	if err := strict(raw, &c); err != nil {
		return nil, err
	}
	if err := c.checkForm(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Close) checkForm() error {
	if err := checkID("election_id", c.ElectionID, false); err != nil {
		return err
	}
	if err := checkHex("head", c.Head); err != nil {
		return err
	}
	if c.Batches < 0 || c.Styles == nil || len(c.Styles) > 1024 {
		return fmt.Errorf("%w: batches must be ≥ 0 and styles 1 to 1024", ErrMalformed)
	}
	for _, s := range c.Styles {
		if s.Late < 0 || s.Postal < 0 || s.SecondReturn < 0 || s.VotedOnline < 0 || s.Workplace < 0 || s.Style == "" || len(s.Style) > 512 {
			return fmt.Errorf("%w: style counts must be ≥ 0 with a style id", ErrMalformed)
		}
	}
	return nil
}

// Origin is the origin line of the paper notes of an election.
func Origin(electionID string) string { return "eballot-paper/" + electionID }

// BatchNoteText is the text the ledger signs for batch seq:
// "eballot-paper/<election>\nbatch <seq>\n<base64 SHA-256 of the bytes>\n".
func BatchNoteText(electionID string, seq int64, raw []byte) string {
	h := sha256.Sum256(raw)
	return Origin(electionID) + "\nbatch " + strconv.FormatInt(seq, 10) + "\n" + base64.StdEncoding.EncodeToString(h[:]) + "\n"
}

// CloseNoteText is the text the ledger signs for the close of the paper
// count after n batches: "eballot-paper/<election>\nclose <n>\n<base64
// SHA-256 of the bytes>\n".
func CloseNoteText(electionID string, n int64, raw []byte) string {
	h := sha256.Sum256(raw)
	return Origin(electionID) + "\nclose " + strconv.FormatInt(n, 10) + "\n" + base64.StdEncoding.EncodeToString(h[:]) + "\n"
}

// SignBatch returns the canonical bytes of b and the ledger's signed note
// for them (the ledger calls it with its note signer when it appends b).
func SignBatch(signer note.Signer, b *Batch) (raw, signed []byte, err error) {
	if raw, err = b.Marshal(); err != nil {
		return nil, nil, err
	}
	signed, err = note.Sign(&note.Note{Text: BatchNoteText(b.ElectionID, b.Seq, raw)}, signer)
	return raw, signed, err
}

// SignClose returns the canonical bytes of c and the ledger's signed note.
func SignClose(signer note.Signer, c *Close) (raw, signed []byte, err error) {
	if raw, err = c.Marshal(); err != nil {
		return nil, nil, err
	}
	signed, err = note.Sign(&note.Note{Text: CloseNoteText(c.ElectionID, c.Batches, raw)}, signer)
	return raw, signed, err
}
