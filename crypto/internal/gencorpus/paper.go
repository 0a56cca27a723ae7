package main

import (
	"encoding/json"
	"log"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// paperSpec is a paper section before signing: the batches and the close
// as the cases change them. raw, when set, replaces a record's bytes;
// signer, when set, signs instead of the ledger key.
type paperSpec struct {
	batches  []*paper.Batch
	raw      map[int][]byte // batch index → bytes
	signer   map[int]note.Signer
	close    *paper.Close
	closeRaw []byte
	closeBy  note.Signer
	noClose  bool
	fixChain bool // set seq and prev from the position (false: as given)
}

func totals(papers, yes, no, blank, spoilt int64) paper.Totals {
	return paper.Totals{Papers: papers, Questions: []paper.QuestionTotals{{Blank: blank, Options: []int64{yes, no}, Spoilt: spoilt}}}
}

func keyed(t paper.Totals) []paper.Keying {
	return []paper.Keying{{Keyer: "scrutineer-1", Totals: t}, {Keyer: "scrutineer-2", Totals: t}}
}

// honestPaper is the paper section of the hybrid election: postal papers
// in both workplaces, one batch from a workplace box.
func honestPaper(e *election) *paperSpec {
	id := e.el.Manifest.ElectionID
	styles := e.el.Manifest.Styles
	return &paperSpec{
		batches: []*paper.Batch{
			{BatchID: "postal-1", Channel: paper.ChannelPostal, ElectionID: id, Style: 0, Keyings: keyed(totals(2, 1, 0, 1, 0))},
			{BatchID: "box-1", Box: "depot", Channel: paper.ChannelWorkplace, ElectionID: id, Style: 1, Keyings: keyed(totals(1, 1, 0, 0, 0))},
			{BatchID: "postal-2", Channel: paper.ChannelPostal, ElectionID: id, Style: 1, Keyings: keyed(totals(1, 0, 1, 0, 0))},
		},
		close: &paper.Close{ElectionID: id, Styles: []paper.StyleReturns{
			{Style: styles[0].ID, Postal: 2, VotedOnline: 1, Late: 1},
			{Style: styles[1].ID, Postal: 1, Workplace: 1, SecondReturn: 1},
		}},
		fixChain: true,
	}
}

// lines signs the section: the export's batch and paper close.
func (s *paperSpec) lines(e *election) ([]export.Batch, *export.PaperClose) {
	id := e.el.Manifest.ElectionID
	ledger := e.el.LogSigner()
	prev := strings.Repeat("0", 64)
	var out []export.Batch
	for i, b := range s.batches {
		if s.fixChain {
			b.Seq, b.Prev = int64(i), prev
		}
		raw := s.raw[i]
		if raw == nil {
			raw = must(b.Marshal())
		}
		by := ledger
		if x := s.signer[i]; x != nil {
			by = x
		}
		signed := must(note.Sign(&note.Note{Text: paper.BatchNoteText(id, int64(i), raw)}, by))
		out = append(out, export.Batch{Bytes: raw, Note: signed})
		prev = paper.Hash(raw)
	}
	if s.noClose {
		return out, nil
	}
	c := *s.close
	if s.fixChain {
		c.Batches, c.Head = int64(len(s.batches)), prev
	}
	raw := s.closeRaw
	if raw == nil {
		raw = must(c.Marshal())
	}
	by := ledger
	if s.closeBy != nil {
		by = s.closeBy
	}
	signed := must(note.Sign(&note.Note{Text: paper.CloseNoteText(id, int64(len(s.batches)), raw)}, by))
	return out, &export.PaperClose{Bytes: raw, Note: signed}
}

// withPaper is the hybrid election's export with another paper section.
func (e *election) withPaper(s *paperSpec) string {
	bs, pc := s.lines(e)
	return string(must(e.el.Export(e.entries, fixture.WriteOptions{CheckpointEvery: every, Version: export.PaperVersion, Batches: bs, PaperClose: pc})))
}

// clone copies a batch (its keyings too).
func clone(b *paper.Batch) *paper.Batch {
	var c paper.Batch
	if err := json.Unmarshal(must(json.Marshal(b)), &c); err != nil {
		log.Fatal(err)
	}
	return &c
}

func must0(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func (s *paperSpec) copy() *paperSpec {
	c := *s
	c.batches = nil
	for _, b := range s.batches {
		c.batches = append(c.batches, clone(b))
	}
	cl := *s.close
	cl.Styles = append([]paper.StyleReturns(nil), s.close.Styles...)
	c.close = &cl
	c.raw, c.signer = map[int][]byte{}, map[int]note.Signer{}
	return &c
}

// paperCases adds the cases of the paper section (docs/protocol.md §10),
// each changing one thing of the hybrid election's.
func paperCases(b *builder, hy *election) {
	honest := honestPaper(hy)
	P := func(name string, f func(s *paperSpec), in map[string]any, expect ...string) {
		s := honest.copy()
		f(s)
		if in == nil {
			in = noResult
		}
		b.lines(name, "hybrid", split(hy.withPaper(s)), in, expect...)
	}
	osk, _ := must2(note.GenerateKey(randReader(), "ledger.other.example"))
	other := must(note.NewSigner(osk))
	ls := split(hy.exp)
	bAt := find(ls, isType("batch"))
	b.inputs("hybrid: every input given", "hybrid", nil).Limits = ptr([]string{})
	b.lines("a batch that is not canonical base64", "hybrid", func() []string {
		x := append([]string(nil), ls...)
		x[bAt] = edit(ls, bAt, func(m map[string]any) { m["batch"] = "" })
		return x
	}(), noResult, "paper.encoding")
	b.lines("a paper line in a version 4 export", "hybrid", func() []string {
		x := append([]string(nil), ls...)
		x[0] = edit(ls, 0, func(m map[string]any) { m["version"] = 4 })
		return x
	}(), noResult, "file.order")
	P("a batch that is not a batch", func(s *paperSpec) { s.raw[2] = []byte(`{"batch":1}`) }, nil, "batch.encoding")
	P("a batch signed by another key", func(s *paperSpec) { s.signer[1] = other }, nil, "batch.signature")
	P("a batch of another ballot", func(s *paperSpec) { s.batches[1].ElectionID = "another-ballot" }, nil, "batch.election")
	P("a batch out of its place in the chain", func(s *paperSpec) {
		s.fixChain = false
		prev := strings.Repeat("0", 64)
		for i, x := range s.batches {
			x.Seq, x.Prev = int64(i), prev
			prev = paper.Hash(must(x.Marshal()))
		}
		s.batches[1].Prev = strings.Repeat("0", 64)
		prev = paper.Hash(must(s.batches[1].Marshal()))
		s.batches[2].Prev = prev
		s.close.Batches, s.close.Head = 3, paper.Hash(must(s.batches[2].Marshal()))
	}, nil, "batch.chain")
	P("a batch id twice", func(s *paperSpec) { s.batches[2].BatchID = "postal-1" }, nil, "batch.duplicate_id")
	P("a batch of no workplace ballot", func(s *paperSpec) { s.batches[2].Style = 7 }, nil, "batch.style")
	P("a batch keyed twice by one person", func(s *paperSpec) { s.batches[0].Keyings[1].Keyer = "scrutineer-1" }, nil, "batch.keyers")
	P("a batch whose keyings disagree", func(s *paperSpec) { s.batches[0].Keyings[1].Totals = totals(2, 0, 1, 1, 0) }, nil, "batch.keyings_agree")
	P("a batch whose counts do not add up", func(s *paperSpec) { s.batches[0].Keyings = keyed(totals(2, 2, 1, 0, 0)) }, nil, "batch.totals")
	P("a paper close that is not a close", func(s *paperSpec) { s.closeRaw = []byte(`{"close":1}`) }, nil, "paper_close.encoding")
	P("a paper close signed by another key", func(s *paperSpec) { s.closeBy = other }, nil, "paper_close.signature")
	P("no paper close: the paper count is not complete", func(s *paperSpec) { s.noClose = true }, nil, "paper_close.chain")
	P("a paper close that names fewer batches", func(s *paperSpec) {
		s.fixChain = false
		prev := strings.Repeat("0", 64)
		for i, x := range s.batches {
			x.Seq, x.Prev = int64(i), prev
			prev = paper.Hash(must(x.Marshal()))
		}
		s.close.Batches, s.close.Head = 2, prev
	}, nil, "paper_close.chain")
	P("a paper close of other workplace ballots", func(s *paperSpec) { s.close.Styles[1].Style = "elsewhere" }, nil, "paper_close.styles")
	P("more postal votes than papers returned", func(s *paperSpec) { s.close.Styles[0].Postal = 1 }, nil, "counts.paper_returned")
	P("more ballots and paper votes than the marked register", func(s *paperSpec) {}, withNoResult(map[string]any{"counts": nil, "issued": []int64{1, 3}}), "counts.issued", "counts.paper_marked")
	P("a marked register larger than the entitled", func(s *paperSpec) { s.close.Styles[0].Postal = 8 }, nil, "counts.paper_entitled")
	// Every member of the paper section's records (TestCorpusCoversEveryField).
	retype := func(name, typ, newType string) {
		at := find(ls, isType(typ))
		x := append([]string(nil), ls...)
		x[at] = edit(ls, at, func(m map[string]any) { m["type"] = newType })
		b.lines(name, "hybrid", x, noResult, "file.line")
	}
	retype("a batch line typed as a paper close", "batch", "paper_close")
	retype("a paper close line typed as a batch", "paper_close", "batch")
	b.lines("version 3 without a paper section: the paper count cut from the file", "hybrid", func() []string {
		var x []string
		for _, l := range ls {
			if t := obj(l)["type"]; t != "batch" && t != "paper_close" {
				x = append(x, l)
			}
		}
		return x
	}(), noResult, "paper_close.chain")
	P("a postal batch from a box", func(s *paperSpec) {
		var m map[string]any
		s.batches[0].Seq, s.batches[0].Prev = 0, strings.Repeat("0", 64) // as fixChain makes it
		must0(json.Unmarshal(must(s.batches[0].Marshal()), &m))
		m["box"] = "depot"
		s.raw[0] = []byte(canon(m)[:len(canon(m))-1])
	}, nil, "batch.encoding")
	P("a postal batch counted as from a box", func(s *paperSpec) {
		s.batches[2].Channel, s.batches[2].Box = paper.ChannelWorkplace, "depot"
	}, nil, "counts.paper_returned")
	P("a batch whose papers are not its counts", func(s *paperSpec) { s.batches[0].Keyings = keyed(totals(3, 1, 0, 1, 0)) }, nil, "batch.totals")
	P("a batch with a spoilt paper too many", func(s *paperSpec) { s.batches[0].Keyings = keyed(totals(2, 1, 0, 1, 1)) }, nil, "batch.totals")
	P("a batch with another sequence number", func(s *paperSpec) {
		s.fixChain = false
		prev := strings.Repeat("0", 64)
		for i, x := range s.batches {
			x.Seq, x.Prev = int64(i), prev
			if i == 1 {
				x.Seq = 5
			}
			prev = paper.Hash(must(x.Marshal()))
		}
		s.close.Batches, s.close.Head = 3, prev
	}, nil, "batch.chain")
	P("a paper close of another ballot", func(s *paperSpec) { s.close.ElectionID = "another-ballot" }, nil, "paper_close.chain")
	P("a paper close with fewer papers from the boxes than counted", func(s *paperSpec) { s.close.Styles[1].Workplace = 0 }, nil, "counts.paper_returned")
	withResult := map[string]any{} // the base's signed result, partials and counts
	P("a paper close with other late papers than the signed result", func(s *paperSpec) { s.close.Styles[0].Late = 0 }, withResult, "result.counts")
	P("a paper close with other second returns than the signed result", func(s *paperSpec) { s.close.Styles[1].SecondReturn = 0 }, withResult, "result.counts")
	P("a paper close with other papers voted online than the signed result", func(s *paperSpec) { s.close.Styles[0].VotedOnline = 2 }, withResult, "result.counts")

	// The signed result of a hybrid ballot.
	S := func(name string, f func(r map[string]any), expect ...string) {
		rep, sig := hy.signed(f)
		b.inputs(name, "hybrid", map[string]any{"report": rep, "signature": sig}, expect...)
	}
	ver := func(r map[string]any) map[string]any {
		return r["verification"].(map[string]any)["paper"].(map[string]any)
	}
	ch := func(r map[string]any, c int) map[string]any {
		st := r["result"].(map[string]any)["styles"].([]any)[0].(map[string]any)
		return st["channels"].([]any)[c].(map[string]any)
	}
	chq := func(r map[string]any, c int) map[string]any { return ch(r, c)["questions"].([]any)[0].(map[string]any) }
	S("a result of a paper section of fewer batches", func(r map[string]any) { ver(r)["batches"] = json.Number("2") }, "result.ledger")
	S("a result of a paper section with another head", func(r map[string]any) { ver(r)["head"] = strings.Repeat("ab", 32) }, "result.ledger")
	S("a result whose channels are named otherwise", func(r map[string]any) { ch(r, 0)["channel"] = "internet" }, "result.counts")
	S("a result channel's question id", func(r map[string]any) { chq(r, 1)["id"] = "other" }, "result.particulars")
	S("a result channel's question text", func(r map[string]any) { chq(r, 1)["text"] = "Strike?" }, "result.particulars")
	S("a result channel's option id", func(r map[string]any) { chq(r, 1)["options"].([]any)[0].(map[string]any)["id"] = "aye" }, "result.particulars")
	S("a result channel's option label", func(r map[string]any) { chq(r, 1)["options"].([]any)[0].(map[string]any)["label"] = "Aye" }, "result.particulars")
	S("a result channel's question yes_no", func(r map[string]any) { chq(r, 1)["yes_no"] = false }, "result.derived")
	S("a result channel's majority contradicting its counts", func(r map[string]any) { chq(r, 0)["majority_yes"] = true }, "result.derived")
	S("a result channel's support threshold", func(r map[string]any) { chq(r, 0)["support_threshold_met"] = true }, "result.derived")
	S("a result channel's question supported", func(r map[string]any) { chq(r, 0)["supported"] = true }, "result.derived")
	rep, sig := hy.signed(func(r map[string]any) {
		r["verification"].(map[string]any)["paper"].(map[string]any)["counted"] = json.Number("2")
	})
	b.inputs("a result of another paper section", "hybrid", map[string]any{"report": rep, "signature": sig}, "result.ledger")
	rep, sig = hy.signed(func(r map[string]any) {
		st := r["result"].(map[string]any)["styles"].([]any)[0].(map[string]any)
		st["channels"].([]any)[1].(map[string]any)["votes_cast"] = json.Number("3")
	})
	b.inputs("a result whose postal count is not the batches'", "hybrid", map[string]any{"report": rep, "signature": sig}, "result.counts")
	rep, sig = hy.signed(func(r map[string]any) {
		r["result"].(map[string]any)["aggregate"].(map[string]any)["paper_rejected"].(map[string]any)["late"] = json.Number("0")
	})
	b.inputs("a result with other papers rejected", "hybrid", map[string]any{"report": rep, "signature": sig}, "result.counts")
}
