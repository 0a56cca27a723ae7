package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
)

// The signed document and its parts live in crypto/report, shared with the
// service (which checks a report before publishing it) and third parties.
type (
	Report    = report.Report
	Statement = report.Statement
)

func (e *env) keygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	name := fs.String("name", "", "key name, no spaces (e.g. scrutineers.example.org)")
	out := fs.String("out", "scrutineer.key", "signing key file to create (the public key goes to <out>.pub)")
	pf := fs.String("passphrase-file", "", "read the new passphrase from this file instead of the terminal")
	if _, err := e.parse(fs, args, "keygen --name NAME [--out scrutineer.key]"); err != nil {
		return err
	}
	if err := need("name", *name); err != nil {
		return err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *name)
	if err != nil {
		return fmt.Errorf("generate key (the name must have no spaces and no '+'): %w", err)
	}
	pass, err := e.passphrase(*pf, "New passphrase for "+*out, true)
	if err != nil {
		return err
	}
	sealed, err := e.sealPassphrase([]byte(skey+"\n"), pass)
	if err != nil {
		return err
	}
	if err := writeFile(*out, sealed, true); err != nil {
		return err
	}
	if err := writeFile(*out+".pub", []byte(vkey+"\n"), false); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Signing key written to %s.\nPublic key (publish it; anyone checks your report with it): %s\n", *out, vkey)
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func (e *env) report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	in := fs.String("result", "result.json", "the result file written by tally")
	key := fs.String("key", "scrutineer.key", "the scrutineer's signing key file")
	pf := fs.String("passphrase-file", "", "read the passphrase from this file instead of the terminal")
	outDir := fs.String("out-dir", "report", "folder for report.json, report.json.sig, report.md, report.html")
	name := fs.String("scrutineer", "", "the scrutineer's name (default: the manifest's scrutineer text)")
	date := fs.String("date", "", "date of the report, YYYY-MM-DD (default today)")
	var notA, notB, notC, notes listFlag
	fs.Var(&notA, "not-satisfied-a", "particulars of a contravention (s.231B(1)(a)); repeat for several")
	fs.Var(&notB, "not-satisfied-b", "particulars where the security arrangements fell short (s.231B(1)(b)); repeat")
	fs.Var(&notC, "not-satisfied-c", "particulars of interference with your independence (s.231B(1)(c)); repeat")
	fs.Var(&notes, "note", "a further note for the report; repeat")
	audit := fs.String("audit", "", "the ballot's audit log export (audit.jsonl from its scrutineer page): checked, and what it records of volunteer texting "+
		"(your approval to use turnout data: when, by which account, the policy wording; or that there was none) is stated in the report's notes")
	if _, err := e.parse(fs, args, "report --result result.json --key scrutineer.key [--audit audit.jsonl] [--out-dir report] [--not-satisfied-b TEXT]…"); err != nil {
		return err
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	rf, err := parseResultFile(b)
	if err != nil {
		return fmt.Errorf("%s is not a result file written by `scrutineer tally`: %w", *in, err)
	}
	if *audit != "" {
		// The approval is the scrutineer's own record: it goes into the
		// signed report from the checked export of this ballot's log.
		x, err := readAudit(*audit)
		if err != nil {
			return err
		}
		if ok, err := x.opens(rf.Result.ManifestHash); err != nil {
			return err
		} else if !ok {
			return failed("%s is not the audit log of this ballot: no opening of manifest %s is recorded in it", *audit, rf.Result.ManifestHash)
		}
		oc, err := openingChecklist(x)
		if err != nil {
			return err
		}
		vt, err := volunteerTexting(x)
		if err != nil {
			return err
		}
		notes = append(append(notes, oc...), vt...)
	}
	sk, err := e.openSecret(*key, *pf, "signing key")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(sk)))
	if err != nil {
		return fmt.Errorf("%s is not a scrutineer signing key: %w", *key, err)
	}
	if *date == "" {
		*date = time.Now().UTC().Format("2006-01-02")
	}
	rep := report.New(rf, signer.Name(), report.Options{Scrutineer: *name, Date: *date,
		NotSatisfiedA: notA, NotSatisfiedB: notB, NotSatisfiedC: notC, Notes: notes})
	js, sig, err := report.Sign(rep, signer)
	if err != nil {
		return err
	}
	var md, ht bytes.Buffer
	renderMarkdown(&md, rep)
	if err := reportHTML.Execute(&ht, rep); err != nil {
		return err
	}
	for f, data := range map[string][]byte{"report.json": js, "report.json.sig": sig, "report.md": md.Bytes(), "report.html": ht.Bytes()} {
		if err := writeFile(filepath.Join(*outDir, f), data, false); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "Report signed by %s written to %s/report.{json,json.sig,md,html}.\n", signer.Name(), *outDir)
	for _, s := range rep.Statements {
		fmt.Fprintf(e.stdout, "%s satisfied: %s\n", s.Clause, yesno(s.Satisfied))
	}
	return nil
}

func (e *env) checkResult(args []string) error {
	fs := flag.NewFlagSet("check-result", flag.ContinueOnError)
	key := fs.String("key", "", "the scrutineer's public key (a .pub file or the key itself); with a board URL, default the key bound in the manifest")
	issued := fs.String("issued", "", "with a board URL: authorisations issued per workplace ballot (default: fetched from the service)")
	src := contestFlags(fs)
	entitled := fs.Int("entitled", 0, "with an election report and --contest: members entitled to vote (default: the report's papers distributed)")
	pos, err := e.parse(fs, args, "check-result --key scrutineer.key.pub report.json [report.json.sig]\n       scrutineer check-result --key scrutineer.key.pub election-report.json [--contest contest.json | --export export.jsonl [--question ID]] [--dir DIR]\n       scrutineer check-result [--key scrutineer.key.pub] <board URL>")
	if err != nil {
		return err
	}
	if len(pos) == 1 && isURL(pos[0]) {
		return e.checkPublished(pos[0], *key, *issued)
	}
	if err := need("key", *key); err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return errors.New("give report.json (and its .sig if not next to it), or a board URL")
	}
	vkey := *key
	if b, err := os.ReadFile(*key); err == nil {
		vkey = strings.TrimSpace(string(b))
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("bad public key: %w", err)
	}
	js, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	sigPath := pos[0] + ".sig"
	if len(pos) == 2 {
		sigPath = pos[1]
	}
	sig, err := os.ReadFile(sigPath)
	if err != nil {
		return err
	}
	if report.IsElection(js) {
		// A union election's result and s.52 report (ranked report).
		return e.checkElection(js, sig, vkey, src, *entitled)
	}
	if *src.contest != "" || *src.export != "" {
		return errors.New("--contest and --export recount an election report (ranked report); this is a ballot's report")
	}
	rep, err := report.Open(js, sig, vkey)
	if err != nil {
		return failed("%v", strings.TrimPrefix(err.Error(), "report: "))
	}
	e.printReport(rep)
	return nil
}

func (e *env) printReport(rep *Report) {
	fmt.Fprintf(e.stdout, "GOOD signature by %s on the result and report for %q (manifest %s, dated %s).\n", rep.SignedBy, rep.ElectionID, rep.ManifestHash, rep.Date)
	renderText(e.stdout, rep.Result)
	for _, s := range rep.Statements {
		fmt.Fprintf(e.stdout, "%s satisfied: %s\n", s.Clause, yesno(s.Satisfied))
	}
}

func tri(b *bool) string {
	if b == nil {
		return "not applicable"
	}
	return yesno(*b)
}

func renderMarkdown(w io.Writer, r *Report) {
	p := func(f string, a ...any) { fmt.Fprintf(w, f, a...) }
	p("# %s\n\n", r.Title)
	p("**%s**\n\n", r.Document)
	p("- Election: `%s`\n- Manifest hash: `%s`\n", r.ElectionID, r.ManifestHash)
	if r.Result.ClosedAt != "" {
		p("- Voting closed at: %s (the ledger's signed close)\n", r.Result.ClosedAt)
	}
	p("- Date of the ballot: %s\n- Legal regime: %s\n", r.Result.DateOfBallot, r.Result.Regime.Name)
	if r.Result.MandateExpires != "" {
		p("- The mandate (s.234) ends at the end of: %s\n", r.Result.MandateExpires)
	}
	p("- Scrutineer: %s (signing key `%s`)\n- Date of this report: %s\n\n", r.Scrutineer, r.SignedBy, r.Date)
	p("## Result (s.231)\n\n")
	for _, s := range append(append([]tally.StyleResult{}, r.Result.Styles...), r.Result.Aggregate) {
		p("### %s\n\n", s.Name)
		p("| | |\n| --- | --- |\n| Entitled to vote | %d |\n| Votes cast (including spoilt, s.297A) | %d |\n| Turnout | %s |\n| At least 50%% of those entitled voted | %s |\n\n", s.Entitled, s.VotesCast, s.Turnout, tri(s.TurnoutMet))
		p("| Question | Yes | No | Spoilt | Majority Yes | 40%% of entitled (s.226(2B)) | Supported |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, q := range s.Questions {
			p("| %s | %d | %d | %d | %s | %s | %s |\n", q.Text, q.Yes, q.No, q.Spoilt, yesno(q.Majority), tri(q.SupportMet), yesno(q.Supported))
		}
		p("\n")
	}
	p("## Scrutineer's report (s.231B)\n\n")
	for _, s := range r.Statements {
		p("**%s** — %s\n\nSatisfied: **%s**\n\n", s.Clause, s.Text, yesno(s.Satisfied))
		for _, x := range s.Particulars {
			p("- %s\n", x)
		}
		if len(s.Particulars) > 0 {
			p("\n")
		}
	}
	p("## Verification\n\n%d ballots in the ledger, %d signed checkpoints, Merkle root `%s`; %d failure(s).\n\n", r.Verification.Entries, r.Verification.Checkpoints, r.Verification.Root, len(r.Verification.Failures)+int(r.Verification.More))
	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
	}
}

var reportHTML = template.Must(template.New("report").Funcs(template.FuncMap{"tri": tri, "yesno": yesno, "all": func(r *tally.Result) []tally.StyleResult {
	return append(append([]tally.StyleResult{}, r.Styles...), r.Aggregate)
}}).Parse(`<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{.Title}} — result and scrutineer's report</title>
<style>
body{font-family:Georgia,serif;max-width:48em;margin:2em auto;line-height:1.4;color:#000}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #444;padding:.25em .6em;text-align:left}
code{font-size:.85em;word-break:break-all}.no{font-weight:bold}
@media print{body{margin:0;max-width:none}h2{page-break-before:auto}section{page-break-inside:avoid}}
</style></head><body>
<h1>{{.Title}}</h1><p><strong>{{.Document}}</strong></p>
<ul><li>Election: <code>{{.ElectionID}}</code></li><li>Manifest hash: <code>{{.ManifestHash}}</code></li>
{{if .Result.ClosedAt}}<li>Voting closed at: {{.Result.ClosedAt}} (the ledger's signed close)</li>{{end}}
<li>Date of the ballot: {{.Result.DateOfBallot}}</li><li>Legal regime: {{.Result.Regime.Name}}</li>
{{if .Result.MandateExpires}}<li>The mandate (s.234) ends at the end of: {{.Result.MandateExpires}}</li>{{end}}
<li>Scrutineer: {{.Scrutineer}} (signing key <code>{{.SignedBy}}</code>)</li><li>Date of this report: {{.Date}}</li></ul>
<h2>Result (s.231)</h2>
{{range all .Result}}<section><h3>{{.Name}}</h3>
<table><tr><th>Entitled to vote</th><td>{{.Entitled}}</td></tr><tr><th>Votes cast (including spoilt, s.297A)</th><td>{{.VotesCast}}</td></tr>
<tr><th>Turnout</th><td>{{.Turnout}}</td></tr><tr><th>At least 50% of those entitled voted</th><td>{{tri .TurnoutMet}}</td></tr></table>
<table><tr><th>Question</th><th>Yes</th><th>No</th><th>Spoilt</th><th>Majority Yes</th><th>40% of entitled</th><th>Supported</th></tr>
{{range .Questions}}<tr><td>{{.Text}}</td><td>{{.Yes}}</td><td>{{.No}}</td><td>{{.Spoilt}}</td><td>{{yesno .Majority}}</td><td>{{tri .SupportMet}}</td><td>{{yesno .Supported}}</td></tr>{{end}}
</table></section>{{end}}
<h2>Scrutineer's report (s.231B)</h2>
{{range .Statements}}<section><p><strong>{{.Clause}}</strong> — {{.Text}}</p><p>Satisfied: <strong{{if not .Satisfied}} class="no"{{end}}>{{yesno .Satisfied}}</strong></p>
{{if .Particulars}}<ul>{{range .Particulars}}<li>{{.}}</li>{{end}}</ul>{{end}}</section>{{end}}
<h2>Verification</h2><p>{{.Verification.Entries}} ballots in the ledger, {{.Verification.Checkpoints}} signed checkpoints, Merkle root <code>{{.Verification.Root}}</code>; {{len .Verification.Failures}} failure(s) listed.</p>
{{if .Notes}}<h2>Notes</h2><ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p><small>Signed with the scrutineer's key (report.json.sig). Check with: <code>scrutineer check-result --key scrutineer.key.pub report.json</code></small></p>
</body></html>
`))

// parseResultFile decodes a result file written by tally.
func parseResultFile(b []byte) (*ResultFile, error) { return report.ParseResultFile(b) }

// parseReport decodes a signed report's JSON.
func parseReport(b []byte) (*Report, error) { return report.Parse(b) }
