package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/ranked"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/shuffle"
	"github.com/unionvote/eballot/crypto/stv"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
)

// A ranked (STV) contest's count, protocol §9: the scrutineer's files until
// manifests carry ranked contests (§9 is a draft; see docs/scrutineer-guide.md
// "Ranked contests (STV)"). In the contest's folder:
//
//	contest.json     the contest (rankedContest) with its ballots
//	mix-<t>.list     the list shuffled by mixer t (1, 2, …), §9.3
//	mix-<t>.proof    its proof of shuffle, §9.4
//	decrypt-<j>.bin  trustee j's partial decryption of the last list, §9.6
//	result.json      the count (rankedResult)

// rankedContestVersion is the version of contest.json.
const rankedContestVersion = 1

// maxContestFile bounds contest.json (100,000 ballots of 20 candidates in
// hex are about 2.5 GB).
const maxContestFile = 4 << 30

// rankedContest is contest.json: what the count needs, public.
type rankedContest struct {
	Version      int             `json:"version"`
	ManifestHash string          `json:"manifest_hash"` // hex, 32 bytes
	Contest      int             `json:"contest"`       // the contest's index
	Styles       int             `json:"styles"`
	Candidates   []string        `json:"candidates"` // names, in ballot order
	MinRanked    int             `json:"min_ranked"`
	MaxRanked    int             `json:"max_ranked"`
	Seats        int             `json:"seats"`
	Rule         stv.Rule        `json:"rule"`
	Withdrawn    []int           `json:"withdrawn,omitempty"`
	Trustees     json.RawMessage `json:"trustees"` // threshold public key, as the manifest's
	// IndependentPerson is the person the union appointed for the
	// storage, distribution and counting of the voting papers (TULRCA
	// s.51A), named in the result.
	IndependentPerson *independentPerson `json:"independent_person,omitempty"`
	Ballots           []string           `json:"ballots"` // hex, §9.1 encodings, in ledger order
	// Question and Title are the manifest question's id and text (from
	// an export; not in the file).
	Question string `json:"-"`
	Title    string `json:"-"`
	entitled int64
}

// independentPerson names the s.51A independent person and, where the
// union's rules require it, the trustee whose key share they hold: the
// count is not made without their decryption.
type independentPerson struct {
	Name    string `json:"name"`
	Trustee int    `json:"trustee,omitempty"` // 0: the rules do not require their share
}

// loadedContest is a parsed contest.json, or a ranked question of a
// verified export (verified then holds its counted ballots' ranked parts).
type loadedContest struct {
	file     *rankedContest
	pub      *threshold.PublicKey
	contest  *ranked.Contest
	ballots  [][]byte
	verified []*ranked.Ballot
	export   bool
}

// cast is the number of ballots of the contest.
func (lc *loadedContest) cast() int {
	if lc.export {
		return len(lc.verified)
	}
	return len(lc.ballots)
}

// contestSource is where a ranked command takes its contest from: a
// contest file, or an export and one of its manifest's ranked questions.
type contestSource struct {
	contest, export, question, dir *string
}

func contestFlags(fs *flag.FlagSet) contestSource {
	return contestSource{
		contest:  fs.String("contest", "", "the contest file (contest.json)"),
		export:   fs.String("export", "", "instead of --contest: the export file; the ranked question's ballots are those the export verifies and counts (protocol §9.5)"),
		question: fs.String("question", "", "with --export: the ranked question's id (default: the manifest's only ranked question)"),
		dir:      fs.String("dir", "", "the contest's folder: the shuffles so far are read from it and yours is added (default: the contest file's folder; with --export, <export's folder>/<question id>)"),
	}
}

// load returns the contest and its folder.
func (e *env) load(cs contestSource) (*loadedContest, string, error) {
	switch {
	case *cs.contest != "" && *cs.export != "":
		return nil, "", errors.New("give --contest or --export, not both")
	case *cs.export != "":
		lc, err := e.contestFromExport(*cs.export, *cs.question)
		if err != nil {
			return nil, "", err
		}
		dir := *cs.dir
		if dir == "" {
			dir = filepath.Join(filepath.Dir(*cs.export), lc.questionID())
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", err
		}
		return lc, dir, nil
	}
	if err := need("contest or --export", *cs.contest); err != nil {
		return nil, "", err
	}
	lc, err := loadContest(*cs.contest)
	if err != nil {
		return nil, "", err
	}
	dir := *cs.dir
	if dir == "" {
		dir = filepath.Dir(*cs.contest)
	}
	return lc, dir, nil
}

// questionID is the manifest question of a contest from an export.
func (lc *loadedContest) questionID() string { return lc.file.Question }

// contestFromExport verifies the export (every check of scrutineer
// verify; a failure stops here) and returns the ranked question qid (or
// the only one) of its manifest, with the ranked parts of the ballots the
// export counts, in ledger order (protocol §9.5).
func (e *env) contestFromExport(path, qid string) (*loadedContest, error) {
	res, err := e.verifyExport(path, verifyArgs{quiet: true, keepRanked: true})
	if err != nil {
		return nil, err
	}
	lc, err := contestOf(res, qid)
	if err != nil {
		return nil, failed("%s: %v", path, err)
	}
	q := res.Manifest.Questions[lc.file.Contest]
	fmt.Fprintf(e.stdout, "Export verified: %d ballots counted; question %q (%d candidates, %d to elect, %s).\n", len(lc.verified), q.ID, len(q.Options), q.Seats, q.Rule)
	return lc, nil
}

// contestOf is the ranked question qid (or the only one) of a verified
// export, with its counted ballots' ranked parts (verify.Options.KeepRanked).
func contestOf(res *verify.Result, qid string) (*loadedContest, error) {
	m := res.Manifest
	qi := -1
	for i, q := range m.Questions {
		if q.Ranked() && (q.ID == qid || qid == "") {
			if qi >= 0 && qid == "" {
				return nil, errors.New("the manifest has several ranked questions: give --question")
			}
			qi = i
		}
	}
	if qi < 0 {
		if qid == "" {
			return nil, errors.New("the manifest has no ranked question")
		}
		return nil, fmt.Errorf("the manifest has no ranked question %q", qid)
	}
	q := m.Questions[qi]
	tj, err := json.Marshal(m.Trustees)
	if err != nil {
		return nil, err
	}
	mh := res.Election.ManifestHash()
	rc := &rankedContest{Version: rankedContestVersion, ManifestHash: hex.EncodeToString(mh[:]), Contest: qi, Question: q.ID, Title: q.Text,
		Styles: len(m.Styles), MinRanked: q.Min, MaxRanked: q.Max, Seats: q.Seats, Rule: stv.Rule(q.Rule), Trustees: tj}
	for _, o := range q.Options {
		rc.Candidates = append(rc.Candidates, o.Label)
	}
	// The independent person (s.51A) and, where the union's rules require
	// it, the trustee whose decryption the count needs, as the manifest
	// states them (protocol 7); a manifest that only names them in its
	// texts requires no trustee.
	if ip := m.IndependentPerson; ip != nil {
		rc.IndependentPerson = &independentPerson{Name: ip.Name, Trustee: ip.Trustee}
	} else if name := m.Texts["independent_person"]; name != "" {
		rc.IndependentPerson = &independentPerson{Name: name}
	}
	for _, st := range m.Styles {
		rc.entitled += st.Entitled
	}
	lc, err := parseContest(rc)
	if err != nil {
		return nil, err
	}
	lc.export, lc.verified = true, res.Ranked[qi]
	return lc, nil
}

// verifyRanked re-does, for each ranked question of a verified export
// whose folder dir/<question id> holds a mix, every check of the count:
// every shuffle proof, every trustee's decryption proof, the decoding and
// the STV count, and compares the count with result.json there when
// present (scrutineer verify --ranked).
func (e *env) verifyRanked(res *verify.Result, dir string) error {
	var bad []string
	for _, q := range res.Manifest.Questions {
		if !q.Ranked() {
			continue
		}
		qd := filepath.Join(dir, q.ID)
		if lp, _ := mixPaths(qd, 1); !exists(lp) {
			fmt.Fprintf(e.stdout, "NOT CHECKED [ranked]: question %q: no mix in %s\n", q.ID, qd)
			continue
		}
		lc, err := contestOf(res, q.ID)
		if err != nil {
			return err
		}
		var entitled int
		if lc.file.entitled <= int64(^uint(0)>>1) {
			entitled = int(lc.file.entitled)
		}
		rr, j, err := e.countContest(lc, qd, entitled)
		if err != nil {
			fmt.Fprintf(e.stdout, "FAIL [ranked] question %q: %v\n", q.ID, err)
			bad = append(bad, q.ID)
			continue
		}
		rp := filepath.Join(qd, "result.json")
		if want, err := os.ReadFile(rp); err == nil {
			if !bytes.Equal(want, j) {
				fmt.Fprintf(e.stdout, "FAIL [ranked] question %q: the count does not reproduce %s (%s)\n", q.ID, rp, firstDifference(want, j))
				bad = append(bad, q.ID)
				continue
			}
			fmt.Fprintf(e.stdout, "Question %q: the count reproduces %s.\n", q.ID, rp)
		}
		if err := e.verifyElectionReport(lc, rr, qd, res.Manifest.Texts[report.ManifestKeyText]); err != nil {
			fmt.Fprintf(e.stdout, "FAIL [ranked] question %q: %v\n", q.ID, err)
			bad = append(bad, q.ID)
			continue
		}
		fmt.Fprintf(e.stdout, "VERIFIED question %q: %d ballots, %d shuffles and the decryptions of trustees %v; %s count elects", q.ID, rr.Ballots, rr.Shuffles, rr.Trustees, rr.Count.Rule)
		for _, c := range rr.Count.Elected {
			fmt.Fprintf(e.stdout, " %s;", rr.Candidates[c])
		}
		fmt.Fprintln(e.stdout)
	}
	if len(bad) > 0 {
		return failed("the ranked count of %s does not verify", strings.Join(bad, ", "))
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func loadContest(path string) (*loadedContest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lc, err := decodeContest(io.LimitReader(f, maxContestFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lc, nil
}

// decodeContest strictly decodes contest.json: no unknown field, nothing
// after the object.
func decodeContest(r io.Reader) (*loadedContest, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var rc rankedContest
	if err := dec.Decode(&rc); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return parseContest(&rc)
}

func parseContest(rc *rankedContest) (*loadedContest, error) {
	if rc.Version != rankedContestVersion {
		return nil, fmt.Errorf("contest file version %d, this scrutineer reads %d", rc.Version, rankedContestVersion)
	}
	mh, err := hex.DecodeString(rc.ManifestHash)
	if err != nil || len(mh) != 32 || hex.EncodeToString(mh) != rc.ManifestHash {
		return nil, errors.New("manifest_hash: want 64 lowercase hex digits")
	}
	if rc.Contest < 0 || rc.Contest > 0xffff {
		return nil, errors.New("contest: out of range")
	}
	if rc.Rule != stv.ERS97 && rc.Rule != stv.Meek {
		return nil, fmt.Errorf("rule %q: want %q or %q", rc.Rule, stv.ERS97, stv.Meek)
	}
	var pub threshold.PublicKey
	if err := pub.UnmarshalJSON(rc.Trustees); err != nil {
		return nil, fmt.Errorf("trustees: %w", err)
	}
	kb, err := pub.Key.MarshalBinary()
	if err != nil {
		return nil, err
	}
	key, err := elgamal.ParsePublicKey(kb)
	if err != nil {
		return nil, fmt.Errorf("trustees: election key: %w", err)
	}
	c := &ranked.Contest{Key: key, Index: uint16(rc.Contest), Styles: rc.Styles,
		Candidates: len(rc.Candidates), MinRanked: rc.MinRanked, MaxRanked: rc.MaxRanked}
	copy(c.ManifestHash[:], mh)
	if err := c.Check(); err != nil {
		return nil, err
	}
	if rc.Seats < 1 || rc.Seats >= len(rc.Candidates) {
		return nil, fmt.Errorf("seats %d: want 1 to %d", rc.Seats, len(rc.Candidates)-1)
	}
	if ip := rc.IndependentPerson; ip != nil {
		if strings.TrimSpace(ip.Name) == "" || len(ip.Name) > 200 {
			return nil, errors.New("independent_person.name: want 1 to 200 bytes")
		}
		if ip.Trustee < 0 || ip.Trustee > len(pub.Shares) {
			return nil, fmt.Errorf("independent_person.trustee %d: there are %d trustees", ip.Trustee, len(pub.Shares))
		}
	}
	lc := &loadedContest{file: rc, pub: &pub, contest: c, ballots: make([][]byte, len(rc.Ballots))}
	for i, h := range rc.Ballots {
		if lc.ballots[i], err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("ballot %d: not hex", i+1)
		}
	}
	return lc, nil
}

// spoilt is a ballot left out of the mix: its 1-based position and why.
type spoilt struct {
	Ballot int    `json:"ballot"`
	Reason string `json:"reason"`
}

// verifyBallots parses and verifies every ballot (protocol §9.1) and
// returns the verified ones in order, and the others named.
func (lc *loadedContest) verifyBallots() ([]*ranked.Ballot, []spoilt) {
	if lc.export {
		// Verified with the export: a ballot with an invalid ranking
		// fails the export (entry.proof), it is never set aside here.
		return lc.verified, nil
	}
	var bad []spoilt
	var parsed []*ranked.Ballot
	var pos []int
	for i, b := range lc.ballots {
		p, err := lc.contest.Parse(b)
		if err != nil {
			bad = append(bad, spoilt{i + 1, "cannot be read: " + err.Error()})
			continue
		}
		parsed = append(parsed, p)
		pos = append(pos, i)
	}
	drop := map[int]bool{}
	for _, k := range lc.contest.BatchVerify(parsed) {
		drop[k] = true
		reason := "invalid ranking: the proofs do not verify"
		if err := lc.contest.Verify(parsed[k]); err != nil {
			reason = "invalid ranking: " + err.Error()
		}
		bad = append(bad, spoilt{pos[k] + 1, reason})
	}
	var ok []*ranked.Ballot
	for k, p := range parsed {
		if !drop[k] {
			ok = append(ok, p)
		}
	}
	slices.SortFunc(bad, func(a, b spoilt) int { return a.Ballot - b.Ballot })
	return ok, bad
}

// parallel runs f(0) … f(n−1) on all cores.
func parallel(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}

func mixPaths(dir string, t int) (string, string) {
	return filepath.Join(dir, fmt.Sprintf("mix-%d.list", t)), filepath.Join(dir, fmt.Sprintf("mix-%d.proof", t))
}

func decryptPath(dir string, j int) string {
	return filepath.Join(dir, fmt.Sprintf("decrypt-%d.bin", j))
}

// cascade is the verified mix of a contest.
type cascade struct {
	ballots int // ballots cast
	spoilt  []spoilt
	input   *shuffle.List
	rounds  int
	final   *shuffle.List
}

// verifyCascade verifies the ballots and every shuffle in the folder
// (mix-1, mix-2, … until the first missing), naming the first that fails.
// With no shuffle, final is the mix input.
func (e *env) verifyCascade(lc *loadedContest, dir string) (*cascade, error) {
	ok, bad := lc.verifyBallots()
	for _, s := range bad {
		fmt.Fprintf(e.stdout, "ballot %d set aside: %s\n", s.Ballot, s.Reason)
	}
	if len(ok) == 0 {
		return nil, failed("no valid ballot to mix")
	}
	in, err := lc.contest.MixInput(ok)
	if err != nil {
		return nil, failed("mix input: %v", err)
	}
	var mixes []shuffle.Mix
	for t := 1; t <= shuffle.MaxRounds; t++ {
		lp, pp := mixPaths(dir, t)
		lb, err := os.ReadFile(lp)
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			return nil, err
		}
		l, err := shuffle.ParseList(lb)
		if err != nil {
			return nil, failed("shuffle %d (%s): %v", t, lp, err)
		}
		pb, err := os.ReadFile(pp)
		if err != nil {
			return nil, failed("shuffle %d: no proof: %v", t, err)
		}
		p, err := shuffle.ParseProof(pb)
		if err != nil {
			return nil, failed("shuffle %d (%s): %v", t, pp, err)
		}
		mixes = append(mixes, shuffle.Mix{Output: l, Proof: p})
	}
	cs := &cascade{ballots: lc.cast(), spoilt: bad, input: in, rounds: len(mixes), final: in}
	if len(mixes) == 0 {
		return cs, nil
	}
	final, err := shuffle.VerifyCascade(lc.contest.MixStatement(), in, mixes)
	if err != nil {
		return nil, failed("%v", err)
	}
	cs.final = final
	return cs, nil
}

func (e *env) rankedFixture(args []string) error {
	fs := flag.NewFlagSet("ranked fixture", flag.ContinueOnError)
	trustees := fs.String("trustees", "", "the trustees' public key file (trustees.json)")
	rankings := fs.String("rankings", "", "JSON file: one ranking a ballot, candidates 0-based in order of preference")
	n := fs.Int("candidates", 0, "number of candidates")
	seats := fs.Int("seats", 1, "places to fill")
	rule := fs.String("rule", string(stv.ERS97), "the count rule: ers97 or meek")
	out := fs.String("out", "", "contest file to write")
	ipName := fs.String("independent-person", "", "name of the s.51A independent person")
	ipTrustee := fs.Int("independent-trustee", 0, "with --independent-person: the trustee whose key share they hold, required for the count")
	if _, err := e.parse(fs, args, "ranked fixture --trustees trustees.json --rankings rankings.json --candidates N --seats S --out contest.json"); err != nil {
		return err
	}
	for k, v := range map[string]string{"trustees": *trustees, "rankings": *rankings, "out": *out} {
		if err := need(k, v); err != nil {
			return err
		}
	}
	tb, err := os.ReadFile(*trustees)
	if err != nil {
		return err
	}
	rb, err := os.ReadFile(*rankings)
	if err != nil {
		return err
	}
	var rs [][]int
	dec := json.NewDecoder(bytes.NewReader(rb))
	if err := dec.Decode(&rs); err != nil {
		return fmt.Errorf("rankings: %w", err)
	}
	mh := sha256.Sum256([]byte("scrutineer ranked fixture " + *rankings))
	rc := &rankedContest{Version: rankedContestVersion, ManifestHash: hex.EncodeToString(mh[:]), Styles: 1,
		MinRanked: 1, MaxRanked: *n, Seats: *seats, Rule: stv.Rule(*rule), Trustees: json.RawMessage(bytes.TrimSpace(tb))}
	if *ipName != "" {
		rc.IndependentPerson = &independentPerson{Name: *ipName, Trustee: *ipTrustee}
	}
	for i := range *n {
		rc.Candidates = append(rc.Candidates, fmt.Sprintf("Candidate %c", 'A'+i%26))
	}
	lc, err := parseContest(rc)
	if err != nil {
		return err
	}
	rc.Ballots = make([]string, len(rs))
	errs := make([]error, len(rs))
	parallel(len(rs), func(i int) {
		b, _, err := lc.contest.Encrypt(rand.Reader, 0, rs[i])
		if err != nil {
			errs[i] = fmt.Errorf("ranking %d: %w", i+1, err)
			return
		}
		bb, _ := b.MarshalBinary()
		rc.Ballots[i] = hex.EncodeToString(bb)
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	j, err := json.Marshal(rc)
	if err != nil {
		return err
	}
	if err := writeFile(*out, append(j, '\n'), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Wrote %s: %d ranked ballots of %d candidates (TEST ONLY).\n", *out, len(rs), *n)
	return nil
}

func (e *env) rankedMix(args []string) error {
	fs := flag.NewFlagSet("ranked mix", flag.ContinueOnError)
	src := contestFlags(fs)
	if _, err := e.parse(fs, args, "ranked mix (--contest contest.json | --export export.jsonl [--question ID]) [--dir DIR]"); err != nil {
		return err
	}
	lc, dir, err := e.load(src)
	if err != nil {
		return err
	}
	cs, err := e.verifyCascade(lc, dir)
	if err != nil {
		return err
	}
	t := cs.rounds + 1
	if t > shuffle.MaxRounds {
		return fmt.Errorf("already %d shuffles, the most there can be", cs.rounds)
	}
	out, p, err := shuffle.Shuffle(rand.Reader, shuffle.RoundStatement(lc.contest.MixStatement(), cs.rounds), cs.final)
	if err != nil {
		return err
	}
	lb, _ := out.MarshalBinary()
	lp, pp := mixPaths(dir, t)
	if err := writeFile(lp, lb, false); err != nil {
		return err
	}
	if err := writeFile(pp, p.Bytes(), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d ballots verified (%d set aside), %d shuffles verified. Shuffle %d of %d rows written to %s and %s.\n",
		cs.ballots-len(cs.spoilt), len(cs.spoilt), cs.rounds, t, out.Len(), lp, pp)
	return nil
}

func (e *env) rankedDecrypt(args []string) error {
	fs := flag.NewFlagSet("ranked decrypt", flag.ContinueOnError)
	src := contestFlags(fs)
	key := fs.String("key", "", "your trustee key file")
	pf := fs.String("passphrase-file", "", "read the passphrase from this file instead of the terminal")
	index := fs.Int("index", 0, "your trustee number")
	share := fs.String("share", "", "your secret share file (default share-<index>.age)")
	if _, err := e.parse(fs, args, "ranked decrypt (--contest contest.json | --export export.jsonl [--question ID]) --index J --key trustee.key [--share share-J.age] [--dir DIR]"); err != nil {
		return err
	}
	if err := need("key", *key); err != nil {
		return err
	}
	if *share == "" {
		*share = fmt.Sprintf("share-%d.age", *index)
	}
	sk, err := e.openShare(*key, *pf, *share, *index)
	if err != nil {
		return err
	}
	lc, dir, err := e.load(src)
	if err != nil {
		return err
	}
	if sk.Index > len(lc.pub.Shares) || !sk.Public().IsEqual(lc.pub.Shares[sk.Index-1]) {
		return failed("your share does not match trustee %d's public key in the contest: this is not the election you hold a key for", sk.Index)
	}
	cs, err := e.verifyCascade(lc, dir)
	if err != nil {
		return err
	}
	if cs.rounds == 0 {
		// Decrypting the unmixed ballots would tie each ranking to its voter.
		return failed("no shuffle in %s: the ballots must be mixed before any trustee decrypts", dir)
	}
	pd, err := shuffle.PartialDecrypt(rand.Reader, lc.pub, sk, lc.contest.ManifestHash[:], cs.final)
	if err != nil {
		return err
	}
	pb, _ := pd.MarshalBinary()
	out := decryptPath(dir, sk.Index)
	if err := writeFile(out, pb, false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d shuffles verified. Partial decryption of %d mixed ballots by trustee %d written to %s.\n", cs.rounds, cs.final.Len(), sk.Index, out)
	return nil
}

// rankedResult is result.json: the count and what it was counted from.
type rankedResult struct {
	ManifestHash string   `json:"manifest_hash"`
	Contest      int      `json:"contest"`
	Candidates   []string `json:"candidates"`
	Ballots      int      `json:"ballots"`
	Entitled     int      `json:"entitled,omitempty"`
	// IndependentPerson is the s.51A independent person's name.
	IndependentPerson string      `json:"independent_person,omitempty"`
	Spoilt            []spoilt    `json:"spoilt"`
	Shuffles          int         `json:"shuffles"`
	Trustees          []int       `json:"decrypted_by"`
	FinalList         string      `json:"final_list_sha256"`
	Lot               []int       `json:"lot"`
	Count             *stv.Result `json:"count"`
}

func (e *env) rankedCount(args []string) error {
	fs := flag.NewFlagSet("ranked count", flag.ContinueOnError)
	src := contestFlags(fs)
	out := fs.String("out", "", "result file to write (default: none)")
	expect := fs.String("expect", "", "a published result file: check that this count reproduces it exactly")
	signedBy := fs.String("signed-by", "", "with --expect: the scrutineer's public key (.pub from keygen); check the result's signature (<expect>.sig) too")
	key := fs.String("key", "", "with --out: sign the result with this scrutineer signing key (writes <out>.sig)")
	pf := fs.String("passphrase-file", "", "read the signing key's passphrase from this file instead of the terminal")
	md := fs.String("markdown", "", "also write the count stage by stage as a Markdown table to this file")
	entitled := fs.Int("entitled", 0, "members entitled to vote in the contest (for the turnout; with --export the default is the manifest's entitled)")
	if _, err := e.parse(fs, args, "ranked count (--contest contest.json | --export export.jsonl [--question ID]) [--dir DIR] [--out result.json [--key scrutineer.key]] [--expect result.json [--signed-by scrutineer.key.pub]] [--markdown count.md]"); err != nil {
		return err
	}
	if *key != "" && *out == "" {
		return errors.New("--key signs the result written by --out: give --out")
	}
	if *signedBy != "" && *expect == "" {
		return errors.New("--signed-by checks the result given by --expect: give --expect")
	}
	var signer note.Signer
	if *key != "" {
		// The key first: a run that cannot sign writes nothing.
		sk, err := e.openSecret(*key, *pf, "signing key")
		if err != nil {
			return err
		}
		if signer, err = note.NewSigner(strings.TrimSpace(string(sk))); err != nil {
			return fmt.Errorf("%s is not a scrutineer signing key: %w", *key, err)
		}
	}
	lc, dir, err := e.load(src)
	if err != nil {
		return err
	}
	if *entitled == 0 && lc.export {
		*entitled = int(lc.file.entitled)
	}
	if *entitled < 0 || (*entitled > 0 && *entitled < lc.cast()) {
		return fmt.Errorf("--entitled %d: fewer members than the %d ballots cast", *entitled, lc.cast())
	}
	rr, j, err := e.countContest(lc, dir, *entitled)
	if err != nil {
		return err
	}
	res := rr.Count
	fmt.Fprintf(e.stdout, "%s count, %d places, %d stages. Elected:\n", res.Rule, res.Seats, len(res.Stages))
	for _, c := range res.Elected {
		fmt.Fprintf(e.stdout, "  %s\n", lc.file.Candidates[c])
	}
	return e.publishRanked(rr, j, signer, *out, *md, *expect, *signedBy)
}

// countContest verifies the ballots, every shuffle and every trustee's
// decryption in dir, decodes the mixed ballots and counts them by STV
// with the lot of protocol §9.7. It returns the result and its JSON.
func (e *env) countContest(lc *loadedContest, dir string, entitled int) (*rankedResult, []byte, error) {
	cs, err := e.verifyCascade(lc, dir)
	if err != nil {
		return nil, nil, err
	}
	if cs.rounds == 0 {
		return nil, nil, failed("no shuffle in %s: a ranked count decrypts only mixed ballots", dir)
	}
	var pds []*shuffle.PartialDecryption
	var who []int
	for j := 1; j <= len(lc.pub.Shares); j++ {
		b, err := os.ReadFile(decryptPath(dir, j))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		pd, err := shuffle.ParsePartialDecryption(b)
		if err != nil {
			return nil, nil, failed("decryption by trustee %d (%s): %v", j, decryptPath(dir, j), err)
		}
		if pd.Trustee != j {
			return nil, nil, failed("%s holds trustee %d's decryption, not trustee %d's", decryptPath(dir, j), pd.Trustee, j)
		}
		if err := shuffle.VerifyPartialDecryption(lc.pub, lc.contest.ManifestHash[:], cs.final, pd); err != nil {
			return nil, nil, failed("decryption by trustee %d: %v", j, err)
		}
		pds = append(pds, pd)
		who = append(who, j)
	}
	// s.51A: where the union's rules require it, the count cannot be made
	// without the independent person's key share.
	if ip := lc.file.IndependentPerson; ip != nil && ip.Trustee > 0 && !slices.Contains(who, ip.Trustee) {
		return nil, nil, failed("no decryption by trustee %d, the independent person %s: the union's rules require their key share for the count (s.51A)", ip.Trustee, ip.Name)
	}
	if len(pds) < lc.pub.Threshold {
		return nil, nil, failed("%d trustees' decryptions, the count needs %d", len(pds), lc.pub.Threshold)
	}
	pts, err := shuffle.Decrypt(lc.pub, lc.contest.ManifestHash[:], cs.final, pds)
	if err != nil {
		return nil, nil, failed("%v", err)
	}
	el := &stv.Election{Candidates: len(lc.file.Candidates), Names: lc.file.Candidates, Seats: lc.file.Seats, Withdrawn: lc.file.Withdrawn}
	for i, row := range pts {
		r, err := lc.contest.Decode(row)
		if err != nil {
			return nil, nil, failed("mixed ballot %d: %v", i+1, err)
		}
		el.Ballots = append(el.Ballots, stv.Ballot{Weight: 1, Prefs: r})
	}
	// The lot is drawn from a seed fixed after the close (protocol §9.7):
	// the manifest hash and the hash of the final mixed list.
	fb, _ := cs.final.MarshalBinary()
	fh := sha256.Sum256(fb)
	el.Lot = stv.LotFromSeed(append(lc.contest.ManifestHash[:], fh[:]...), el.Candidates)
	res, err := stv.Count(lc.file.Rule, el)
	if err != nil {
		return nil, nil, err
	}
	rr := &rankedResult{ManifestHash: lc.file.ManifestHash, Contest: lc.file.Contest, Candidates: lc.file.Candidates,
		Ballots: cs.ballots, Entitled: entitled, Spoilt: cs.spoilt, Shuffles: cs.rounds, Trustees: who, FinalList: hex.EncodeToString(fh[:]),
		Lot: el.Lot, Count: res}
	if ip := lc.file.IndependentPerson; ip != nil {
		rr.IndependentPerson = ip.Name
	}
	if rr.Spoilt == nil {
		rr.Spoilt = []spoilt{}
	}
	j, err := json.MarshalIndent(rr, "", " ")
	if err != nil {
		return nil, nil, err
	}
	j = append(j, '\n')
	fmt.Fprintf(e.stdout, "%d ballots, %d set aside, %d shuffles and %d trustees' decryptions verified.\n", cs.ballots, len(cs.spoilt), cs.rounds, len(who))
	return rr, j, nil
}

// publishRanked writes (and signs) the result, its Markdown, and checks
// it against a published one, as the flags of ranked count ask.
func (e *env) publishRanked(rr *rankedResult, j []byte, signer note.Signer, out, md, expect, signedBy string) error {
	if out != "" {
		if err := writeFile(out, j, false); err != nil {
			return err
		}
		if signer != nil {
			signed, err := note.Sign(&note.Note{Text: string(j)}, signer)
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			if err := writeFile(out+".sig", signed[len(j):], false); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Result signed by %s: %s.sig.\n", signer.Name(), out)
		}
	}
	if md != "" {
		var buf bytes.Buffer
		renderRanked(&buf, rr)
		if err := writeFile(md, buf.Bytes(), false); err != nil {
			return err
		}
	}
	if expect != "" {
		want, err := os.ReadFile(expect)
		if err != nil {
			return err
		}
		if !bytes.Equal(want, j) {
			return failed("the count does not reproduce %s (%s)", expect, firstDifference(want, j))
		}
		fmt.Fprintf(e.stdout, "The count reproduces %s.\n", expect)
		if signedBy != "" {
			kb, err := os.ReadFile(signedBy)
			if err != nil {
				return err
			}
			v, err := report.ParseKey(string(kb))
			if err != nil {
				return err
			}
			sig, err := os.ReadFile(expect + ".sig")
			if err != nil {
				return failed("%s has no signature: %v", expect, err)
			}
			if _, err := report.OpenText(want, sig, v); err != nil {
				return failed("%v", err)
			}
			fmt.Fprintf(e.stdout, "Its signature by %s is good.\n", v.Name())
		}
	}
	return nil
}

// renderRanked writes the count stage by stage: votes per candidate at
// every stage, the quota, exhausted and non-transferable votes, who was
// elected and excluded, the spoilt ballots and the turnout.
func renderRanked(w io.Writer, rr *rankedResult) {
	res := rr.Count
	fmt.Fprintf(w, "# STV count (%s), %d places\n\n", res.Rule, res.Seats)
	fmt.Fprintf(w, "Ballots: %d. Spoilt: %d. Valid papers: %d.", rr.Ballots, len(rr.Spoilt), res.Valid)
	if rr.Entitled > 0 {
		fmt.Fprintf(w, " Entitled to vote: %d. Turnout: %.1f%%.", rr.Entitled, 100*float64(rr.Ballots)/float64(rr.Entitled))
	}
	if rr.IndependentPerson != "" {
		fmt.Fprintf(w, "\n\nIndependent person (s.51A): %s.", mdCell(rr.IndependentPerson))
	}
	fmt.Fprint(w, "\n\nElected:")
	for _, c := range res.Elected {
		fmt.Fprintf(w, " %s;", mdCell(rr.Candidates[c]))
	}
	fmt.Fprint(w, "\n\n| candidate |")
	for _, st := range res.Stages {
		if st.Batch > 0 {
			fmt.Fprintf(w, " %d.%d |", st.Number, st.Batch)
		} else {
			fmt.Fprintf(w, " %d |", st.Number)
		}
	}
	fmt.Fprint(w, "\n| --- |"+strings.Repeat(" ---: |", len(res.Stages))+"\n")
	for c, name := range rr.Candidates {
		fmt.Fprintf(w, "| %s |", mdCell(name))
		for _, st := range res.Stages {
			mark := ""
			if slices.Contains(st.Elected, c) {
				mark = " elected"
			} else if slices.Contains(st.Excluded, c) {
				mark = " excluded"
			}
			fmt.Fprintf(w, " %s%s |", st.Votes[c], mark)
		}
		fmt.Fprintln(w)
	}
	row := func(name string, f func(st stv.Stage) string) {
		fmt.Fprintf(w, "| %s |", name)
		for _, st := range res.Stages {
			fmt.Fprintf(w, " %s |", f(st))
		}
		fmt.Fprintln(w)
	}
	row("exhausted", func(st stv.Stage) string { return st.Exhausted })
	if res.Rule == stv.ERS97 {
		row("non-transferable remainder", func(st stv.Stage) string { return st.Remainder })
	}
	row("quota", func(st stv.Stage) string { return st.Quota })
	row("action", func(st stv.Stage) string { return mdCell(st.Action) })
	if len(rr.Spoilt) > 0 {
		fmt.Fprint(w, "\nSpoilt ballots (set aside, not counted):\n\n")
		for _, s := range rr.Spoilt {
			fmt.Fprintf(w, "- ballot %d: %s\n", s.Ballot, mdCell(s.Reason))
		}
	}
}

// mdCell makes text (a candidate's name, from the contest file) safe in a
// Markdown table cell: no cell break, no line break, no HTML a renderer
// would pass through.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// firstDifference names the first line where two results differ.
func firstDifference(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d: published %q, counted %q", i+1, strings.TrimSpace(al[i]), strings.TrimSpace(bl[i]))
		}
	}
	return fmt.Sprintf("%d lines published, %d counted", len(al), len(bl))
}
