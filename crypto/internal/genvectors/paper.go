package main

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/paper"
)

// paper_v1.json: the paper section (protocol §9, crypto/paper): signed
// batches and the close of the paper count for the test manifest, the
// sums of a valid section, and invalid sections with the failures every
// implementation must name (check, batch position, style).

type paperLine struct {
	Kind  string `json:"kind"` // "batch" or "close"
	Bytes string `json:"bytes"`
	Note  string `json:"note"`
}

type paperFailure struct {
	Check string `json:"check"`
	Seq   int64  `json:"seq"`
	Style int    `json:"style"`
}

type paperSum struct {
	Style   int    `json:"style"`
	Channel string `json:"channel"`
	Totals  any    `json:"totals"`
}

type paperCase struct {
	Name     string         `json:"name"`
	Lines    []paperLine    `json:"lines"`
	Failures []paperFailure `json:"failures"`
	Counted  int64          `json:"counted"`
	Closed   bool           `json:"closed"`
	Sums     []paperSum     `json:"sums"`
}

type paperFile struct {
	Description string      `json:"description"`
	Manifest    string      `json:"manifest"` // canonical manifest JSON
	Cases       []paperCase `json:"cases"`
}

func genPaper(m *manifest.Manifest) any {
	seed := sha256.Sum256([]byte("eballot-v1 test vectors / log key"))
	skey, vkey := noteKeys(seed[:], "vote.example/log")
	if vkey != m.LogKey {
		panic("genvectors: the paper signer is not the manifest's log key")
	}
	signer := get(note.NewSigner(skey))
	yn := func(papers, yes, no, blank, spoilt int64) paper.Totals {
		q := paper.QuestionTotals{Options: []int64{yes, no}, Blank: blank, Spoilt: spoilt}
		return paper.Totals{Papers: papers, Questions: []paper.QuestionTotals{q, q}}
	}
	batch := func(seq int64, prev string, id string, style int, ch string, t paper.Totals) *paper.Batch {
		b := &paper.Batch{BatchID: id, Channel: ch, ElectionID: m.ElectionID, Prev: prev, Seq: seq, Style: style,
			Keyings: []paper.Keying{{Keyer: "staff-7", Totals: t}, {Keyer: "staff-9", Totals: t}}}
		if ch == paper.ChannelWorkplace {
			b.Box = "north-canteen"
		}
		return b
	}
	signB := func(b *paper.Batch) paperLine {
		raw := get(canonicalOf(b))
		signed := get(note.Sign(&note.Note{Text: paper.BatchNoteText(m.ElectionID, b.Seq, raw)}, signer))
		return paperLine{"batch", base64.StdEncoding.EncodeToString(raw), string(signed)}
	}
	signC := func(c *paper.Close) paperLine {
		raw := get(canonicalOf(c))
		signed := get(note.Sign(&note.Note{Text: paper.CloseNoteText(m.ElectionID, c.Batches, raw)}, signer))
		return paperLine{"close", base64.StdEncoding.EncodeToString(raw), string(signed)}
	}
	hashOf := func(l paperLine) string { return paper.Hash(mustB64(l.Bytes)) }
	returns := func(p0, w0, p1 int64) []paper.StyleReturns {
		return []paper.StyleReturns{
			{Style: m.Styles[0].ID, Postal: p0, Workplace: w0, VotedOnline: 2, SecondReturn: 1, Late: 3},
			{Style: m.Styles[1].ID, Postal: p1},
		}
	}
	// The valid section: three batches and the close.
	b0 := signB(batch(0, paper.ZeroHash, "N-post-1", 0, paper.ChannelPostal, yn(5, 3, 1, 1, 0)))
	b1 := signB(batch(1, hashOf(b0), "N-box-1", 0, paper.ChannelWorkplace, yn(4, 1, 2, 0, 1)))
	b2 := signB(batch(2, hashOf(b1), "S-post-1", 1, paper.ChannelPostal, yn(2, 0, 2, 0, 0)))
	valid := []paperLine{b0, b1, b2, signC(&paper.Close{Batches: 3, ElectionID: m.ElectionID, Head: hashOf(b2), Styles: returns(5, 4, 2)})}

	cases := []paperCase{{Name: "valid", Lines: valid}}
	add := func(name string, lines ...paperLine) { cases = append(cases, paperCase{Name: name, Lines: lines}) }
	mod := func(b *paper.Batch, f func(*paper.Batch)) *paper.Batch { f(b); return b }
	first := func(f func(*paper.Batch)) paperLine {
		return signB(mod(batch(0, paper.ZeroHash, "N-post-1", 0, paper.ChannelPostal, yn(5, 3, 1, 1, 0)), f))
	}
	add("keyings disagree", first(func(b *paper.Batch) { b.Keyings[1].Totals = yn(5, 2, 2, 1, 0) }))
	add("one keyer twice", first(func(b *paper.Batch) { b.Keyings[1].Keyer = "staff-7" }))
	add("not a workplace ballot", first(func(b *paper.Batch) { b.Style = 2 }))
	add("counts do not add up", first(func(b *paper.Batch) { b.Keyings[0].Totals.Papers, b.Keyings[1].Totals.Papers = 6, 6 }))
	add("one question missing", first(func(b *paper.Batch) {
		for i := range b.Keyings {
			b.Keyings[i].Totals.Questions = b.Keyings[i].Totals.Questions[:1]
		}
	}))
	add("another election", first(func(b *paper.Batch) { b.ElectionID = "another-ballot" }))
	add("broken chain", b0, signB(batch(1, paper.ZeroHash, "N-box-1", 0, paper.ChannelWorkplace, yn(4, 1, 2, 0, 1))))
	add("duplicate batch id", b0, signB(batch(1, hashOf(b0), "N-post-1", 0, paper.ChannelPostal, yn(1, 1, 0, 0, 0))))
	tampered := b0
	tampered.Bytes = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(mustB64(b0.Bytes)), `"options":[3,1]`, `"options":[4,0]`, -1)))
	add("tampered totals", tampered)
	dropped := append([]paperLine{b0}, valid[2:]...)
	add("a batch dropped", dropped...)
	add("more counted than returned", b0, b1, b2, signC(&paper.Close{Batches: 3, ElectionID: m.ElectionID, Head: hashOf(b2), Styles: returns(4, 4, 2)}))
	add("close names another head", b0, signC(&paper.Close{Batches: 1, ElectionID: m.ElectionID, Head: paper.ZeroHash, Styles: returns(5, 0, 0)}))
	add("close with one style", b0, signC(&paper.Close{Batches: 1, ElectionID: m.ElectionID, Head: hashOf(b0), Styles: returns(5, 0, 0)[:1]}))
	add("batch after the close", b0, signC(&paper.Close{Batches: 1, ElectionID: m.ElectionID, Head: hashOf(b0), Styles: returns(5, 0, 0)}),
		signB(batch(1, hashOf(b0), "late-batch", 1, paper.ChannelPostal, yn(1, 1, 0, 0, 0))))
	notCanonical := b0
	notCanonical.Bytes = base64.StdEncoding.EncodeToString(append(mustB64(b0.Bytes), ' '))
	add("not canonical", notCanonical)

	for i := range cases {
		c := &cases[i]
		ctr := get(paper.NewCounter(m))
		for _, l := range c.Lines {
			var fs []paper.Failure
			if l.Kind == "batch" {
				fs = ctr.Batch(mustB64(l.Bytes), []byte(l.Note))
			} else {
				fs = ctr.Close(mustB64(l.Bytes), []byte(l.Note))
			}
			for _, f := range fs {
				c.Failures = append(c.Failures, paperFailure{f.Check, f.Seq, f.Style})
			}
		}
		closed, fs := ctr.Finish()
		for _, f := range fs {
			c.Failures = append(c.Failures, paperFailure{f.Check, f.Seq, f.Style})
		}
		if c.Failures == nil {
			c.Failures = []paperFailure{}
		}
		c.Closed, c.Counted = closed, ctr.Counted
		for s := range m.Styles {
			for _, ch := range []string{paper.ChannelPostal, paper.ChannelWorkplace} {
				c.Sums = append(c.Sums, paperSum{Style: s, Channel: ch, Totals: ctr.Sums(s, ch)})
			}
		}
	}
	return paperFile{
		Description: "docs/protocol.md §9 paper section for the manifest of manifest_v1.json (signed with its log key, seed \"eballot-v1 test vectors / log key\"). Each case: lines (kind batch|close, bytes base64, signed note) read in order by a paper counter (crypto/paper.Counter, crypto/js paper.mjs), then finish; failures are {check, seq (batch position or -1), style (or -1)} in order; counted = valid batches; closed = a close line was read; sums = totals of the valid batches per style and channel.",
		Manifest:    string(get(m.Canonical())),
		Cases:       cases,
	}
}

// canonicalOf is the canonical JSON of a batch or close (their Marshal).
func canonicalOf(v interface{ Marshal() ([]byte, error) }) ([]byte, error) { return v.Marshal() }
