// Package verify re-runs the whole-election verification of an eBallot
// ledger export (docs/protocol.md §8, docs/export-format.md) so that anyone
// — the independent scrutineer, a union member, a court expert — can check
// the published record with the public crypto/ packages alone.
//
// Verify reads an export (crypto/export, versions 1 and 2) in one streaming
// pass with bounded working memory, plus the duplicate checks (a map entry
// of about 50 bytes per ballot and per selection: ~160 MB for a million
// yes/no ballots), and runs the named checks of docs/protocol.md §8.2 on
// the ledger (the list is [Checks]; crypto/report runs those of the
// trustees' partial decryptions and the signed result):
//
//   - the file's structure (crypto/export: a structural failure ends the
//     verification);
//   - the header against the manifest: manifest_hash = SHA-256 of the
//     canonical manifest, which must parse and validate (crypto/manifest),
//     the trustees' public keys consistent with the election key; the same
//     election id and log key; the manifest hash expected from outside,
//     when given;
//   - every checkpoint and the close: the signed note under the manifest's
//     log_key (strict signed-note rules), its origin, that its size and root
//     are the line's, and that its root is the RFC 6962 root recomputed from
//     the entries before it (so consecutive checkpoints are consistent); the
//     last checkpoint covers every entry; only the close says "closed"; the
//     close matches the final checkpoint expected from outside, when given;
//   - every entry: T ‖ authorisation ‖ ballot_bytes with the ballot decoding
//     strictly against the manifest, T its tracker, the entry's recorded
//     style the ballot's, the blind-signature authorisation under the
//     style's issuer key, and every range proof (batch verification,
//     crypto/ballot); no tracker and no α appears twice;
//   - the end line's root and counts; ballots per style ≤ authorisations
//     issued (when given) ≤ entitled;
//   - the paper section (version 3, crypto/paper): every batch's signature,
//     chain, workplace ballot, two different keyers whose keyings agree,
//     totals that add up; the close of the paper count; per style, paper
//     votes counted ≤ papers logged as returned, and ballots + paper votes
//     ≤ marked register (authorisations issued + papers returned) ≤
//     entitled.
//
// Every failure is a Failure naming its check and the item (index and
// tracker short code for an entry); verification continues past bad
// entries so that all of them are named. What the verification could not
// establish from what it was given (no expected manifest hash, no expected
// final checkpoint, an open export…) is listed in Result.Limits: a verifier
// given only the file says so plainly. Only valid ballots are added to the
// homomorphic sums (crypto/tally) returned for the tally: an entry that
// fails any check, or repeats an earlier tracker or α (the first occurrence
// counts), is left out and named.
package verify

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/crypto/ranked"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/tally"
)

// MaxFailures bounds the failures kept in a Result (the rest are counted).
const MaxFailures = 100000

// Failure is one failed check.
type Failure struct {
	// Check names the check of docs/protocol.md §8.2 that failed (one of
	// [Checks]); the browser verifier names the same check.
	Check string `json:"check,omitempty"` // absent in reports of version 1
	// Item is what failed: "file", "header", "manifest", "checkpoint",
	// "close", "entry", "end", "counts", "partial", "result", "batch" or
	// "paper_close".
	Item string `json:"item"`
	// Index is the entry index (Item "entry"), the checkpoint size (Item
	// "checkpoint"), the style index (Item "counts"), the line (Item "file"),
	// the batch's position (Item "batch"), or -1.
	Index int64 `json:"index"`
	// Tracker is the short code of the entry's tracker, when known.
	Tracker string `json:"tracker,omitempty"`
	// Reason says what failed.
	Reason string `json:"reason"`
}

func (f Failure) String() string {
	s := f.Item
	if f.Check != "" {
		s = "[" + f.Check + "] " + s
	}
	if f.Index >= 0 {
		s += fmt.Sprintf(" %d", f.Index)
	}
	if f.Tracker != "" {
		s += " (tracker " + f.Tracker + ")"
	}
	return s + ": " + f.Reason
}

// Limit is something the verification could not establish from what it
// was given (docs/protocol.md §8.3).
type Limit struct {
	Name   string `json:"name"` // one of [Limits]
	Reason string `json:"reason"`
}

// Expected is what a verifier takes from outside the file, from a source it
// trusts more than the server that gave the file: the voting paper, the
// scrutineer's signed report, a notice.
type Expected struct {
	// ElectionID, if set, must be the export's election (the verifier page
	// of an election, a board URL).
	ElectionID string
	// ManifestHash, if set, must be the export's manifest hash.
	ManifestHash *[32]byte
	// Final, if set, is the final checkpoint (size and root) the export
	// must end with: a closed export whose close has this size and root.
	Final *receipt.Checkpoint
}

// Options tune Verify.
type Options struct {
	// Issued is the number of authorisations issued per style (from the
	// marked register, published by the service); nil when not known, in
	// which case only ballots ≤ entitled is checked.
	Issued []int64
	// Published, if set, is the service's published counts document as
	// served (GET /issuance/v1/{election}/counts): it is decoded strictly
	// and checked against the manifest (check counts.published) and, when
	// Issued is nil, gives it.
	Published []byte
	// Expected is what the export must match from outside.
	Expected Expected
	// Progress, if set, is called from time to time with the number of
	// entries processed and the total.
	Progress func(done, total int64)
	// Batch is the number of entries verified together, by one worker and
	// one combined proof check (default 1024: as fast as 2,048 at 100,000
	// entries and faster at 10,000, with half the memory in flight;
	// docs/benchmarks.md).
	Batch int
	// KeepRanked keeps the ranked parts of the counted ballots in
	// [Result.Ranked] (manifest version 2): the mix input of §9.5.
	KeepRanked bool
}

// Result is the outcome of Verify.
type Result struct {
	Header      export.Header
	Manifest    *manifest.Manifest // nil if the manifest is unusable
	Election    *ballot.Election   // nil if the manifest is unusable
	Entries     int64
	Checkpoints int64
	Root        [32]byte // recomputed from the entries
	StyleCounts []int64  // entries per style (all entries with a valid style)
	Valid       []int64  // valid ballots per style (those in Sums)
	Sums        *tally.Sums
	// Ranked[q] (with [Options.KeepRanked]) holds, for a ranked question
	// q, the ranked parts (§9.1) of the ballots in Sums, in ledger order:
	// exactly the ballots whose rankings are mixed and counted (§9.5). Nil
	// for a choose question.
	Ranked [][]*ranked.Ballot
	// Paper is the checked paper section: nil when the export has none.
	// Only valid batches are in its sums.
	Paper    *paper.Counter
	Failures []Failure
	// More counts failures beyond MaxFailures.
	More int64
	// Close is the close (version 2, closed exports): the ledger's signed
	// final checkpoint as read from the file, nil when there is none.
	Close *export.Checkpoint
	// ClosedAt is the time voting stopped as the close states it
	// (protocol version 4, "closed <time>", within the manifest's opens_at
	// and closes_at): the actual close, which the result's date of the
	// ballot and mandate use. Empty when the close states no time or
	// failed its checks.
	ClosedAt string
	// Issued are the authorisations issued per style used by the counts
	// check (nil when not known).
	Issued []int64
	// Limits lists what could not be established from what was given.
	Limits []Limit
	// Stopped: a structural failure or an unusable manifest ended the
	// verification early (no counts were checked, Sums is nil).
	Stopped bool
}

// OK reports whether every check passed.
func (r *Result) OK() bool { return len(r.Failures) == 0 && r.More == 0 }

// Failed returns the distinct names of the checks that failed, in the
// order of [Checks].
func (r *Result) Failed() []string {
	seen := map[string]bool{}
	for _, f := range r.Failures {
		seen[f.Check] = true
	}
	var out []string
	for _, c := range Checks {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}

func (r *Result) limit(name, reason string) {
	r.Limits = append(r.Limits, Limit{name, reason})
}

func (r *Result) fail(f Failure) {
	if len(r.Failures) >= MaxFailures {
		r.More++
		return
	}
	r.Failures = append(r.Failures, f)
}

// Verify verifies the export read from src. The returned error is only for
// a cancelled context; everything wrong with the export itself is a Failure
// in the Result (a structural defect of the file ends the verification).
func Verify(ctx context.Context, src io.Reader, opt Options) (*Result, error) {
	res := &Result{}
	rd, err := export.NewReader(src)
	if err != nil {
		res.fail(fileFailure(err))
		res.Stopped = true
		return res, nil
	}
	h := rd.Header()
	res.Header = h
	if x := opt.Expected.ElectionID; x != "" && x != h.ElectionID {
		res.fail(Failure{Check: CheckManifestExpected, Item: "header", Index: -1, Reason: fmt.Sprintf("the export is of election %q, not %q", h.ElectionID, x)})
	}
	if opt.Expected.ManifestHash != nil && *opt.Expected.ManifestHash != h.ManifestHash {
		res.fail(Failure{Check: CheckManifestExpected, Item: "manifest", Index: -1, Reason: fmt.Sprintf("the export's manifest hash is %x, the expected one is %x: this is not the ballot you expected", h.ManifestHash, *opt.Expected.ManifestHash)})
	}
	e, keys := checkManifest(res, h, rd.Manifest())
	if e == nil {
		res.Stopped = true
		return res, nil
	}
	v := &verifier{res: res, e: e, keys: keys, origin: receipt.Origin(h.ElectionID), mh: e.ManifestHash(), logKey: e.Manifest().LogKey}
	v.res.StyleCounts = make([]int64, len(keys))
	v.res.Valid = make([]int64, len(keys))
	v.res.Sums = tally.NewSums(e)
	if opt.KeepRanked {
		v.res.Ranked = make([][]*ranked.Ballot, len(e.Manifest().Questions))
	}
	// The duplicate checks are the only state that grows (about 50 bytes
	// per ballot and per selection); size them from the header, bounded so
	// that a lying header cannot make us allocate much.
	hint := int(min(h.TreeSize, 1<<22))
	sel := 0
	for _, q := range e.Manifest().Shape() {
		sel += q.Options
	}
	v.trk = make(map[[16]byte]int64, hint)
	v.alphas = make(map[[16]byte]int64, hint*min(sel, 4))
	batch := opt.Batch
	if batch <= 0 {
		batch = 1024
	}

	// Pipeline: the reader parses batches of lines; one worker per core
	// takes a whole batch (decoding, trackers, authorisations and one
	// batch proof check); this goroutine consumes the batches in file order
	// for everything sequential (Merkle tree, checkpoints, duplicates,
	// sums, failures). At most workers+2 batches are in memory.
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		entries []*export.Entry
		cps     []*export.Checkpoint // checkpoint after entries[at[i]-1]
		at      []int
		close   *export.Checkpoint
		end     *export.End
		paper   []*export.Item // the paper section's lines (after every entry)
		err     error
		rs      []entryResult
		done    chan struct{}
	}
	order := make(chan *job, workers)
	work := make(chan *job)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(order)
		defer close(work)
		for {
			c := &job{done: make(chan struct{})}
			for len(c.entries) < batch {
				it, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					c.err = err
					break
				}
				switch it.Kind {
				case export.KindEntry:
					c.entries = append(c.entries, it.Entry)
				case export.KindCheckpoint:
					c.cps = append(c.cps, it.Checkpoint)
					c.at = append(c.at, len(c.entries))
				case export.KindClose:
					c.close = it.Checkpoint
				case export.KindEnd:
					c.end = it.End
					// Nothing may follow the end line.
					if _, err := rd.Next(); err != io.EOF {
						c.err = err
					}
				case export.KindBatch, export.KindPaperClose:
					c.paper = append(c.paper, it)
				}
				if c.end != nil {
					break
				}
			}
			select {
			case order <- c:
			case <-rctx.Done():
				return
			}
			select {
			case work <- c:
			case <-rctx.Done():
				return
			}
			if c.err != nil || c.end != nil || (len(c.entries) == 0 && len(c.cps) == 0 && c.close == nil && len(c.paper) == 0) {
				return
			}
		}
	}()
	for range workers {
		go func() {
			for c := range work {
				c.rs = v.entries(c.entries)
				close(c.done)
			}
		}()
	}
	var ended bool
	for c := range order {
		select {
		case <-c.done:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		v.batch(c.entries, c.cps, c.at, c.rs)
		for _, it := range c.paper {
			v.paperLine(it)
		}
		if opt.Progress != nil {
			opt.Progress(res.Entries, h.TreeSize)
		}
		if c.err != nil {
			res.fail(fileFailure(c.err))
			res.Stopped, res.Sums = true, nil
			return res, nil
		}
		if c.close != nil {
			v.checkpoint(c.close, true)
			res.Close = c.close
		}
		if c.end != nil {
			v.end(c.end)
			ended = true
		}
	}
	if !ended {
		// Not reached: the reader fails on a file without its end line.
		res.fail(Failure{Check: CheckFileEnd, Item: "file", Index: -1, Reason: "the export has no end line"})
		res.Stopped, res.Sums = true, nil
		return res, nil
	}
	v.trk, v.alphas = nil, nil
	v.final(opt.Expected)
	v.counts(opt)
	v.paperCounts(v.res.Issued)
	if opt.Expected.ManifestHash == nil {
		res.limit(LimitManifestHash, "the manifest hash was not compared with one published elsewhere (the voting paper, the scrutineer's report): nothing shows that this manifest is the one the voters were shown")
	}
	return res, nil
}

// paperLine checks one line of the paper section with crypto/paper.
func (v *verifier) paperLine(it *export.Item) {
	if v.res.Paper == nil {
		c, err := paper.NewCounter(v.e.Manifest())
		if err != nil {
			v.res.fail(Failure{Check: CheckManifestValid, Item: "manifest", Index: -1, Reason: "log key: " + err.Error()})
			return
		}
		v.res.Paper = c
	}
	var fs []paper.Failure
	if it.Batch != nil {
		fs = v.res.Paper.Batch(it.Batch.Bytes, it.Batch.Note)
	} else {
		fs = v.res.Paper.Close(it.PaperClose.Bytes, it.PaperClose.Note)
	}
	for _, f := range fs {
		v.res.fail(paperFailure(f))
	}
}

func paperFailure(f paper.Failure) Failure {
	switch {
	case f.Style >= 0:
		return Failure{Check: f.Check, Item: "counts", Index: int64(f.Style), Reason: f.Reason}
	case f.Seq >= 0:
		return Failure{Check: f.Check, Item: "batch", Index: f.Seq, Reason: f.Reason}
	}
	return Failure{Check: f.Check, Item: "paper_close", Index: -1, Reason: f.Reason}
}

// paperCounts checks the paper section's totals against the returns and
// the register: per style, paper votes ≤ papers logged as returned, and
// ballots + paper votes ≤ marked register (authorisations issued, when
// given, + papers returned) ≤ entitled. A paper section without its close
// fails: the count is not complete. So does a version 3 export without a
// paper section: version 3 says the file has one (at least the close of the
// paper count, docs/export-format.md §6), so its absence is a paper count
// cut from the file, not an election without papers (which is version 2).
func (v *verifier) paperCounts(issued []int64) {
	c := v.res.Paper
	if c == nil {
		if export.HasPaper(v.res.Header.Version) {
			v.res.fail(Failure{Check: paper.CheckCloseChain, Item: "paper_close", Index: -1, Reason: fmt.Sprintf("the export is of version %d but has no paper section: the paper count is not complete", v.res.Header.Version)})
		}
		return
	}
	closed, fs := c.Finish()
	for _, f := range fs {
		v.res.fail(paperFailure(f))
	}
	if !closed {
		v.res.fail(Failure{Check: paper.CheckCloseChain, Item: "paper_close", Index: -1, Reason: "the paper section has no close: the paper count is not complete"})
		return
	}
	if c.Returns() == nil {
		return // the close is invalid, and named
	}
	m := v.e.Manifest()
	rs := c.Returns().Styles
	if len(rs) != len(m.Styles) || (issued != nil && len(issued) != len(m.Styles)) {
		return // named by the close's check and counts()
	}
	for i, st := range m.Styles {
		votes := v.res.StyleCounts[i] + c.Sums(i, paper.ChannelPostal).Papers + c.Sums(i, paper.ChannelWorkplace).Papers
		returned := rs[i].Postal + rs[i].Workplace
		marked := returned
		if issued != nil {
			marked += issued[i]
			if votes > marked {
				v.res.fail(Failure{Check: CheckPaperMarked, Item: "counts", Index: int64(i), Reason: fmt.Sprintf("style %q: %d ballots and paper votes but %d marked in the register", st.ID, votes, marked)})
			}
		}
		if marked > st.Entitled || votes > st.Entitled {
			v.res.fail(Failure{Check: CheckPaperEntitled, Item: "counts", Index: int64(i), Reason: fmt.Sprintf("style %q: %d marked in the register (%d votes) but only %d entitled", st.ID, marked, votes, st.Entitled)})
		}
	}
}

func fileFailure(err error) Failure {
	var le *export.LineError
	if errors.As(err, &le) {
		return Failure{Check: le.Check, Item: "file", Index: le.Line, Reason: "line " + fmt.Sprint(le.Line) + ": " + le.Err.Error()}
	}
	return Failure{Check: CheckFileEncoding, Item: "file", Index: -1, Reason: err.Error()}
}

func checkManifest(res *Result, h export.Header, raw []byte) (*ballot.Election, []*blind.Verifier) {
	if sum := sha256.Sum256(raw); sum != h.ManifestHash {
		res.fail(Failure{Check: CheckManifestHash, Item: "manifest", Index: -1, Reason: fmt.Sprintf("SHA-256 of the manifest is %x, the header says manifest_hash %x", sum, h.ManifestHash)})
		return nil, nil
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		res.fail(Failure{Check: CheckManifestValid, Item: "manifest", Index: -1, Reason: "invalid: " + err.Error()})
		return nil, nil
	}
	if c, err := m.Canonical(); err != nil || string(c) != string(raw) {
		res.fail(Failure{Check: CheckManifestValid, Item: "manifest", Index: -1, Reason: "not in canonical JSON form"})
		return nil, nil
	}
	e, err := ballot.NewElection(m)
	if err != nil {
		res.fail(Failure{Check: CheckManifestValid, Item: "manifest", Index: -1, Reason: "invalid: " + err.Error()})
		return nil, nil
	}
	// One verifier per style key (precomputed Montgomery constants), shared
	// by the workers.
	keys := make([]*blind.Verifier, len(m.Styles))
	for i := range m.Styles {
		der, err := m.IssuerKey(i)
		var pub *rsa.PublicKey
		if err == nil {
			pub, err = blind.ParsePublicKey(der)
		}
		if err == nil {
			keys[i], err = blind.NewVerifier(pub)
		}
		if err != nil {
			res.fail(Failure{Check: CheckManifestValid, Item: "manifest", Index: -1, Reason: fmt.Sprintf("style %d issuer key: %v", i, err)})
			return nil, nil
		}
	}
	if err := tally.CheckTrustees(m); err != nil {
		res.fail(Failure{Check: CheckManifestTrustees, Item: "manifest", Index: -1, Reason: err.Error()})
		return nil, nil
	}
	res.Manifest = m
	res.Election = e
	if m.ElectionID != h.ElectionID {
		res.fail(Failure{Check: CheckHeaderManifest, Item: "header", Index: -1, Reason: fmt.Sprintf("election_id %q, the manifest says %q", h.ElectionID, m.ElectionID)})
	}
	if m.LogKey != h.LogKey {
		res.fail(Failure{Check: CheckHeaderManifest, Item: "header", Index: -1, Reason: "log_key differs from the manifest's"})
	}
	return e, keys
}

type verifier struct {
	res    *Result
	e      *ballot.Election
	keys   []*blind.Verifier // issuer key of each style
	origin string
	mh     [32]byte
	logKey string
	tb     receipt.TreeBuilder
	// Duplicate checks keyed by the first 128 bits of the tracker (a
	// SHA-256 output) and of α (a uniformly random element): making two
	// distinct values collide takes about 2^64 work even for the voter who
	// chooses them, and it halves the memory of full keys.
	trk    map[[16]byte]int64 // tracker → first entry
	alphas map[[16]byte]int64 // α → first entry<<12 | selection
	lastCP *export.Checkpoint
	close  *receipt.Checkpoint // the close as signed, if it opened
}

type entryFailure struct {
	check, reason string
}

type entryResult struct {
	b       *ballot.Ballot
	tracker [32]byte
	short   string
	errs    []entryFailure
}

// entries checks a run of entries on the calling goroutine: decoding,
// tracker, recorded style and authorisation of each, then one batch check
// of the proofs of those that decoded (a failing ballot is re-verified
// alone to give the reason).
func (v *verifier) entries(es []*export.Entry) []entryResult {
	rs := make([]entryResult, len(es))
	var bs []*ballot.Ballot
	var where []int
	for i, en := range es {
		rs[i] = v.entry(en)
		if rs[i].b != nil {
			bs = append(bs, rs[i].b)
			where = append(where, i)
		}
	}
	if len(bs) > 0 {
		for _, j := range v.e.BatchVerifyN(bs, 1) {
			i := where[j]
			reason := "proof does not verify"
			if err := v.e.Verify(rs[i].b); err != nil {
				reason = err.Error()
			}
			rs[i].errs = append(rs[i].errs, entryFailure{CheckEntryProof, reason})
		}
	}
	return rs
}

// batch takes a run of checked entries (rs from [verifier.entries]) and
// the checkpoints among them, in file order: Merkle tree, checkpoints,
// duplicates, sums and failures.
func (v *verifier) batch(es []*export.Entry, cps []*export.Checkpoint, at []int, rs []entryResult) {
	k := 0
	for i, en := range es {
		for k < len(cps) && at[k] == i {
			v.checkpoint(cps[k], false)
			k++
		}
		v.tb.Append(en.Bytes)
	}
	for ; k < len(cps); k++ {
		v.checkpoint(cps[k], false)
	}
	for i, en := range es {
		r := &rs[i]
		if en.Style >= 0 && en.Style < len(v.res.StyleCounts) {
			v.res.StyleCounts[en.Style]++
		}
		for _, f := range r.errs {
			v.res.fail(Failure{Check: f.check, Item: "entry", Index: en.Index, Tracker: r.short, Reason: f.reason})
		}
		// Duplicates: the first occurrence counts, later ones fail and are
		// not added to the sums.
		dup := false
		if r.short != "" {
			if j, ok := v.trk[[16]byte(r.tracker[:16])]; ok {
				v.res.fail(Failure{Check: CheckEntryDupTracker, Item: "entry", Index: en.Index, Tracker: r.short, Reason: fmt.Sprintf("duplicate tracker (also entry %d)", j)})
				dup = true
			} else {
				v.trk[[16]byte(r.tracker[:16])] = en.Index
			}
		}
		if r.b != nil {
			p := int64(0)
			for _, q := range r.b.Questions {
				cts := q.Ciphertexts()
				if q.Ranked != nil {
					// A ranked part's R_c (§9.1): a copied ranking is a
					// copied vote in the mix.
					cts = append(cts, q.Ranked.Ranks()...)
				}
				for _, ct := range cts {
					a := [16]byte(ct.AlphaBytes()[:16])
					if j, ok := v.alphas[a]; ok {
						v.res.fail(Failure{Check: CheckEntryDupAlpha, Item: "entry", Index: en.Index, Tracker: r.short, Reason: fmt.Sprintf("duplicate α: selection %d repeats selection %d of entry %d (a replayed or copied ciphertext)", p, j&0xfff, j>>12)})
						dup = true
					} else {
						v.alphas[a] = en.Index<<12 | p
					}
					p++
				}
			}
		}
		if len(r.errs) == 0 && r.b != nil && !dup {
			if v.res.Ranked != nil {
				for qi, q := range r.b.Questions {
					if q.Ranked != nil {
						v.res.Ranked[qi] = append(v.res.Ranked[qi], q.Ranked)
					}
				}
			}
			v.res.Sums.Add(r.b)
			v.res.Valid[r.b.Style]++
		}
		v.res.Entries++
	}
}

// entry checks one entry except its proofs (batched by the caller), in the
// order of docs/protocol.md §8.2: an entry whose ballot does not decode
// gets no other entry check (its tracker still claims its place for the
// duplicate check).
func (v *verifier) entry(en *export.Entry) (r entryResult) {
	const head = receipt.TrackerSize + receipt.AuthorisationSize
	if len(en.Bytes) <= head {
		r.errs = append(r.errs, entryFailure{CheckEntryBallot, fmt.Sprintf("entry is %d bytes, shorter than tracker ‖ authorisation ‖ ballot", len(en.Bytes))})
		return r
	}
	copy(r.tracker[:], en.Bytes[:32])
	r.short = ballot.ShortCode(r.tracker)
	auth, bb := en.Bytes[32:head], en.Bytes[head:]
	b, err := v.e.ParseHinted(bb, en.Hints)
	if errors.Is(err, ballot.ErrHint) {
		r.errs = append(r.errs, entryFailure{CheckEntryHint, "the decompression hints are not the ballot's (protocol §4.5): " + err.Error()})
		return r
	}
	if err != nil {
		r.errs = append(r.errs, entryFailure{CheckEntryBallot, "ballot does not decode: " + err.Error()})
		return r
	}
	if t := ballot.TrackerOf(v.mh, bb); t != r.tracker {
		r.errs = append(r.errs, entryFailure{CheckEntryTracker, fmt.Sprintf("tracker is not the hash of the ballot (the ballot's tracker is %s)", ballot.ShortCode(t))})
	}
	if int(b.Style) != en.Style {
		r.errs = append(r.errs, entryFailure{CheckEntryStyle, fmt.Sprintf("the ledger recorded style %d, the ballot is of style %d", en.Style, b.Style)})
	}
	if err := v.keys[b.Style].VerifyAuthorisation(r.tracker[:], auth); err != nil {
		r.errs = append(r.errs, entryFailure{CheckEntryAuthorisation, fmt.Sprintf("authorisation (blind signature) does not verify under the issuer key of style %q: %v", v.e.Manifest().Styles[b.Style].ID, err)})
	}
	r.b = b
	return r
}

// checkpoint checks a checkpoint line, or the close (isClose), against the
// entries read so far.
func (v *verifier) checkpoint(c *export.Checkpoint, isClose bool) {
	item := "checkpoint"
	if isClose {
		item = "close"
	}
	fail := func(check, reason string) {
		v.res.fail(Failure{Check: check, Item: item, Index: c.Size, Reason: reason})
	}
	if !isClose {
		v.res.Checkpoints++
		v.lastCP = c
	}
	cp, err := receipt.OpenCheckpoint(c.Note, v.logKey)
	if errors.Is(err, receipt.ErrCheckpointSignature) {
		fail(CheckCheckpointSignature, "the signed note does not verify under the manifest's log_key: "+err.Error())
		return
	}
	if err != nil {
		fail(CheckCheckpointText, "the signed text is not a checkpoint: "+err.Error())
		return
	}
	switch {
	case isClose && !cp.Closed:
		fail(CheckCheckpointText, "the close's signed text does not say \"closed\": the ledger did not sign this tree as its final one")
	case !isClose && cp.Closed:
		fail(CheckCheckpointText, "a checkpoint that is not the close says \"closed\"")
	}
	if cp.Origin != v.origin {
		fail(CheckCheckpointOrigin, fmt.Sprintf("origin %q, want %q", cp.Origin, v.origin))
	}
	if cp.Size != c.Size || [32]byte(cp.Root) != c.Root {
		fail(CheckCheckpointLine, "the signed note's size or root differs from the line's")
	}
	if root := v.tb.Root(); [32]byte(cp.Root) != [32]byte(root) {
		fail(CheckCheckpointRoot, fmt.Sprintf("signed root %x is not the root %x recomputed from the first %d entries", cp.Root[:], root[:], v.tb.Size()))
	}
	if isClose && cp.Closed {
		v.close = &cp
		if cp.ClosedAt != "" {
			v.closeTime(cp.ClosedAt, fail)
		}
	}
}

// closeTime checks the time the close states (protocol version 4): voting
// cannot have stopped before the manifest's opens_at nor after its
// closes_at. It is then the result's actual close (s.246, s.234).
func (v *verifier) closeTime(at string, fail func(check, reason string)) {
	m := v.e.Manifest()
	t, err := receipt.ParseCloseTime(at)
	if err != nil {
		fail(CheckCheckpointText, "the close's time: "+err.Error())
		return
	}
	opens, err1 := time.Parse(manifest.TimeFormat, m.OpensAt)
	closes, err2 := time.Parse(manifest.TimeFormat, m.ClosesAt)
	if err1 != nil || err2 != nil {
		return // manifest.valid says so
	}
	if t.Before(opens) || t.After(closes) {
		fail(CheckCheckpointText, fmt.Sprintf("the close says voting stopped at %s, outside the ballot's opens_at %s and closes_at %s", at, m.OpensAt, m.ClosesAt))
		return
	}
	v.res.ClosedAt = at
}

func (v *verifier) end(e *export.End) {
	root := v.tb.Root()
	v.res.Root = root
	if e.Root != [32]byte(root) {
		v.res.fail(Failure{Check: CheckEndRoot, Item: "end", Index: -1, Reason: fmt.Sprintf("root %x is not the root %x recomputed from all entries", e.Root[:], root[:])})
	}
	if !slices.Equal(e.StyleCounts, v.res.StyleCounts) {
		v.res.fail(Failure{Check: CheckEndStyleCounts, Item: "end", Index: -1, Reason: fmt.Sprintf("style_counts %v, the entries give %v", e.StyleCounts, v.res.StyleCounts)})
	}
	if v.lastCP == nil || v.lastCP.Size != v.res.Entries {
		v.res.fail(Failure{Check: CheckCheckpointFinal, Item: "end", Index: -1, Reason: fmt.Sprintf("no signed checkpoint covers all %d entries", v.res.Entries)})
	}
}

// final checks the export's end against the expected final checkpoint and
// says what completeness rests on (docs/protocol.md §8.3).
func (v *verifier) final(x Expected) {
	h := v.res.Header
	if x.Final != nil {
		var size int64 = -1
		var root [32]byte
		switch {
		case !h.Closed:
			v.res.fail(Failure{Check: CheckFinalExpected, Item: "close", Index: -1, Reason: fmt.Sprintf("the export is not of a closed ledger; the expected final checkpoint has %d entries, root %x", x.Final.Size, x.Final.Root[:])})
			return
		case v.close != nil:
			size, root = v.close.Size, v.close.Root
		case h.Version == 1 && v.lastCP != nil:
			size, root = v.lastCP.Size, v.lastCP.Root
		}
		if size != x.Final.Size || root != x.Final.Root {
			v.res.fail(Failure{Check: CheckFinalExpected, Item: "close", Index: size, Reason: fmt.Sprintf("the export ends with %d entries, root %x; the expected final checkpoint has %d entries, root %x: this is not the final ledger (cut short, or another ledger)", size, root[:], x.Final.Size, x.Final.Root[:])})
		}
		return
	}
	switch {
	case !h.Closed:
		v.res.limit(LimitOpen, fmt.Sprintf("the export is of a ledger that was not closed (a snapshot of %d entries): it cannot prove that no ballot came after", v.res.Entries))
	case h.Version == 1:
		v.res.limit(LimitUnsignedClose, "a version 1 export: its header says closed, but that close was not signed by the ledger: this file alone cannot prove that it holds all the ballots (compare it with the final checkpoint the scrutineer published)")
	default:
		v.res.limit(LimitFinal, fmt.Sprintf("the ledger signed these %d entries as its final tree, but this file alone cannot prove that it is complete: a shorter tree signed as closed would look the same (compare it with the final checkpoint named in the scrutineer's signed report)", v.res.Entries))
	}
}

func (v *verifier) counts(opt Options) {
	m := v.e.Manifest()
	issued := opt.Issued
	if opt.Published != nil {
		p, err := ParsePublishedCounts(opt.Published)
		if err == nil {
			err = p.check(m)
		}
		if err != nil {
			v.res.fail(Failure{Check: CheckCountsPublished, Item: "counts", Index: -1, Reason: err.Error()})
		} else if issued == nil {
			issued = p.IssuedCounts()
		}
	}
	if issued != nil && len(issued) != len(m.Styles) {
		v.res.fail(Failure{Check: CheckCountsPublished, Item: "counts", Index: -1, Reason: fmt.Sprintf("%d authorisation counts given for %d styles", len(issued), len(m.Styles))})
		issued = nil
	}
	v.res.Issued = issued
	if issued == nil {
		v.res.limit(LimitIssued, "the number of authorisations issued per ballot style was not given: ballots were checked against the number entitled only")
	}
	for i, st := range m.Styles {
		n := v.res.StyleCounts[i]
		if issued != nil {
			if n > issued[i] {
				v.res.fail(Failure{Check: CheckCountsIssued, Item: "counts", Index: int64(i), Reason: fmt.Sprintf("style %q: %d ballots but only %d authorisations issued", st.ID, n, issued[i])})
			}
			if issued[i] > st.Entitled {
				v.res.fail(Failure{Check: CheckCountsIssuedMax, Item: "counts", Index: int64(i), Reason: fmt.Sprintf("style %q: %d authorisations issued but only %d entitled", st.ID, issued[i], st.Entitled)})
			}
		}
		if n > st.Entitled {
			v.res.fail(Failure{Check: CheckCountsEntitled, Item: "counts", Index: int64(i), Reason: fmt.Sprintf("style %q: %d ballots but only %d entitled", st.ID, n, st.Entitled)})
		}
	}
}

// PaperTotals returns the paper votes of the valid batches per workplace
// ballot and channel, with the papers rejected per style, for
// tally.Counts.Paper; nil when the export has no paper section.
func (r *Result) PaperTotals() []tally.PaperTotals {
	if r.Paper == nil || r.Manifest == nil {
		return nil
	}
	var out []tally.PaperTotals
	var rs []paper.StyleReturns
	if c := r.Paper.Returns(); c != nil && len(c.Styles) == len(r.Manifest.Styles) {
		rs = c.Styles
	}
	for si := range r.Manifest.Styles {
		for ci, ch := range []string{paper.ChannelPostal, paper.ChannelWorkplace} {
			t := r.Paper.Sums(si, ch)
			pt := tally.PaperTotals{Style: si, Channel: ch, Papers: t.Papers}
			for _, q := range t.Questions {
				pt.Options = append(pt.Options, slices.Clone(q.Options))
				pt.Spoilt = append(pt.Spoilt, q.Blank+q.Spoilt)
			}
			if ci == 0 && rs != nil {
				pt.Rejected = &tally.Rejected{VotedOnline: rs[si].VotedOnline, SecondReturn: rs[si].SecondReturn, Late: rs[si].Late}
			}
			out = append(out, pt)
		}
	}
	return out
}
