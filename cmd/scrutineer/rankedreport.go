package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
)

// The files `ranked report` writes in its --out-dir.
const (
	electionReportJSON = "election-report.json"
	electionReportSig  = "election-report.json.sig"
)

// electionOf is the election report's view of a count: the contest it is
// of (with the independent person the manifest or contest file names) and
// the counted part.
func electionOf(lc *loadedContest, rr *rankedResult, title string) (report.ElectionContest, report.ElectionCount) {
	ec := report.ElectionContest{ManifestHash: rr.ManifestHash, Contest: rr.Contest, Question: lc.file.Question, Title: title}
	if ec.Title == "" {
		ec.Title = lc.file.Title
	}
	if ec.Title == "" {
		ec.Title = fmt.Sprintf("Ranked contest %d", rr.Contest+1)
	}
	if ip := lc.file.IndependentPerson; ip != nil {
		ec.Persons = []report.IndependentPerson{{Name: ip.Name, Trustee: ip.Trustee}}
	}
	c := report.ElectionCount{Candidates: rr.Candidates, Distributed: int64(rr.Entitled), Returned: int64(rr.Ballots),
		Shuffles: rr.Shuffles, DecryptedBy: rr.Trustees, FinalList: rr.FinalList, Lot: rr.Lot, STV: rr.Count}
	for _, s := range rr.Spoilt {
		c.Spoilt = append(c.Spoilt, report.SpoiltPaper{Ballot: s.Ballot, Reason: s.Reason})
	}
	return ec, c
}

// rankedReport counts a contest again (every ballot, shuffle and
// decryption verified, as ranked count) and writes the election's result
// and the scrutineer's s.52 report, signed, with its English and Welsh
// renderings.
func (e *env) rankedReport(args []string) error {
	fs := flag.NewFlagSet("ranked report", flag.ContinueOnError)
	src := contestFlags(fs)
	key := fs.String("key", "scrutineer.key", "the scrutineer's signing key file")
	pf := fs.String("passphrase-file", "", "read the passphrase from this file instead of the terminal")
	outDir := fs.String("out-dir", "", "folder for "+electionReportJSON+", its .sig, election-report.md (English), election-report.cy.md (Welsh) and election-report.html (both) (default: the contest's folder)")
	name := fs.String("scrutineer", "", "the scrutineer's name (default: the key's name)")
	title := fs.String("title", "", "the office the contest fills (default: the question's text in the manifest)")
	date := fs.String("date", "", "date of the report, YYYY-MM-DD (default today)")
	entitled := fs.Int("entitled", 0, "voting papers distributed: members entitled to vote in the contest (s.52(1)(a); with --export the default is the manifest's entitled)")
	inspected := fs.Bool("register-inspected", false, "you inspected the register of members' names and addresses, or examined the copy supplied (s.52(2A))")
	var notA, notB, notC, notIP, regParts, regMatters, notes listFlag
	fs.Var(&notA, "not-satisfied-a", "particulars of a contravention (s.52(2)(a)); repeat for several")
	fs.Var(&notB, "not-satisfied-b", "particulars where the security arrangements fell short (s.52(2)(b)); repeat")
	fs.Var(&notC, "not-satisfied-c", "particulars of interference with your independence (s.52(2)(c)); repeat")
	fs.Var(&notIP, "independent-not-satisfied", "particulars where you are not satisfied with the independent person's performance (s.52(2B)); repeat")
	fs.Var(&regParts, "register-particulars", "with --register-inspected: at whose request (or your own instance) you inspected it, and any request you declined (s.52(2A)); repeat")
	fs.Var(&regMatters, "register-matter", "a matter the register's inspection revealed that the union should attend to, without any member's name (s.52(2A)); repeat")
	fs.Var(&notes, "note", "a further note for the report; repeat")
	if _, err := e.parse(fs, args, "ranked report (--contest contest.json | --export export.jsonl [--question ID]) [--dir DIR] --key scrutineer.key [--out-dir DIR] [--title TEXT] [--register-inspected] [--not-satisfied-b TEXT]…"); err != nil {
		return err
	}
	if *date == "" {
		*date = time.Now().UTC().Format("2006-01-02")
	}
	// The key first: a run that cannot sign writes nothing.
	sk, err := e.openSecret(*key, *pf, "signing key")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(sk)))
	if err != nil {
		return fmt.Errorf("%s is not a scrutineer signing key: %w", *key, err)
	}
	lc, dir, err := e.load(src)
	if err != nil {
		return err
	}
	ent, err := e.entitledFor(lc, *entitled)
	if err != nil {
		return err
	}
	rr, _, err := e.countContest(lc, dir, ent)
	if err != nil {
		return err
	}
	ec, count := electionOf(lc, rr, *title)
	o := report.ElectionOptions{Scrutineer: *name, Date: *date, NotSatisfiedA: notA, NotSatisfiedB: notB, NotSatisfiedC: notC,
		Register: report.RegisterStatement{Inspected: *inspected, Particulars: regParts, Matters: regMatters}, Notes: notes}
	if len(notIP) > 0 {
		if len(ec.Persons) == 0 {
			return errors.New("--independent-not-satisfied: the contest names no independent person (s.51A)")
		}
		o.IndependentNotSatisfied = map[int][]string{0: notIP}
	}
	rep := report.NewElection(ec, count, signer.Name(), o)
	js, sig, err := report.SignElection(rep, signer)
	if err != nil {
		return err
	}
	// What is written must read back: the tool never signs a report its
	// own reader refuses.
	if _, err := report.ParseElection(js); err != nil {
		return fmt.Errorf("the report does not read back: %w", err)
	}
	var en, cy, ht bytes.Buffer
	report.WriteElectionMarkdown(&en, rep, "en")
	report.WriteElectionMarkdown(&cy, rep, "cy")
	if err := report.WriteElectionHTML(&ht, rep); err != nil {
		return err
	}
	if *outDir == "" {
		*outDir = dir
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{electionReportJSON, js}, {electionReportSig, sig}, {"election-report.md", en.Bytes()}, {"election-report.cy.md", cy.Bytes()}, {"election-report.html", ht.Bytes()}} {
		if err := writeFile(filepath.Join(*outDir, f.name), f.data, false); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "Election report signed by %s written to %s/election-report.{json,json.sig,md,cy.md,html}.\n", signer.Name(), *outDir)
	e.printElection(rep)
	return nil
}

// entitledFor is the number entitled to vote in a contest: given, or with
// an export the manifest's; never fewer than the ballots cast.
func (e *env) entitledFor(lc *loadedContest, entitled int) (int, error) {
	if entitled == 0 && lc.export {
		entitled = int(lc.file.entitled)
	}
	if entitled < 0 || (entitled > 0 && entitled < lc.cast()) {
		return 0, fmt.Errorf("--entitled %d: fewer members than the %d ballots cast", entitled, lc.cast())
	}
	return entitled, nil
}

// printElection states what an election report says.
func (e *env) printElection(rep *report.ElectionReport) {
	c := rep.Count
	fmt.Fprintf(e.stdout, "%s: %d papers distributed, %d returned (turnout %s), %d spoilt. Elected:", rep.Title, c.Distributed, c.Returned, c.Turnout, len(c.Spoilt))
	for _, i := range c.Elected {
		fmt.Fprintf(e.stdout, " %s;", c.Candidates[i])
	}
	fmt.Fprintln(e.stdout)
	for _, ip := range rep.IndependentPersons {
		fmt.Fprintf(e.stdout, "Independent person (s.51A): %s", ip.Name)
		if ip.Trustee > 0 {
			fmt.Fprintf(e.stdout, ", trustee %d", ip.Trustee)
		}
		fmt.Fprintf(e.stdout, "; performance satisfactory (s.52(2B)): %s\n", yesno(ip.Satisfied))
	}
	for _, s := range rep.Statements {
		fmt.Fprintf(e.stdout, "%s satisfied: %s\n", s.Clause, yesno(s.Satisfied))
	}
}

// checkElection checks a signed election report (check-result): its
// signature and form, and with a contest source, that a recount of the
// contest reproduces its count.
func (e *env) checkElection(js, sig []byte, vkey string, src contestSource, entitled int) error {
	rep, err := report.OpenElection(js, sig, vkey)
	if err != nil {
		return failed("%v", strings.TrimPrefix(err.Error(), "report: "))
	}
	fmt.Fprintf(e.stdout, "GOOD signature by %s on the election result and report for contest %d %q (manifest %s, dated %s).\n",
		rep.SignedBy, rep.Contest, rep.Question, rep.ManifestHash, rep.Date)
	e.printElection(rep)
	if *src.contest == "" && *src.export == "" {
		fmt.Fprintln(e.stdout, "NOT CHECKED: the count was not recounted (give --contest or --export to recount it from the ballots, shuffles and decryptions).")
		return nil
	}
	lc, dir, err := e.load(src)
	if err != nil {
		return err
	}
	if entitled == 0 {
		entitled = int(rep.Count.Distributed)
	}
	ent, err := e.entitledFor(lc, entitled)
	if err != nil {
		return err
	}
	rr, _, err := e.countContest(lc, dir, ent)
	if err != nil {
		return err
	}
	ec, count := electionOf(lc, rr, rep.Title)
	again := report.NewElection(ec, count, rep.SignedBy, report.ElectionOptions{Date: rep.Date})
	if diffs := report.CheckElection(rep, again); len(diffs) > 0 {
		for _, d := range diffs {
			fmt.Fprintf(e.stdout, "FAIL [election report] %s\n", d)
		}
		return failed("the recount does not reproduce the signed election report (%d differences)", len(diffs))
	}
	fmt.Fprintf(e.stdout, "VERIFIED: the recount reproduces the signed count (%d stages, %d elected).\n", len(rep.Count.STV.Stages), len(rep.Count.Elected))
	return nil
}

// verifyElectionReport checks the signed election report in a question's
// folder, when there is one (verify --ranked): its signature by the key
// the manifest binds, its form, and that the recount rr reproduces its
// count.
func (e *env) verifyElectionReport(lc *loadedContest, rr *rankedResult, qd, key string) error {
	js, err := os.ReadFile(filepath.Join(qd, electionReportJSON))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if key == "" {
		fmt.Fprintf(e.stdout, "NOT CHECKED [ranked]: %s: the manifest binds no scrutineer key (texts.%s)\n", filepath.Join(qd, electionReportJSON), report.ManifestKeyText)
		return nil
	}
	sig, err := os.ReadFile(filepath.Join(qd, electionReportSig))
	if err != nil {
		return fmt.Errorf("%s has no signature: %v", electionReportJSON, err)
	}
	rep, err := report.OpenElection(js, sig, key)
	if err != nil {
		return fmt.Errorf("%s: %v", electionReportJSON, strings.TrimPrefix(err.Error(), "report: "))
	}
	ec, count := electionOf(lc, rr, rep.Title)
	if diffs := report.CheckElection(rep, report.NewElection(ec, count, rep.SignedBy, report.ElectionOptions{Date: rep.Date})); len(diffs) > 0 {
		return fmt.Errorf("the count does not reproduce the signed %s: %s", electionReportJSON, strings.Join(diffs, "; "))
	}
	fmt.Fprintf(e.stdout, "The count reproduces the signed %s (signed by %s).\n", filepath.Join(qd, electionReportJSON), rep.SignedBy)
	return nil
}
