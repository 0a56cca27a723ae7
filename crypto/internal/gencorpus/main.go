// Command gencorpus writes the tamper corpus crypto/testdata/tamper_v2.json:
// honest elections (a closed version 2 ledger with its counts, partial
// decryptions and signed result; one whose workplace sums cancel out; a
// legacy version 1 export; one with more ballots than entitled) and cases
// that change one thing of one of them, each with the set of named checks
// of docs/protocol.md §8.2 that must fail (and, where it matters, the
// limits of §8.3 that must be said). Both verifiers run every case: Go
// (crypto/report, TestCorpus) and JavaScript (crypto/js/test/corpus.test.mjs).
//
// Run from the module root: go run ./crypto/internal/gencorpus
//
// The elections use fresh keys and randomness (RSA keys cannot be made
// deterministically), so each run writes other bytes with the same cases
// and the same expectations.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

// Inputs are what a verifier is given (docs/protocol.md §8): the JSON of
// both test runners. A case's inputs override its base's; null removes.
type Inputs struct {
	Export    *string   `json:"export,omitempty"`
	ExportB64 *string   `json:"export_b64,omitempty"` // an export that is not UTF-8
	Issued    *[]int64  `json:"issued,omitempty"`
	Counts    *string   `json:"counts,omitempty"`
	Report    *string   `json:"report,omitempty"`
	Signature *string   `json:"signature,omitempty"`
	Partials  *string   `json:"partials,omitempty"`
	Key       *string   `json:"key,omitempty"`
	Expected  *Expected `json:"expected,omitempty"`
}

// Expected is what the export must match from outside.
type Expected struct {
	ElectionID   string `json:"election_id,omitempty"`
	ManifestHash string `json:"manifest_hash,omitempty"`
	FinalSize    *int64 `json:"final_size,omitempty"`
	FinalRoot    string `json:"final_root,omitempty"`
}

// Edit changes the base export (or report), line by line (0-based), in
// order: replace line Line by Text, delete line Line, or insert Text before
// line Line.
type Edit struct {
	Line   int     `json:"line"`
	Op     string  `json:"op"` // "replace", "delete", "insert" (before Line)
	Text   *string `json:"text,omitempty"`
	Reason string  `json:"-"`
}

// Case is one tamper (or honest variant) of a base election.
type Case struct {
	Name  string `json:"name"`
	Base  string `json:"base"`
	Edits []Edit `json:"edits,omitempty"`
	// ReportEdits change the base's report.json the same way.
	ReportEdits []Edit          `json:"report_edits,omitempty"`
	Inputs      json.RawMessage `json:"inputs,omitempty"` // overrides, null removes
	Expect      []string        `json:"expect"`
	Limits      *[]string       `json:"limits,omitempty"`
}

// Base is an honest election and what it must give.
type Base struct {
	Inputs
	Tally [][][]int64 `json:"tally,omitempty"` // [style][question][option], when a result is given
}

// Corpus is the file.
type Corpus struct {
	Description string          `json:"description"`
	Checks      []string        `json:"checks"`
	Limits      []string        `json:"limits"`
	Bases       map[string]Base `json:"bases"`
	Cases       []Case          `json:"cases"`
}

func ptr[T any](v T) *T { return &v }

// election is a generated election with its secrets.
type election struct {
	el        *fixture.Election
	entries   []fixture.Made
	skey      note.Signer
	vkey      string
	shares    []*threshold.SecretShare
	exp       string
	res       *verify.Result
	counts    string
	partials  []*threshold.Partial
	report    string
	signature string
	rep       *report.Report
}

const every = 3

// earlyClose is when the honest election's close says voting stopped:
// before the fixture manifest's closes_at (2026-12-15T17:00:00Z).
const earlyClose = "2026-12-10T12:00:00Z"

// closedAtOf is the close time a signed close states ("" if none).
func closedAtOf(signed string) string {
	text := signed[:strings.LastIndex(signed, "\n\n")+1]
	c, err := receipt.ParseCheckpoint([]byte(text))
	if err != nil {
		return ""
	}
	return c.ClosedAt
}

func newElection(id string, entitled []int64) *election {
	sk, vk := must2(note.GenerateKey(rand.Reader, "scrutineer.corpus.example"))
	e := &election{vkey: vk}
	e.skey = must(note.NewSigner(sk))
	e.el = must(fixture.New(fixture.Options{ElectionID: id, Styles: len(entitled), ScrutineerKey: vk}, entitled))
	e.shares = e.el.Shares
	elections[e.el.Election.ManifestHash()] = e.el.Election
	return e
}

// elections are the corpus's elections by manifest hash, for rehint.
var elections = map[[32]byte]*ballot.Election{}

// rehint returns the decompression hints (base64, docs/protocol.md §4.5)
// of an entry as a tamperer would write them with a changed entry: the
// right ones for its ballot, or none when it does not decode (as
// crypto/export's Writer): a changed ballot is then refused for what was
// changed, not for hints left from the ballot before.
func rehint(entry []byte) string {
	const head = 32 + 288
	if len(entry) < head+33 {
		return ""
	}
	el := elections[[32]byte(entry[head+1:head+33])]
	if el == nil {
		return ""
	}
	h, err := el.Hints(entry[head:])
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(h)
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		log.Fatal(err)
	}
	return a, b
}

// finish writes the export of e.entries and the result published for it.
func (e *election) finish(opt fixture.WriteOptions, issuedExtra int64) {
	if opt.CheckpointEvery == 0 {
		opt.CheckpointEvery = every
	}
	e.exp = string(must(e.el.Export(e.entries, opt)))
	m := e.el.Manifest
	type sc struct {
		Style    string `json:"style"`
		Entitled int64  `json:"entitled"`
		Issued   int64  `json:"issued"`
		Replaced int64  `json:"replaced"`
		Postal   int64  `json:"postal"`
	}
	cs := struct {
		ElectionID string `json:"election_id"`
		Styles     []sc   `json:"styles"`
	}{ElectionID: m.ElectionID}
	n := make([]int64, len(m.Styles))
	for _, en := range e.entries {
		n[en.Style]++
	}
	for i, s := range m.Styles {
		cs.Styles = append(cs.Styles, sc{s.ID, s.Entitled, min(n[i]+issuedExtra, s.Entitled), 0, 0})
	}
	e.counts = string(must(json.Marshal(cs))) + "\n"
	e.res = must(verify.Verify(context.Background(), strings.NewReader(e.exp), verify.Options{Published: []byte(e.counts)}))
	if !e.res.OK() {
		log.Fatalf("the honest election %s does not verify: %v", m.ElectionID, e.res.Failures)
	}
	pub := must(tally.TrusteeKey(e.res.Manifest))
	mh := e.res.Election.ManifestHash()
	alphas := e.res.Sums.Alphas()
	e.partials = nil
	if len(alphas) > 0 {
		for _, sk := range e.shares {
			e.partials = append(e.partials, must(threshold.PartialDecrypt(rand.Reader, pub, sk, mh[:], alphas)))
		}
	}
	use := []*threshold.Partial{}
	if len(e.partials) > 0 {
		use = []*threshold.Partial{e.partials[0], e.partials[2]}
	}
	counts, bad, err := tally.Decrypt(pub, e.res.Sums, use)
	if err != nil || len(bad) > 0 {
		log.Fatal(err, bad)
	}
	counts.Paper, counts.ClosedAt = e.res.PaperTotals(), e.res.ClosedAt
	r := must(tally.Compute(e.res.Manifest, counts))
	rf := &report.ResultFile{Version: report.Version, Result: r, Verification: report.Summary(e.res), Rejected: []report.RejectedTrust{}}
	rf.Verification.Issued = e.res.Issued
	e.rep = report.New(rf, e.skey.Name(), report.Options{Date: "2026-12-16"})
	e.sign(e.rep)
	// The base report in the form the cases change it in (members sorted,
	// one a line), so that a case's report is a few changed lines of it.
	e.report, e.signature = e.signed(func(map[string]any) {})
}

// sign signs rep as the scrutineer (the report and signature of the base).
func (e *election) sign(rep *report.Report) {
	js, sig := must2(report.Sign(rep, e.skey))
	e.report, e.signature = string(js), string(sig)
}

// signed returns a report changed by f, signed by the scrutineer.
func (e *election) signed(f func(r map[string]any)) (string, string) {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(e.report))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		log.Fatal(err)
	}
	f(m)
	b := must(json.MarshalIndent(m, "", "  "))
	return e.signText(append(b, '\n'))
}

// signText signs any text as the scrutineer.
func (e *election) signText(js []byte) (string, string) {
	n := must(note.Sign(&note.Note{Text: string(js)}, e.skey))
	return string(js), string(n[len(js):])
}

func (e *election) partialsDoc(ps []*threshold.Partial) string {
	var raws []json.RawMessage
	for _, p := range ps {
		raws = append(raws, must(p.MarshalJSON()))
	}
	if raws == nil {
		raws = []json.RawMessage{}
	}
	return string(must(json.Marshal(map[string]any{"partials": raws}))) + "\n"
}

func (e *election) inputs() Inputs {
	in := Inputs{Export: ptr(e.exp), Counts: ptr(e.counts), Key: ptr(e.vkey)}
	if e.report != "" {
		in.Report, in.Signature, in.Partials = ptr(e.report), ptr(e.signature), ptr(e.partialsDoc(e.partials))
	}
	return in
}

func (e *election) tally() [][][]int64 {
	var out [][][]int64
	for _, s := range e.rep.Result.Styles {
		var qs [][]int64
		for _, q := range s.Questions {
			var os []int64
			for _, o := range q.Counts {
				os = append(os, o.Count)
			}
			qs = append(qs, os)
		}
		out = append(out, qs)
	}
	return out
}

// ---- Lines of an export.

func split(exp string) []string {
	ls := strings.SplitAfter(exp, "\n")
	return ls[:len(ls)-1]
}

func obj(line string) map[string]any {
	var m map[string]any
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		log.Fatalf("%v: %s", err, line)
	}
	return m
}

func canon(v any) string {
	return string(must(manifest.Canonicalize(must(json.Marshal(v))))) + "\n"
}

func find(ls []string, pred func(m map[string]any) bool) int {
	for i, l := range ls {
		if pred(obj(l)) {
			return i
		}
	}
	log.Fatal("no such line")
	return -1
}

func isType(t string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == t }
}

func isEntry(i int) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["type"] == "entry" && m["index"] == json.Number(fmt.Sprint(i)) }
}

func isCP(size int) func(map[string]any) bool {
	return func(m map[string]any) bool {
		return m["type"] == "checkpoint" && m["size"] == json.Number(fmt.Sprint(size))
	}
}

func edit(ls []string, i int, f func(m map[string]any)) string {
	m := obj(ls[i])
	f(m)
	return canon(m)
}

func entryBytes(line string) []byte {
	return must(base64.StdEncoding.DecodeString(obj(line)["entry"].(string)))
}

// reseal rewrites an export as the ledger's operator could (holding the
// ledger key): every checkpoint's root and signature, the close, the end
// line's totals and the header's tree size, recomputed from the entries
// as they are now. What is left wrong is only what the operator cannot fix.
func (e *election) reseal(ls []string) []string {
	var tb receipt.TreeBuilder
	origin := receipt.Origin(e.el.Manifest.ElectionID)
	out := slices.Clone(ls)
	counts := make([]int64, len(e.el.Manifest.Styles))
	cps := 0
	n := 0
	for _, l := range ls {
		if obj(l)["type"] == "entry" {
			n++
		}
	}
	for i, l := range ls {
		m := obj(l)
		switch m["type"] {
		case "header":
			m["tree_size"] = n
		case "entry":
			tb.Append(must(base64.StdEncoding.DecodeString(m["entry"].(string))))
			s := must(m["style"].(json.Number).Int64())
			if int(s) < len(counts) {
				counts[s]++
			}
			continue
		case "checkpoint", "close":
			c := tb.Checkpoint(origin)
			c.Size = must(m["size"].(json.Number).Int64())
			c.Closed = m["type"] == "close"
			if c.Closed {
				c.ClosedAt = closedAtOf(m["note"].(string))
				c.Size = tb.Size()
				m["size"] = c.Size
			} else {
				cps++
			}
			m["root"] = hex.EncodeToString(c.Root[:])
			m["note"] = string(must(e.el.SignCheckpoint(c)))
		case "end":
			root := tb.Root()
			m["entries"], m["checkpoints"], m["style_counts"], m["root"] = tb.Size(), cps, counts, hex.EncodeToString(root[:])
		default:
			continue
		}
		out[i] = canon(m)
	}
	return out
}

// setEntry returns ls with entry i's bytes changed by f.
func setEntry(ls []string, i int, f func(b []byte) []byte) []string {
	out := slices.Clone(ls)
	at := find(ls, isEntry(i))
	out[at] = edit(ls, at, func(m map[string]any) {
		en := f(entryBytes(ls[at]))
		m["entry"] = base64.StdEncoding.EncodeToString(en)
		if _, ok := m["hints"]; ok {
			m["hints"] = rehint(en)
		}
	})
	return out
}

// ---- Cases.

type builder struct {
	cases []Case
	bases map[string]*election
}

// lineEdits returns the edits that make lines out of orig: one replace
// per changed line when the count is the same, else the changed middle
// (between the common prefix and suffix) deleted and inserted.
func lineEdits(orig, ls []string) []Edit {
	var es []Edit
	if len(ls) == len(orig) {
		for i := range ls {
			if ls[i] != orig[i] {
				es = append(es, Edit{Line: i, Op: "replace", Text: ptr(ls[i])})
			}
		}
		return es
	}
	p := 0
	for p < len(ls) && p < len(orig) && ls[p] == orig[p] {
		p++
	}
	q := 0
	for q < len(ls)-p && q < len(orig)-p && ls[len(ls)-1-q] == orig[len(orig)-1-q] {
		q++
	}
	for range orig[p : len(orig)-q] {
		es = append(es, Edit{Line: p, Op: "delete"})
	}
	for k, l := range ls[p : len(ls)-q] {
		es = append(es, Edit{Line: p + k, Op: "insert", Text: ptr(l)})
	}
	return es
}

// lines adds a case whose export is lines (as edits of the base's), and
// whose other inputs are overridden by in (a changed report as edits of
// the base's report lines).
func (b *builder) lines(name, base string, ls []string, in map[string]any, expect ...string) *Case {
	e := b.bases[base]
	c := Case{Name: name, Base: base, Expect: expect, Edits: lineEdits(split(e.exp), ls)}
	if in != nil {
		cp := map[string]any{}
		for k, v := range in {
			cp[k] = v
		}
		if r, ok := cp["report"].(string); ok && e.report != "" && strings.HasSuffix(r, "\n") {
			delete(cp, "report")
			c.ReportEdits = lineEdits(split(e.report), split(r))
		}
		c.Inputs = must(json.Marshal(cp))
	}
	if c.Expect == nil {
		c.Expect = []string{}
	}
	b.cases = append(b.cases, c)
	return &b.cases[len(b.cases)-1]
}

// inputs adds a case that changes only inputs other than the export.
func (b *builder) inputs(name, base string, in map[string]any, expect ...string) *Case {
	return b.lines(name, base, split(b.bases[base].exp), in, expect...)
}

// noResult removes the signed result and partials from the inputs.
var noResult = map[string]any{"report": nil, "signature": nil, "partials": nil}

func withNoResult(extra map[string]any) map[string]any {
	m := map[string]any{"report": nil, "signature": nil, "partials": nil}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func main() {
	out := flag.String("out", "crypto/testdata/tamper_v2.json", "file to write")
	flag.Parse()

	// The honest election: 2 workplaces, 8 ballots, checkpoints every 3.
	h := newElection("corpus-ballot", []int64{10, 10})
	for i := range 8 {
		s, en := must2(h.el.Entry(i))
		h.entries = append(h.entries, fixture.Made{Style: s, Entry: en})
	}
	// The scrutineer closed it early (protocol version 4: the close states
	// the time; the result's date of the ballot and mandate follow it).
	h.finish(fixture.WriteOptions{ClosedAt: earlyClose}, 1)

	// The colluding pair: workplace 1 holds only two ballots whose nonces
	// cancel (r and −r), workplace 2 a voter whose own two selections do.
	col := newElection("colluding-ballot", []int64{10, 10})
	v, w, u := big.NewInt(123456789), big.NewInt(987654321), big.NewInt(555)
	mk := func(style int, marks []int, blocks map[int]*big.Int) fixture.Made {
		return fixture.Made{Style: style, Entry: must(col.el.EntryWith(&nonces{blocks: blocks}, style, [][]int{marks}))}
	}
	col.entries = []fixture.Made{
		mk(0, []int{1, 0}, map[int]*big.Int{0: v, 7: w}),
		mk(0, []int{0, 1}, map[int]*big.Int{0: negate(v), 7: negate(w)}),
		mk(1, []int{1, 0}, map[int]*big.Int{0: u, 7: negate(u)}),
		mk(1, []int{0, 1}, nil),
		mk(1, []int{1, 0}, nil),
	}
	col.finish(fixture.WriteOptions{}, 0)
	if d := col.res.Sums.Decrypted(); !slices.Equal(d, []bool{false, false, true, true}) {
		log.Fatalf("the colluding pair does not cancel: %v", d)
	}

	// A legacy version 1 export (closed before version 2).
	v1 := newElection("legacy-ballot", []int64{10, 10})
	for i := range 5 {
		s, en := must2(v1.el.Entry(i))
		v1.entries = append(v1.entries, fixture.Made{Style: s, Entry: en})
	}
	v1.finish(fixture.WriteOptions{Version: 1}, 0)

	// A version 2 export (protocol 2 to 4: no decompression hints).
	v2 := newElection("version2-ballot", []int64{10, 10})
	for i := range 4 {
		s, en := must2(v2.el.Entry(i))
		v2.entries = append(v2.entries, fixture.Made{Style: s, Entry: en})
	}
	v2.finish(fixture.WriteOptions{Version: export.Version2}, 0)

	// More ballots than entitled in workplace 1.
	over := newElection("crowded-ballot", []int64{2, 10})
	for i := range 6 {
		s, en := must2(over.el.Entry(i))
		over.entries = append(over.entries, fixture.Made{Style: s, Entry: en})
	}
	over.exp = string(must(over.el.Export(over.entries, fixture.WriteOptions{CheckpointEvery: every})))

	// A hybrid ballot: online ballots and a paper section (version 3).
	hy := newElection("hybrid-ballot", []int64{10, 10})
	for i := range 4 {
		s, en := must2(hy.el.Entry(i))
		hy.entries = append(hy.entries, fixture.Made{Style: s, Entry: en})
	}
	bs, pc := honestPaper(hy).lines(hy)
	hy.finish(fixture.WriteOptions{Version: export.PaperVersion, Batches: bs, PaperClose: pc}, 1)

	b := &builder{bases: map[string]*election{"honest": h, "colluding": col, "legacy_v1": v1, "legacy_v2": v2, "crowded": over, "hybrid": hy}}
	bases := map[string]Base{
		"honest":    {Inputs: h.inputs(), Tally: h.tally()},
		"colluding": {Inputs: col.inputs(), Tally: col.tally()},
		"legacy_v1": {Inputs: v1.inputs(), Tally: v1.tally()},
		"legacy_v2": {Inputs: v2.inputs(), Tally: v2.tally()},
		"crowded":   {Inputs: Inputs{Export: ptr(over.exp)}},
		"hybrid":    {Inputs: hy.inputs(), Tally: hy.tally()},
	}
	cases(b, h, col)
	paperCases(b, hy)

	c := Corpus{
		Description: "The tamper corpus of docs/protocol.md §8 (crypto/testdata/README.md): made by `go run ./crypto/internal/gencorpus` (TEST KEYS). For every case, both verifiers must report exactly the checks in expect (and, when given, exactly the limits).",
		Checks:      verify.Checks, Limits: verify.Limits, Bases: bases, Cases: b.cases,
	}
	js := must(json.MarshalIndent(c, "", " "))
	if err := os.WriteFile(*out, append(js, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("wrote %s: %d cases\n", filepath.Clean(*out), len(c.Cases))
}

// nonces gives chosen 64-byte blocks of a reader (see crypto/verify's
// TestColludingVoters): selection o's nonce is block 7·o.
type nonces struct {
	blocks map[int]*big.Int
	off    int
}

var order, _ = new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)

func negate(v *big.Int) *big.Int { return new(big.Int).Sub(order, v) }

func (n *nonces) Read(p []byte) (int, error) {
	for i := range p {
		blk, at := (n.off+i)/64, (n.off+i)%64
		if v, ok := n.blocks[blk]; ok {
			be := v.FillBytes(make([]byte, 64))
			p[i] = be[63-at]
			continue
		}
		if _, err := io.ReadFull(rand.Reader, p[i:i+1]); err != nil {
			return i, err
		}
	}
	n.off += len(p)
	return len(p), nil
}
