package paper

import (
	"bytes"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/internal/snote"
	"github.com/unionvote/eballot/crypto/manifest"
)

// The named checks of the paper leg (docs/protocol.md §8.2 (group paper)): a failure
// names the check that failed, with the same name in Go and JavaScript.
const (
	CheckBatchEncoding  = "batch.encoding"
	CheckBatchSignature = "batch.signature"
	CheckBatchElection  = "batch.election"
	CheckBatchChain     = "batch.chain"
	CheckBatchDuplicate = "batch.duplicate_id"
	CheckBatchStyle     = "batch.style"
	CheckBatchKeyers    = "batch.keyers"
	CheckBatchKeyings   = "batch.keyings_agree"
	CheckBatchTotals    = "batch.totals"
	CheckBatchAfter     = "batch.after_close"
	CheckCloseEncoding  = "paper_close.encoding"
	CheckCloseSignature = "paper_close.signature"
	CheckCloseChain     = "paper_close.chain"
	CheckCloseStyles    = "paper_close.styles"
	CheckReturned       = "counts.paper_returned"
)

// Checks lists the paper checks in the order of docs/protocol.md §8.2 (group paper).
var Checks = []string{
	CheckBatchEncoding, CheckBatchSignature, CheckBatchElection, CheckBatchChain, CheckBatchDuplicate,
	CheckBatchStyle, CheckBatchKeyers, CheckBatchKeyings, CheckBatchTotals, CheckBatchAfter,
	CheckCloseEncoding, CheckCloseSignature, CheckCloseChain, CheckCloseStyles, CheckReturned,
}

// Failure is one failed paper check.
type Failure struct {
	Check string
	// Seq is the batch's position (-1 for the close and the counts).
	Seq int64
	// Style is the style index for counts failures, else -1.
	Style  int
	Reason string
}

func (f Failure) String() string {
	s := f.Check
	if f.Seq >= 0 {
		s += fmt.Sprintf(" (batch %d)", f.Seq)
	}
	if f.Style >= 0 {
		s += fmt.Sprintf(" (style %d)", f.Style)
	}
	return s + ": " + f.Reason
}

// Counter checks the paper entries of an export in order and sums the
// valid batches per style and channel. Batches that fail a check are not
// counted. Use [NewCounter], then [Counter.Batch] for each batch line,
// [Counter.Close] for the close line if any, and [Counter.Finish].
type Counter struct {
	m      *manifest.Manifest
	v      note.Verifier
	prev   string
	ids    map[string]bool
	closed *Close
	saw    bool // a close line was read (valid or not)
	// sums[style][0] postal, [1] workplace.
	sums [][2]Totals
	// Batches is the number of batch lines read; Counted the valid ones.
	Batches, Counted int64
}

// NewCounter returns a Counter for the election of m, whose notes are
// checked with m's log key.
func NewCounter(m *manifest.Manifest) (*Counter, error) {
	v, err := snote.ParseVerifierKey(m.LogKey)
	if err != nil {
		return nil, fmt.Errorf("read log key: %w", err)
	}
	c := &Counter{m: m, v: v, prev: ZeroHash, ids: map[string]bool{}, sums: make([][2]Totals, len(m.Styles))}
	for i := range c.sums {
		for ch := range c.sums[i] {
			c.sums[i][ch] = zeroTotals(m)
		}
	}
	return c, nil
}

func zeroTotals(m *manifest.Manifest) Totals {
	t := Totals{Questions: make([]QuestionTotals, len(m.Questions))}
	for i, q := range m.Questions {
		t.Questions[i].Options = make([]int64, len(q.Options))
	}
	return t
}

func (c *Counter) open(signed []byte, want string) error {
	if len(signed) > MaxNote {
		return fmt.Errorf("note longer than %d bytes", MaxNote)
	}
	// The one strict reading of a signed note (protocol §6.1), shared with
	// checkpoints and the report; a paper note carries no witness
	// signature, so exactly one signature line (as paper.mjs).
	text, err := snote.Open(signed, c.v)
	if err != nil {
		return fmt.Errorf("the note does not verify under the manifest's log key: %w", err)
	}
	if bytes.Count(signed[len(text)+1:], []byte("\n")) != 1 {
		return fmt.Errorf("the note must carry exactly one signature, by the log key")
	}
	if text != want {
		return fmt.Errorf("the signed text does not name these bytes at this position")
	}
	return nil
}

// Batch checks one batch line (its bytes and signed note) and counts it
// when every check passes.
func (c *Counter) Batch(raw, signed []byte) []Failure {
	seq := c.Batches
	c.Batches++
	fail := func(check, format string, a ...any) []Failure {
		return []Failure{{Check: check, Seq: seq, Style: -1, Reason: fmt.Sprintf(format, a...)}}
	}
	link := Hash(raw)
	prev := c.prev
	c.prev = link
	if c.closed != nil {
		return fail(CheckBatchAfter, "a batch after the close of the paper count")
	}
	b, err := ParseBatch(raw)
	if err != nil {
		return fail(CheckBatchEncoding, "%v", err)
	}
	if err := c.open(signed, BatchNoteText(c.m.ElectionID, seq, raw)); err != nil {
		return fail(CheckBatchSignature, "%v", err)
	}
	var out []Failure
	add := func(check, format string, a ...any) {
		out = append(out, Failure{Check: check, Seq: seq, Style: -1, Reason: fmt.Sprintf(format, a...)})
	}
	if b.ElectionID != c.m.ElectionID {
		add(CheckBatchElection, "batch of election %q in the export of %q", b.ElectionID, c.m.ElectionID)
	}
	if b.Seq != seq || b.Prev != prev {
		add(CheckBatchChain, "batch says seq %d after %s…, it is batch %d after %s…", b.Seq, b.Prev[:12], seq, prev[:12])
	}
	if c.ids[b.BatchID] {
		add(CheckBatchDuplicate, "batch id %q appears twice", b.BatchID)
	}
	c.ids[b.BatchID] = true
	if b.Style >= len(c.m.Styles) {
		add(CheckBatchStyle, "style %d is not a workplace ballot of the manifest (%d styles)", b.Style, len(c.m.Styles))
	}
	if b.Keyings[0].Keyer == b.Keyings[1].Keyer {
		add(CheckBatchKeyers, "both keyings are by %q: two different scrutineer staff must key a batch", b.Keyings[0].Keyer)
	}
	t := b.Keyings[0].Totals
	if d := Difference(t, b.Keyings[1].Totals); d != "" {
		add(CheckBatchKeyings, "the two keyings disagree: %s", d)
	}
	if err := CheckTotals(c.m, t); err != nil {
		add(CheckBatchTotals, "%v", err)
	}
	if len(out) > 0 {
		return out
	}
	ch := 0
	if b.Channel == ChannelWorkplace {
		ch = 1
	}
	addTotals(&c.sums[b.Style][ch], t)
	c.Counted++
	return nil
}

// CheckTotals checks that t has the manifest's questions and options and
// that every question's counts add up to the papers.
func CheckTotals(m *manifest.Manifest, t Totals) error {
	if d := Difference(zeroShape(t), zeroTotals(m)); d != "" {
		return fmt.Errorf("the totals do not have the ballot's questions and options (%s)", d)
	}
	if q := t.Sum(); q >= 0 {
		return fmt.Errorf("question %d's counts do not add up to the %d papers", q+1, t.Papers)
	}
	return nil
}

// zeroShape returns t's shape with every count zero (to compare shapes).
func zeroShape(t Totals) Totals {
	z := Totals{Questions: make([]QuestionTotals, len(t.Questions))}
	for i, q := range t.Questions {
		z.Questions[i].Options = make([]int64, len(q.Options))
	}
	return z
}

func addTotals(dst *Totals, t Totals) {
	dst.Papers += t.Papers
	for i, q := range t.Questions {
		dst.Questions[i].Blank += q.Blank
		dst.Questions[i].Spoilt += q.Spoilt
		for j, n := range q.Options {
			dst.Questions[i].Options[j] += n
		}
	}
}

// Close checks the close line of the paper count.
func (c *Counter) Close(raw, signed []byte) []Failure {
	fail := func(check, format string, a ...any) []Failure {
		return []Failure{{Check: check, Seq: -1, Style: -1, Reason: fmt.Sprintf(format, a...)}}
	}
	if c.saw {
		return fail(CheckCloseEncoding, "a second close of the paper count")
	}
	c.saw = true
	cl, err := ParseClose(raw)
	if err != nil {
		return fail(CheckCloseEncoding, "%v", err)
	}
	if err := c.open(signed, CloseNoteText(c.m.ElectionID, c.Batches, raw)); err != nil {
		return fail(CheckCloseSignature, "%v", err)
	}
	c.closed = cl
	var out []Failure
	if cl.ElectionID != c.m.ElectionID || cl.Batches != c.Batches || cl.Head != c.prev {
		out = append(out, Failure{Check: CheckCloseChain, Seq: -1, Style: -1,
			Reason: fmt.Sprintf("the close names %d batches ending %s…, the export has %d ending %s…", cl.Batches, cl.Head[:12], c.Batches, c.prev[:12])})
	}
	if len(cl.Styles) != len(c.m.Styles) {
		out = append(out, Failure{Check: CheckCloseStyles, Seq: -1, Style: -1,
			Reason: fmt.Sprintf("the close lists %d workplace ballots, the manifest %d", len(cl.Styles), len(c.m.Styles))})
		return out
	}
	for i, s := range cl.Styles {
		if s.Style != c.m.Styles[i].ID {
			out = append(out, Failure{Check: CheckCloseStyles, Seq: -1, Style: i,
				Reason: fmt.Sprintf("the close's style %d is %q, the manifest's %q", i, s.Style, c.m.Styles[i].ID)})
		}
	}
	return out
}

// Finish checks, per workplace ballot and channel, that the paper votes
// counted are at most the papers logged as returned (or issued at a
// box). Without a valid close there is nothing to compare with: closed
// reports whether a close line was read (an invalid one is already named
// by [Counter.Close]; [Counter.Returns] is then nil).
func (c *Counter) Finish() (closed bool, fs []Failure) {
	if c.closed == nil || len(c.closed.Styles) != len(c.sums) {
		return c.saw, nil
	}
	for i, s := range c.closed.Styles {
		if n := c.sums[i][0].Papers; n > s.Postal {
			fs = append(fs, Failure{Check: CheckReturned, Seq: -1, Style: i,
				Reason: fmt.Sprintf("%d postal papers counted, %d logged as returned", n, s.Postal)})
		}
		if n := c.sums[i][1].Papers; n > s.Workplace {
			fs = append(fs, Failure{Check: CheckReturned, Seq: -1, Style: i,
				Reason: fmt.Sprintf("%d workplace papers counted, %d issued at the boxes", n, s.Workplace)})
		}
	}
	return true, fs
}

// Sums returns the valid batches' totals of a style and channel.
func (c *Counter) Sums(style int, channel string) Totals {
	if channel == ChannelWorkplace {
		return c.sums[style][1]
	}
	return c.sums[style][0]
}

// Head returns the hex SHA-256 of the last batch line read (the chain's
// head; ZeroHash before any).
func (c *Counter) Head() string { return c.prev }

// Returns returns the close's counts (nil before a valid close).
func (c *Counter) Returns() *Close { return c.closed }
