package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// openExport opens an export file, or fetches it from a board URL
// (https://…/ledger/v1/<election>[/export]).
func openExport(ctx context.Context, src string) (io.ReadCloser, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		pu, err := url.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("board URL: %w", err)
		}
		pu.Path = strings.TrimSuffix(pu.Path, "/")
		if !strings.HasSuffix(pu.Path, "/export") {
			pu.Path += "/export"
		}
		u := pu.String()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch export: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("fetch export %s: HTTP %s", u, resp.Status)
		}
		return resp.Body, nil
	}
	return os.Open(src)
}

func parseIssued(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	var out []int64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--issued must be a comma-separated list of counts, one per workplace ballot")
		}
		out = append(out, n)
	}
	return out, nil
}

// progress renders a progress bar on a terminal, plain lines otherwise.
func (e *env) progress(what string) func(done, total int64) {
	tty := false
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	start := time.Now()
	lastPct := int64(-1)
	return func(done, total int64) {
		pct := int64(100)
		if total > 0 {
			pct = done * 100 / total
		}
		if tty {
			const w = 40
			bar := strings.Repeat("█", int(pct*w/100)) + strings.Repeat("░", w-int(pct*w/100))
			fmt.Fprintf(e.stderr, "\r%s %s %3d%% %d/%d ballots  %s", what, bar, pct, done, total, time.Since(start).Round(time.Second))
			if done == total {
				fmt.Fprintln(e.stderr)
			}
			return
		}
		if pct/10 != lastPct/10 || done == total && lastPct != 100 {
			fmt.Fprintf(e.stderr, "progress: %s %d/%d ballots (%d%%, %s)\n", what, done, total, pct, time.Since(start).Round(time.Millisecond))
			lastPct = pct
		}
	}
}

// verifyArgs are what verifyExport takes besides the export.
type verifyArgs struct {
	issued string // --issued
	expect expect // from outside the file
	quiet  bool   // print only failures
	// keepRanked keeps the counted ballots' ranked parts (Result.Ranked).
	keepRanked bool
	// sum, when not nil, receives the SHA-256 and length of the export
	// as read (for a state file).
	sum *exportSum
}

// exportSum is the SHA-256 and length of an export file.
type exportSum struct {
	sha [32]byte
	n   int64
}

// hashingReader hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// hashExport returns the SHA-256 and length of the export at src.
func hashExport(src string) (exportSum, error) {
	rc, err := openExport(context.Background(), src)
	if err != nil {
		return exportSum{}, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return exportSum{}, fmt.Errorf("read export: %w", err)
	}
	var s exportSum
	copy(s.sha[:], h.Sum(nil))
	s.n = n
	return s, nil
}

// verifyExport runs crypto/verify on src and prints the outcome; it returns
// a *checkError naming every failure. The authorisations issued per style
// are the --issued list when given; for a board URL they are otherwise the
// service's published counts (GET /issuance/v1/<election>/counts, after the
// close), checked against the manifest. It prints what the verification
// could not establish from what it was given (docs/protocol.md §8.3).
func (e *env) verifyExport(src string, a verifyArgs) (*verify.Result, error) {
	iss, err := parseIssued(a.issued)
	if err != nil {
		return nil, err
	}
	opt := verify.Options{Issued: iss, Progress: e.progress("verified"), Expected: a.expect.Expected, KeepRanked: a.keepRanked}
	if isURL(src) {
		b, err := parseBoard(src)
		if err != nil {
			return nil, err
		}
		opt.Expected.ElectionID = b.election
		if iss == nil {
			if opt.Published, err = e.fetchIssued(context.Background(), b); err != nil {
				return nil, err
			}
		}
	}
	ctx := context.Background()
	rc, err := openExport(ctx, src)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	start := time.Now()
	var src0 io.Reader = rc
	var hr *hashingReader
	if a.sum != nil {
		hr = &hashingReader{r: rc, h: sha256.New()}
		src0 = hr
	}
	res, err := verify.Verify(ctx, src0, opt)
	if err != nil {
		return nil, err
	}
	if hr != nil {
		// The state names the whole file: hash whatever the verifier
		// did not need to read.
		if _, err := io.Copy(io.Discard, hr); err != nil {
			return nil, fmt.Errorf("read export: %w", err)
		}
		copy(a.sum.sha[:], hr.h.Sum(nil))
		a.sum.n = hr.n
	}
	if a.expect.report != nil && res.Manifest != nil {
		// The expectations came from a report: they count only if the
		// scrutineer signed it.
		if f := a.expect.checkSignature(res.Manifest); f != nil {
			res.Failures = append(res.Failures, *f)
		}
		a.expect.adjust(res)
	}
	took := time.Since(start)
	out := e.stdout
	if a.quiet {
		out = io.Discard
	}
	h := res.Header
	fmt.Fprintf(out, "Export of election %s (format version %d): %d entries, %d checkpoints, closed=%v\n", h.ElectionID, h.Version, res.Entries, res.Checkpoints, h.Closed)
	if res.Manifest != nil {
		fmt.Fprintf(out, "Manifest hash %x (%s, %q)\n", h.ManifestHash, res.Manifest.Kind, res.Manifest.Title)
		for i, st := range res.Manifest.Styles {
			n := int64(0)
			if i < len(res.StyleCounts) {
				n = res.StyleCounts[i]
			}
			line := fmt.Sprintf("  workplace %q: %d ballots, %d entitled", st.ID, n, st.Entitled)
			if res.Issued != nil && i < len(res.Issued) {
				line += fmt.Sprintf(", %d authorisations issued", res.Issued[i])
			}
			fmt.Fprintln(out, line)
		}
		if opt.Published != nil {
			fmt.Fprintln(out, "  (authorisations issued fetched from the service's published counts)")
		}
	}
	if res.Paper != nil {
		fmt.Fprintf(out, "Paper section: %d batches (%d counted), paper count closed: %v\n", res.Paper.Batches, res.Paper.Counted, res.Paper.Returns() != nil)
	}
	fmt.Fprintf(out, "Merkle root recomputed from all entries: %x\n", res.Root)
	if res.Close != nil {
		fmt.Fprintf(out, "Final checkpoint (the ledger's signed close): %d entries, root %x\n", res.Close.Size, res.Close.Root)
	}
	fmt.Fprintf(out, "Time: %s\n", took.Round(time.Millisecond))
	if !res.OK() {
		for _, f := range res.Failures {
			fmt.Fprintln(e.stdout, "FAIL "+f.String())
		}
		if res.More > 0 {
			fmt.Fprintf(e.stdout, "FAIL … and %d more failures\n", res.More)
		}
		return res, failed("%d failure(s): the export does not verify", int64(len(res.Failures))+res.More)
	}
	fmt.Fprintln(out, "VERIFIED: manifest, every checkpoint signature and root, the Merkle root, every authorisation, every proof, no duplicate tracker or α, counts per workplace.")
	for _, l := range res.Limits {
		fmt.Fprintf(out, "NOT CHECKED [%s]: %s\n", l.Name, l.Reason)
	}
	return res, nil
}

func (e *env) verify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	issued := fs.String("issued", "", "authorisations issued per workplace ballot, comma-separated (from the marked register); for a board URL the default is the service's published counts")
	jsonOut := fs.String("json", "", "also write the failures, what was not checked and the counts as JSON to this file")
	stateOut := fs.String("state", "", "when the export verifies, write a verified state file here (the sums bound to the export's SHA-256 and the signed close) for decrypt --state and tally --state")
	rankedDir := fs.String("ranked", "", "for a union election with ranked (STV) questions: the folder of the ranked counts (<folder>/<question id>/: mix-<t>.list and .proof, decrypt-<j>.bin, result.json); check every shuffle and decryption proof and re-run the count")
	var x expectFlags
	x.register(fs)
	pos, err := e.parse(fs, args, "verify [--issued N,N…] [--manifest-hash HEX] [--final-checkpoint FILE|SIZE:ROOT] [--report report.json [--key KEY]] [--json out.json] [--state state.json] [--ranked DIR] <export-file | board URL>")
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("give one export file or board URL (see --help)")
	}
	ex, err := x.load(pos[0], e)
	if err != nil {
		return err
	}
	va := verifyArgs{issued: *issued, expect: ex, keepRanked: *rankedDir != ""}
	if *stateOut != "" {
		va.sum = &exportSum{}
	}
	res, verr := e.verifyExport(pos[0], va)
	if verr == nil && *rankedDir != "" {
		verr = e.verifyRanked(res, *rankedDir)
	}
	if verr == nil && *stateOut != "" {
		st, err := report.NewState(res, va.sum.sha, va.sum.n)
		if err != nil {
			return err
		}
		b, err := st.Marshal()
		if err != nil {
			return err
		}
		if err := writeFile(*stateOut, b, false); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Verified state written to %s (export SHA-256 %x, %d bytes; digest %s): decrypt --state and tally --state rely on it instead of verifying every ballot again.\n", *stateOut, va.sum.sha, va.sum.n, st.Digest)
	}
	if res != nil && *jsonOut != "" {
		out := struct {
			Verification
			Limits []verify.Limit `json:"not_checked"`
		}{summary(res), res.Limits}
		if out.Limits == nil {
			out.Limits = []verify.Limit{}
		}
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return verr
}

// The result file and its parts live in crypto/report.
type Verification = report.Verification

func summary(r *verify.Result) Verification { return report.Summary(r) }

// openShare opens trustee index's secret share file with their key.
func (e *env) openShare(key, passFile, share string, index int) (*threshold.SecretShare, error) {
	id, err := e.trusteeIdentity(key, passFile)
	if err != nil {
		return nil, err
	}
	b, err := open(share, id)
	if err != nil {
		return nil, fmt.Errorf("open your share %s with your key: %w", share, err)
	}
	sk, err := threshold.ParseSecretShare(b)
	if err != nil {
		return nil, fmt.Errorf("share file: %w", err)
	}
	if sk.Index != index {
		return nil, fmt.Errorf("%s is trustee %d's share, not %d's", share, sk.Index, index)
	}
	return sk, nil
}

func (e *env) decrypt(args []string) error {
	fs := flag.NewFlagSet("decrypt", flag.ContinueOnError)
	exp := fs.String("export", "", "the export file or board URL")
	key := fs.String("key", "", "your trustee key file")
	pf := fs.String("passphrase-file", "", "read the passphrase from this file instead of the terminal")
	index := fs.Int("index", 0, "your trustee number")
	share := fs.String("share", "", "your secret share file (default share-<index>.age)")
	out := fs.String("out", "", "partial decryption file to write (default partial-<index>.json)")
	state := fs.String("state", "", "a verified state file from `verify --state` of this export: rely on it instead of verifying every ballot again (the export is still hashed and must be the one verified)")
	if _, err := e.parse(fs, args, "decrypt --export FILE|URL --index J --key trustee.key [--share share-J.age] [--out partial-J.json] [--state state.json]"); err != nil {
		return err
	}
	for n, v := range map[string]string{"export": *exp, "key": *key} {
		if err := need(n, v); err != nil {
			return err
		}
	}
	if *share == "" {
		*share = fmt.Sprintf("share-%d.age", *index)
	}
	if *out == "" {
		*out = fmt.Sprintf("partial-%d.json", *index)
	}
	sk, err := e.openShare(*key, *pf, *share, *index)
	if err != nil {
		return err
	}
	res, err := e.counted(*exp, *state, verifyArgs{quiet: true})
	if err != nil {
		return err
	}
	if !res.closed {
		return failed("the export is of an election that is not closed: decrypting now would reveal an interim count")
	}
	pub, err := tally.TrusteeKey(res.manifest)
	if err != nil {
		return err
	}
	if sk.Index > len(pub.Shares) || !sk.Public().IsEqual(pub.Shares[sk.Index-1]) {
		return failed("your share does not match trustee %d's public key in the manifest: this is not the election you hold a key for", sk.Index)
	}
	alphas := res.sums.Alphas()
	if len(alphas) == 0 {
		// Every sum's α is the identity (or there is no ballot): the counts
		// are in the clear and the tally needs no partial decryption.
		fmt.Fprintf(e.stdout, "%s (%d ballots). No sum needs the trustees' decryption: the tally needs no partial decryption, nothing written.\n", res.how, res.summary.Entries)
		return nil
	}
	mh := res.election.ManifestHash()
	p, err := threshold.PartialDecrypt(rand.Reader, pub, sk, mh[:], alphas)
	if err != nil {
		return err
	}
	pj, _ := p.MarshalJSON()
	if err := writeFile(*out, append(pj, '\n'), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%d ballots). Partial decryption of %d sums by trustee %d written to %s.\n", res.how, res.summary.Entries, len(alphas), sk.Index, *out)
	return nil
}

type (
	ResultFile    = report.ResultFile
	RejectedTrust = report.RejectedTrust
)

func (e *env) tally(args []string) error {
	fs := flag.NewFlagSet("tally", flag.ContinueOnError)
	exp := fs.String("export", "", "the export file or board URL")
	issued := fs.String("issued", "", "authorisations issued per workplace ballot, comma-separated")
	out := fs.String("out", "result.json", "result file to write")
	state := fs.String("state", "", "a verified state file from `verify --state` of this export: rely on it instead of verifying every ballot again (the export is still hashed and must be the one verified)")
	files, err := e.parse(fs, args, "tally --export FILE|URL [--out result.json] [--state state.json] partial-1.json partial-2.json …")
	if err != nil {
		return err
	}
	if err := need("export", *exp); err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("give the partial decryption files (see --help)")
	}
	var partials []*threshold.Partial
	var pfiles []string
	var malformed []RejectedTrust
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var p threshold.Partial
		if err := p.UnmarshalJSON(bytes.TrimSpace(b)); err != nil {
			var claimed struct {
				Trustee int `json:"trustee"`
			}
			_ = json.Unmarshal(b, &claimed)
			fmt.Fprintf(e.stdout, "FAIL partial decryption file %s (claims trustee %d) is malformed: %v\n", f, claimed.Trustee, err)
			malformed = append(malformed, RejectedTrust{Trustee: claimed.Trustee, Reason: fmt.Sprintf("file %s is malformed: %v", filepath.Base(f), err)})
			continue
		}
		partials = append(partials, &p)
		pfiles = append(pfiles, f)
	}
	res, verr := e.counted(*exp, *state, verifyArgs{issued: *issued})
	if res == nil || res.sums == nil {
		return verr
	}
	if verr != nil && res.manifest == nil {
		return verr
	}
	if *state != "" {
		fmt.Fprintln(e.stdout, res.how+".")
	}
	pub, err := tally.TrusteeKey(res.manifest)
	if err != nil {
		return err
	}
	counts, bad, err := tally.Decrypt(pub, res.sums, partials)
	rf := ResultFile{Version: report.Version, Verification: res.summary, Rejected: append([]RejectedTrust{}, malformed...)}
	for _, b := range bad {
		name := ""
		if b.File >= 0 {
			name = " (" + pfiles[b.File] + ")"
		}
		fmt.Fprintf(e.stdout, "FAIL partial decryption of trustee %d%s: %v\n", b.Trustee, name, b.Err)
		rf.Rejected = append(rf.Rejected, RejectedTrust{Trustee: b.Trustee, Reason: b.Err.Error()})
	}
	if err != nil {
		return failed("%v", err)
	}
	counts.Paper, counts.ClosedAt = res.paper, res.closedAt
	r, err := tally.Compute(res.manifest, counts)
	if err != nil {
		return err
	}
	rf.Result = r
	b, _ := json.MarshalIndent(rf, "", "  ")
	if err := writeFile(*out, append(b, '\n'), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Combined the partials of trustees %v.\n", counts.Trustees)
	renderText(e.stdout, r)
	fmt.Fprintf(e.stdout, "Result written to %s.\n", *out)
	switch {
	case verr != nil:
		return verr
	case len(rf.Rejected) > 0:
		return failed("%d partial decryption(s) rejected (named above); the result used the valid ones", len(rf.Rejected))
	}
	return nil
}

// countable is what decrypt and tally need of a verified export, from a
// verification run now or from a verified state file.
type countable struct {
	how      string // what the step relied on, said in its output
	closed   bool
	manifest *manifest.Manifest
	election *ballot.Election
	sums     *tally.Sums
	summary  Verification // with the authorisations issued
	paper    []tally.PaperTotals
	closedAt string // the actual close, from the ledger's signed close
}

// counted verifies the export (state empty) or relies on the verified
// state file, after checking its digest and that the export is the file it
// was verified from. A verification that fails returns what it could
// establish and the *checkError; a state file that does not hold is an
// error before anything is counted.
func (e *env) counted(src, state string, a verifyArgs) (*countable, error) {
	if state == "" {
		res, verr := e.verifyExport(src, a)
		if res == nil {
			return nil, verr
		}
		c := &countable{how: "Export verified", closed: res.Header.Closed, manifest: res.Manifest, election: res.Election, sums: res.Sums}
		if res.Sums != nil && res.Manifest != nil {
			c.summary = summary(res)
			c.summary.Issued = res.Issued
			c.paper = res.PaperTotals()
			c.closedAt = res.ClosedAt
		}
		return c, verr
	}
	b, err := os.ReadFile(state)
	if err != nil {
		return nil, err
	}
	st, err := report.ParseState(b)
	if err != nil {
		return nil, failed("state file %s: %v", state, err)
	}
	sum, err := hashExport(src)
	if err != nil {
		return nil, err
	}
	if err := st.CheckExport(sum.sha, sum.n); err != nil {
		return nil, failed("state file %s: %v", state, err)
	}
	if a.issued != "" {
		iss, err := parseIssued(a.issued)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(iss, st.Verification.Issued) {
			return nil, failed("state file %s was verified with authorisations issued %v, not %v: verify again with --issued", state, st.Verification.Issued, iss)
		}
	}
	m, el, sums, err := st.Open()
	if err != nil {
		return nil, failed("state file %s: %v", state, err)
	}
	how := fmt.Sprintf("Relying on the verified state file %s (digest %s; export SHA-256 %x matches): ballots not verified again", state, st.Digest, sum.sha)
	return &countable{how: how, closed: st.Closed, manifest: m, election: el, sums: sums, summary: st.Verification, paper: st.Paper, closedAt: st.Verification.ClosedAt()}, nil
}

func renderText(w io.Writer, r *tally.Result) {
	if r.ClosedAt != "" {
		fmt.Fprintf(w, "Voting closed at %s (the ledger's signed close); date of the ballot %s", r.ClosedAt, r.DateOfBallot)
	} else {
		fmt.Fprintf(w, "Date of the ballot %s", r.DateOfBallot)
	}
	if r.MandateExpires != "" {
		fmt.Fprintf(w, "; the mandate (s.234) ends at the end of %s", r.MandateExpires)
	}
	fmt.Fprintln(w, ".")
	for _, s := range append(append([]tally.StyleResult{}, r.Styles...), r.Aggregate) {
		fmt.Fprintf(w, "%s: entitled %d, votes cast %d, turnout %s", s.Name, s.Entitled, s.VotesCast, s.Turnout)
		if s.TurnoutMet != nil {
			fmt.Fprintf(w, " (50%% threshold met: %s)", yesno(*s.TurnoutMet))
		}
		fmt.Fprintln(w)
		renderQuestions(w, "  ", s.Questions, true)
		for _, ch := range s.Channels {
			fmt.Fprintf(w, "  of which %s: votes cast %d\n", ch.Channel, ch.VotesCast)
			renderQuestions(w, "    ", ch.Questions, false)
		}
		if s.Rejected != nil {
			fmt.Fprintf(w, "  papers not counted: rejected (voted online) %d, second returns %d, late %d\n", s.Rejected.VotedOnline, s.Rejected.SecondReturn, s.Rejected.Late)
		}
	}
}

func renderQuestions(w io.Writer, indent string, qs []tally.QuestionResult, majority bool) {
	for _, q := range qs {
		if q.YesNo {
			fmt.Fprintf(w, "%s%s: Yes %d, No %d, spoilt %d", indent, q.ID, q.Yes, q.No, q.Spoilt)
			if majority {
				fmt.Fprintf(w, " — majority Yes: %s", yesno(q.Majority))
			}
			fmt.Fprintln(w)
			continue
		}
		var parts []string
		for _, o := range q.Counts {
			parts = append(parts, fmt.Sprintf("%s %d", o.Label, o.Count))
		}
		fmt.Fprintf(w, "%s%s: %s\n", indent, q.ID, strings.Join(parts, ", "))
	}
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

var _ = runtime.GOMAXPROCS
