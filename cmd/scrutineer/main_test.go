package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/crypto/verify/fixture"
)

// sh runs the command in-process and returns exit code, stdout and stderr.
func sh(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, scryptLogN: 10}
	code := e.run(args)
	return code, out.String(), errb.String()
}

// ok runs a command that must succeed.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := sh(t, args...)
	if code != 0 {
		t.Fatalf("scrutineer %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestCLI(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "protocol v7") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--help"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "Usage:") {
		t.Fatalf("help: %d %q", code, out.String())
	}
	if code := run([]string{"nope"}, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("unknown: %d %q", code, errb.String())
	}
	if code, out, _ := sh(t, "verify", "--help"); code != 0 || !strings.Contains(out, "--issued") {
		t.Fatalf("verify --help: %d %q", code, out)
	}
	// Every subcommand's --help: the usage once, on stdout, nothing on stderr.
	for _, c := range [][]string{{"trustee", "init"}, {"ceremony", "plan"}, {"ceremony", "deal"}, {"ceremony", "verify"},
		{"ceremony", "answer"}, {"ceremony", "finalise"}, {"verify"}, {"decrypt"}, {"tally"}, {"keygen"}, {"report"},
		{"check-result"}, {"verify-audit"}, {"fixture"}, {"ranked", "mix"}, {"ranked", "decrypt"}, {"ranked", "count"}, {"ranked", "fixture"}} {
		code, out, errs := sh(t, append(c, "--help")...)
		if code != 0 || strings.Count(out, "Usage:") != 1 || errs != "" {
			t.Errorf("%v --help: code %d, usage printed %d times on stdout, stderr %q", c, code, strings.Count(out, "Usage:"), errs)
		}
	}
	// A bad flag: the flag named and a pointer to --help on stderr, code 2.
	if code, _, errs := sh(t, "verify", "--frobnicate"); code != 2 || !strings.Contains(errs, "frobnicate") || !strings.Contains(errs, "see --help") {
		t.Errorf("verify --frobnicate: code %d, stderr %q", code, errs)
	}
}

// TestIndependence: the scrutineer never depends on the service's internal/
// packages (the tally must be independent of the code it checks).
func TestIndependence(t *testing.T) {
	b, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/unionvote/eballot/"
	n := 0
	for _, d := range strings.Fields(string(b)) {
		if strings.HasPrefix(d, mod+"internal/") {
			t.Errorf("cmd/scrutineer depends on %s", d)
		}
		if strings.HasPrefix(d, mod) {
			n++
			if !strings.HasPrefix(d, mod+"crypto/") && !strings.HasPrefix(d, mod+"cmd/scrutineer") {
				t.Errorf("cmd/scrutineer depends on %s (only crypto/ is allowed)", d)
			}
		}
	}
	if n < 3 {
		t.Fatalf("go list -deps found only %d module packages", n)
	}
}

// TestEndToEnd runs the whole ceremony with 3 trustees (threshold 2) through
// files, including a bad share, its complaint and the dealer's answer; then
// verify, decrypt by two trustees, tally, report and check-result.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	p := func(f string) string { return filepath.Join(dir, f) }
	cdir := p("ceremony")
	for j := 1; j <= 3; j++ {
		os.WriteFile(p(fmt.Sprintf("pass-%d", j)), []byte(fmt.Sprintf("correct horse %d\n", j)), 0o600)
		ok(t, "trustee", "init", "--out", p(fmt.Sprintf("t%d.key", j)), "--passphrase-file", p(fmt.Sprintf("pass-%d", j)))
	}
	ok(t, "ceremony", "plan", "--id", "fixture-ballot", "--threshold", "2", "--out", p("ceremony.json"), p("t1.key.pub"), p("t2.key.pub"), p("t3.key.pub"))
	tr := func(cmd string, j int, extra ...string) []string {
		return append([]string{"ceremony", cmd, "--plan", p("ceremony.json"), "--index", fmt.Sprint(j), "--key", p(fmt.Sprintf("t%d.key", j)),
			"--passphrase-file", p(fmt.Sprintf("pass-%d", j)), "--dir", cdir}, extra...)
	}

	// A wrong passphrase fails clearly.
	code, _, errs := sh(t, "ceremony", "deal", "--plan", p("ceremony.json"), "--index", "1", "--key", p("t1.key"), "--passphrase-file", p("pass-2"), "--dir", cdir)
	if code != 2 || !strings.Contains(errs, "wrong passphrase for trustee key") {
		t.Fatalf("wrong passphrase: %d %q", code, errs)
	}
	// The wrong index for one's key fails clearly.
	code, _, errs = sh(t, "ceremony", "deal", "--plan", p("ceremony.json"), "--index", "2", "--key", p("t1.key"), "--passphrase-file", p("pass-1"), "--dir", cdir)
	if code != 2 || !strings.Contains(errs, "not trustee 2's") {
		t.Fatalf("wrong index: %d %q", code, errs)
	}

	for j := 1; j <= 3; j++ {
		ok(t, tr("deal", j)...)
	}
	// Trustee 2 sends trustee 3 a bad share (from another polynomial).
	_, other, err := threshold.Deal(rand.Reader, "fixture-ballot", 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := loadPlan(p("ceremony.json"))
	r3, _ := age.ParseX25519Recipient(plan.Trustees[2].Recipient)
	b, _ := other[2].MarshalBinary()
	sealed, _ := seal(b, r3)
	os.WriteFile(sharePath(cdir, 2, 3), sealed, 0o644)

	ok(t, tr("verify", 1)...)
	ok(t, tr("verify", 2)...)
	code, out, _ := sh(t, tr("verify", 3)...)
	if code != 1 || !strings.Contains(out, "the share from trustee 2 does not match its commitments") {
		t.Fatalf("bad share not found: %d %s", code, out)
	}
	// Trustee 2 answers with the share it really dealt; everyone finalises.
	out = ok(t, tr("answer", 2)...)
	if !strings.Contains(out, "Answered trustee 3's complaint") {
		t.Fatal(out)
	}
	for j := 1; j <= 3; j++ {
		out = ok(t, tr("finalise", j, "--share-out", p(fmt.Sprintf("share-%d.age", j)))...)
		if !strings.Contains(out, "Qualified dealers: 1, 2, 3") {
			t.Fatalf("finalise %d: %s", j, out)
		}
	}

	// The election (a generated export under the ceremony's key).
	ok(t, "fixture", "--ballots", "60", "--checkpoint-every", "25", "--trustees", p("ceremony/trustees.json"), "--out", p("export.jsonl"))
	out = ok(t, "verify", p("export.jsonl"))
	if !strings.Contains(out, "VERIFIED") {
		t.Fatal(out)
	}
	for _, j := range []int{1, 3} {
		ok(t, "decrypt", "--export", p("export.jsonl"), "--index", fmt.Sprint(j), "--key", p(fmt.Sprintf("t%d.key", j)),
			"--passphrase-file", p(fmt.Sprintf("pass-%d", j)), "--share", p(fmt.Sprintf("share-%d.age", j)), "--out", p(fmt.Sprintf("partial-%d.json", j)))
	}
	out = ok(t, "tally", "--export", p("export.jsonl"), "--out", p("result.json"), p("partial-1.json"), p("partial-3.json"))
	// 60 ballots: i%2 is the workplace, i%7 the answer (0-3 yes, 4-5 no, 6 blank).
	if strings.Count(out, "strike: Yes 18, No 8, spoilt 4") != 2 || !strings.Contains(out, "strike: Yes 36, No 16, spoilt 8") {
		t.Fatalf("tally:\n%s", out)
	}
	// A wrong partial is named.
	pj, _ := os.ReadFile(p("partial-3.json"))
	i := bytes.Index(pj, []byte(`"d":"`)) + 10
	pj[i] ^= 1
	os.WriteFile(p("partial-3-bad.json"), pj, 0o644)
	code, out, _ = sh(t, "tally", "--export", p("export.jsonl"), "--out", p("result-bad.json"), p("partial-1.json"), p("partial-3-bad.json"))
	if code == 0 || !(strings.Contains(out, "trustee 3") || strings.Contains(out, "partial-3-bad.json")) {
		t.Fatalf("bad partial: %d\n%s", code, out)
	}
	// With trustee 2 as well, the result is computed and trustee 3 named.
	ok(t, "decrypt", "--export", p("export.jsonl"), "--index", "2", "--key", p("t2.key"), "--passphrase-file", p("pass-2"), "--share", p("share-2.age"), "--out", p("partial-2.json"))
	code, out, _ = sh(t, "tally", "--export", p("export.jsonl"), "--out", p("result-3.json"), p("partial-1.json"), p("partial-2.json"), p("partial-3-bad.json"))
	if rj, err := os.ReadFile(p("result-3.json")); code != 1 || err != nil || !(strings.Contains(out, "claims trustee 3") || strings.Contains(out, "FAIL partial decryption of trustee 3")) || !strings.Contains(string(rj), `"trustee": 3`) || strings.Count(out, "strike: Yes 18, No 8, spoilt 4") != 2 {
		t.Fatalf("tally with a bad partial: %d %v\n%s", code, err, out)
	}

	os.WriteFile(p("spass"), []byte("scrutineer secret\n"), 0o600)
	ok(t, "keygen", "--name", "scrutineers.example", "--out", p("s.key"), "--passphrase-file", p("spass"))
	out = ok(t, "report", "--result", p("result.json"), "--key", p("s.key"), "--passphrase-file", p("spass"), "--out-dir", p("report"), "--date", "2026-12-16")
	if !strings.Contains(out, "s.231B(1)(a) satisfied: yes") {
		t.Fatal(out)
	}
	for _, f := range []string{"report.json", "report.json.sig", "report.md", "report.html"} {
		if _, err := os.Stat(p("report/" + f)); err != nil {
			t.Fatal(err)
		}
	}
	md, _ := os.ReadFile(p("report/report.md"))
	if !strings.Contains(string(md), "Votes cast (including spoilt, s.297A) | 30 |") {
		t.Fatalf("markdown:\n%s", md)
	}
	out = ok(t, "check-result", "--key", p("s.key.pub"), p("report/report.json"))
	if !strings.Contains(out, "GOOD signature by scrutineers.example") {
		t.Fatal(out)
	}
	// One byte changed in the signed report.
	rj, _ := os.ReadFile(p("report/report.json"))
	os.WriteFile(p("report/report.json"), bytes.Replace(rj, []byte(`"yes": 18`), []byte(`"yes": 19`), 1), 0o644)
	if code, _, errs := sh(t, "check-result", "--key", p("s.key.pub"), p("report/report.json")); code != 1 || !strings.Contains(errs, "signature does not verify") {
		t.Fatalf("tampered report: %d %s", code, errs)
	}
	// A wrong scrutineer passphrase fails clearly.
	if code, _, errs := sh(t, "report", "--result", p("result.json"), "--key", p("s.key"), "--passphrase-file", p("pass-1"), "--out-dir", p("r2")); code != 2 || !strings.Contains(errs, "wrong passphrase for signing key") {
		t.Fatalf("wrong passphrase: %d %s", code, errs)
	}
	reportWithAudit(t, p)
}

// TestVerifyNamesFailures: verify exits 1 and names the entry.
func TestVerifyNamesFailures(t *testing.T) {
	dir := t.TempDir()
	exp := filepath.Join(dir, "e.jsonl")
	os.WriteFile(filepath.Join(dir, "pass"), []byte("pw\n"), 0o600)
	// Without a passphrase (no terminal, no file) fixture fails having
	// written nothing, so the same command with one then works.
	if code, _, errs := sh(t, "fixture", "--ballots", "10", "--out", exp, "--secrets", filepath.Join(dir, "s")); code == 0 ||
		!strings.Contains(errs, "--passphrase-file") {
		t.Fatalf("fixture without a passphrase: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "s", "trustees.json")); !os.IsNotExist(err) {
		t.Fatalf("fixture without a passphrase left trustees.json behind: %v", err)
	}
	ok(t, "fixture", "--ballots", "10", "--out", exp, "--secrets", filepath.Join(dir, "s"), "--passphrase-file", filepath.Join(dir, "pass"))
	b, _ := os.ReadFile(exp)
	// A trustee refuses to decrypt an election that is not closed (the
	// export of an open ledger: header closed false, no close line).
	ls := bytes.SplitAfter(b, []byte("\n"))
	ls[0] = bytes.Replace(ls[0], []byte(`{"closed":true,`), []byte(`{"closed":false,`), 1)
	ls = append(ls[:len(ls)-3], ls[len(ls)-2:]...)
	os.WriteFile(exp+".open", bytes.Join(ls, nil), 0o644)
	code, out, errs := sh(t, "decrypt", "--export", exp+".open", "--index", "1", "--key", filepath.Join(dir, "s/trustee-1.key"),
		"--share", filepath.Join(dir, "s/share-1.age"), "--passphrase-file", filepath.Join(dir, "pass"), "--out", filepath.Join(dir, "p1.json"))
	if code != 1 || !strings.Contains(errs, "not closed") {
		t.Fatalf("decrypt of an open election: %d %s %s", code, out, errs)
	}
	// From the board, by URL.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ledger/v1/fixture-ballot/export" {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	if out := ok(t, "verify", srv.URL+"/ledger/v1/fixture-ballot"); !strings.Contains(out, "VERIFIED") {
		t.Fatal(out)
	}
	if out := ok(t, "verify", exp+".open"); !strings.Contains(out, "NOT CHECKED [limit.open]") {
		t.Fatal(out)
	}
	b = bytes.Replace(b, []byte(`"index":4,"style":0,`), []byte(`"index":4,"style":1,`), 1)
	os.WriteFile(exp+".bad", b, 0o644)
	code, out, errs = sh(t, "verify", exp+".bad")
	if code != 1 || !strings.Contains(out, "FAIL [entry.style] entry 4 (tracker ") || !strings.Contains(errs, "failure(s)") {
		t.Fatalf("%d\n%s\n%s", code, out, errs)
	}
}

// TestVerifyTruncated: an export cut back to an earlier tree whose close
// the ledger key signed. Given only the file, verify passes but says it
// cannot prove completeness; given the final checkpoint (by hand, or from
// the scrutineer's signed report) it fails naming the difference.
func TestVerifyTruncated(t *testing.T) {
	dir := t.TempDir()
	p := func(f string) string { return filepath.Join(dir, f) }
	skey, vkey, err := note.GenerateKey(rand.Reader, "scrutineer.test")
	if err != nil {
		t.Fatal(err)
	}
	el, err := fixture.New(fixture.Options{ScrutineerKey: vkey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entries []fixture.Made
	for i := range 12 {
		s, e, err := el.Entry(i)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, fixture.Made{Style: s, Entry: e})
	}
	full, _ := el.Export(entries, fixture.WriteOptions{CheckpointEvery: 3})
	cut, _ := el.Export(entries[:6], fixture.WriteOptions{CheckpointEvery: 3})
	os.WriteFile(p("full.jsonl"), full, 0o644)
	os.WriteFile(p("cut.jsonl"), cut, 0o644)
	res, err := verify.Verify(context.Background(), bytes.NewReader(full), verify.Options{})
	if err != nil || !res.OK() {
		t.Fatal(err, res.Failures)
	}
	final := fmt.Sprintf("%d:%x", res.Close.Size, res.Close.Root)
	os.WriteFile(p("final.txt"), res.Close.Note, 0o644)
	// The scrutineer's signed report of the full ledger (its counts are not
	// used here: only its manifest hash and final checkpoint).
	sg, _ := note.NewSigner(skey)
	rf := &report.ResultFile{Version: report.Version, Result: &tally.Result{ElectionID: "fixture-ballot", ManifestHash: fmt.Sprintf("%x", res.Header.ManifestHash)}, Verification: report.Summary(res), Rejected: []report.RejectedTrust{}}
	js, sig, err := report.Sign(report.New(rf, sg.Name(), report.Options{Date: "2026-12-16"}), sg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p("report.json"), js, 0o644)
	os.WriteFile(p("report.json.sig"), sig, 0o644)

	out := ok(t, "verify", p("cut.jsonl"))
	if !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "NOT CHECKED [limit.final]") || !strings.Contains(out, "cannot prove that it is complete") ||
		!strings.Contains(out, "NOT CHECKED [limit.manifest_hash]") {
		t.Fatalf("the file alone:\n%s", out)
	}
	for _, flags := range [][]string{{"--final-checkpoint", final}, {"--final-checkpoint", p("final.txt")}, {"--report", p("report.json")}, {"--report", p("report.json"), "--key", vkey}} {
		code, out, errs := sh(t, append(append([]string{"verify"}, flags...), p("cut.jsonl"))...)
		if code != 1 || !strings.Contains(out, "FAIL [final.expected]") || !strings.Contains(out, "ends with 6 entries") || !strings.Contains(out, "has 12 entries") {
			t.Fatalf("%v: %d\n%s\n%s", flags, code, out, errs)
		}
		out = ok(t, append(append([]string{"verify"}, flags...), p("full.jsonl"))...)
		if strings.Contains(out, "limit.final") {
			t.Fatalf("%v on the full export:\n%s", flags, out)
		}
		if len(flags) == 4 && strings.Contains(out, "limit.manifest_hash") {
			t.Fatalf("with the scrutineer's key from outside, the manifest hash is checked:\n%s", out)
		}
	}
	// Another manifest hash than the one expected.
	code, out, _ := sh(t, "verify", "--manifest-hash", strings.Repeat("ab", 32), p("full.jsonl"))
	if code != 1 || !strings.Contains(out, "FAIL [manifest.expected]") {
		t.Fatalf("%d\n%s", code, out)
	}
	// A report whose signature does not verify gives no expectations.
	os.WriteFile(p("report.json"), bytes.Replace(js, []byte(`"date": "2026-12-16"`), []byte(`"date": "2026-12-17"`), 1), 0o644)
	if code, out, _ := sh(t, "verify", "--report", p("report.json"), p("full.jsonl")); code != 1 || !strings.Contains(out, "FAIL [result.signature]") {
		t.Fatalf("%d\n%s", code, out)
	}
}

// TestCountFromState: the count run from verified state files (verify
// --state, then decrypt --state and tally --state, which do not verify the
// ballots again and say so) gives the same result file as the count that
// re-verifies every ballot at each step; a changed state file, or a state of
// another export, is refused by name.
func TestCountFromState(t *testing.T) {
	dir := t.TempDir()
	p := func(f string) string { return filepath.Join(dir, f) }
	os.WriteFile(p("pass"), []byte("pw\n"), 0o600)
	ok(t, "fixture", "--ballots", "30", "--checkpoint-every", "7", "--out", p("e.jsonl"), "--secrets", p("s"), "--passphrase-file", p("pass"))
	dec := func(j int, out string, extra ...string) string {
		return ok(t, append([]string{"decrypt", "--export", p("e.jsonl"), "--index", fmt.Sprint(j), "--key", p(fmt.Sprintf("s/trustee-%d.key", j)),
			"--share", p(fmt.Sprintf("s/share-%d.age", j)), "--passphrase-file", p("pass"), "--out", p(out)}, extra...)...)
	}
	// Re-verifying at each step.
	for _, j := range []int{1, 3} {
		if out := dec(j, fmt.Sprintf("pa-%d.json", j)); !strings.Contains(out, "Export verified (30 ballots)") {
			t.Fatal(out)
		}
	}
	ok(t, "tally", "--export", p("e.jsonl"), "--out", p("result-a.json"), p("pa-1.json"), p("pa-3.json"))

	// From the state file.
	out := ok(t, "verify", "--state", p("state.json"), p("e.jsonl"))
	if !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "Verified state written to "+p("state.json")) {
		t.Fatal(out)
	}
	for _, j := range []int{1, 3} {
		out := dec(j, fmt.Sprintf("pb-%d.json", j), "--state", p("state.json"))
		if !strings.Contains(out, "Relying on the verified state file") || !strings.Contains(out, "ballots not verified again (30 ballots)") || strings.Contains(out, "Export verified") {
			t.Fatal(out)
		}
	}
	out = ok(t, "tally", "--export", p("e.jsonl"), "--state", p("state.json"), "--out", p("result-b.json"), p("pb-1.json"), p("pb-3.json"))
	if !strings.Contains(out, "Relying on the verified state file") || !strings.Contains(out, "strike: Yes") {
		t.Fatal(out)
	}
	a, _ := os.ReadFile(p("result-a.json"))
	b, _ := os.ReadFile(p("result-b.json"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("the count from the state differs from the re-verified count:\n%s\n%s", a, b)
	}
	// The partials made from the state verify in a re-verifying tally.
	ok(t, "tally", "--export", p("e.jsonl"), "--out", p("result-c.json"), p("pb-1.json"), p("pb-3.json"))

	// A changed state file.
	st, _ := os.ReadFile(p("state.json"))
	os.WriteFile(p("state-bad.json"), bytes.Replace(st, []byte(`"entries": 30`), []byte(`"entries": 31`), 1), 0o644)
	code, _, errs := sh(t, "tally", "--export", p("e.jsonl"), "--state", p("state-bad.json"), "--out", p("result-d.json"), p("pb-1.json"), p("pb-3.json"))
	if code != 1 || !strings.Contains(errs, "state.digest") {
		t.Fatalf("changed state: %d %s", code, errs)
	}
	// Another export (one byte of the file changed).
	e, _ := os.ReadFile(p("e.jsonl"))
	os.WriteFile(p("e2.jsonl"), append(e, '\n'), 0o644)
	code, _, errs = sh(t, "decrypt", "--export", p("e2.jsonl"), "--state", p("state.json"), "--index", "1", "--key", p("s/trustee-1.key"),
		"--share", p("s/share-1.age"), "--passphrase-file", p("pass"), "--out", p("pc-1.json"))
	if code != 1 || !strings.Contains(errs, "state.export") {
		t.Fatalf("state of another export: %d %s", code, errs)
	}
	// Other authorisation counts than the state was verified with.
	code, _, errs = sh(t, "tally", "--export", p("e.jsonl"), "--state", p("state.json"), "--issued", "20,20", "--out", p("result-e.json"), p("pb-1.json"), p("pb-3.json"))
	if code != 1 || !strings.Contains(errs, "verify again with --issued") {
		t.Fatalf("other issued: %d %s", code, errs)
	}
	// An export that fails verification leaves no state file.
	os.WriteFile(p("e3.jsonl"), bytes.Replace(e, []byte(`"index":4,"style":0,`), []byte(`"index":4,"style":1,`), 1), 0o644)
	if code, _, _ := sh(t, "verify", "--state", p("state3.json"), p("e3.jsonl")); code != 1 {
		t.Fatalf("bad export verified: %d", code)
	}
	if _, err := os.Stat(p("state3.json")); !os.IsNotExist(err) {
		t.Fatalf("a failed verification wrote a state file: %v", err)
	}
}

// auditExportFile writes an audit log export (docs/audit-export.md) of
// ballot 7 with these actions and details, chained and hashed as the
// service does, with one redacted entry of another ballot first.
func auditExportFile(t *testing.T, path string, entries [][2]string) {
	t.Helper()
	var b strings.Builder
	prev := make([]byte, 32)
	ballot := int64(7)
	for i := 0; i <= len(entries); i++ {
		l := auditLine{Seq: int64(i + 1), PrevHash: fmt.Sprintf("%x", prev)}
		if i == 0 { // another ballot's entry: sequence number and hashes only
			h := sha256.Sum256([]byte("another ballot"))
			l.Hash, l.Redacted = fmt.Sprintf("%x", h), true
			prev = h[:]
		} else {
			d := entries[i-1][1]
			l.At = fmt.Sprintf("2026-12-0%dT10:00:00.5Z", i)
			l.Actor, l.Action, l.BallotID, l.Detail = "scrutineer:2", entries[i-1][0], &ballot, &d
			if strings.HasPrefix(l.Action, "ballot.") && l.Action != "ballot.s229_4_confirm" && l.Action != "ballot.paper_approve" {
				l.Actor = "organiser:1"
			}
			prev = auditHash(prev, &l)
			l.Hash = fmt.Sprintf("%x", prev)
		}
		js, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(js)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reportWithAudit: `report --audit` states, in the signed report, the
// scrutineer's approval to use turnout data for volunteer texting (when,
// by which account, the policy wording) from the ballot's checked audit
// export — or that none was given and volunteers texted only members who
// had not told the union they voted; an export of another ballot, or one
// changed, is refused and nothing is written.
func reportWithAudit(t *testing.T, p func(string) string) {
	t.Helper()
	rj, err := os.ReadFile(p("result.json"))
	if err != nil {
		t.Fatal(err)
	}
	rf, err := parseResultFile(rj)
	if err != nil {
		t.Fatal(err)
	}
	opened := fmt.Sprintf(`{"manifest_hash":%q,"regime":"era25","register_hash":"00"}`, rf.Result.ManifestHash)
	policy := "Trained volunteers may text members who have not yet voted.\nNo one is told how anyone voted."
	pj, _ := json.Marshal(policy)
	paperHash := strings.Repeat("ab", 32)
	auditExportFile(t, p("audit.jsonl"), [][2]string{
		{"ballot.create", `{"election_id":"fixture-ballot"}`},
		{"ballot.s229_4_confirm", `{"regime":"evote","text":"If you take part in a strike…","text_cy":"Os…","verified":false,"wording_hash":"00"}`},
		{"ballot.paper_approve", `{"paper_hash":"` + paperHash + `","regime":"evote"}`},
		{"ballot.open", opened[:len(opened)-1] + `,"paper_hash":"` + paperHash + `","paper_approved_by":"scrutineer:2"}`},
		{"outreach.approval", `{"approved":true,"policy_text":` + string(pj) + `}`},
		{"outreach.campaign", `{"campaign":4,"source":"turnout"}`},
		{"outreach.campaign", `{"campaign":5,"source":"self_reported"}`},
		{"outreach.send", `{"campaign":4,"volunteer":9,"conversation":12}`},
	})
	report := func(dir, audit string) (int, string, string) {
		return sh(t, "report", "--result", p("result.json"), "--key", p("s.key"), "--passphrase-file", p("spass"), "--out-dir", p(dir),
			"--date", "2026-12-16", "--audit", audit)
	}
	if code, out, errs := report("ra", p("audit.jsonl")); code != 0 {
		t.Fatalf("report --audit: %d\n%s\n%s", code, out, errs)
	}
	md, _ := os.ReadFile(p("ra/report.md"))
	for _, want := range []string{
		`- Volunteer texting: on 2026-12-05 10:00:00 UTC the scrutineer's account scrutineer:2 approved that the union may use turnout data ` +
			`(members not yet in the marked register) for volunteer texting, under the union's published policy: ` +
			`"Trained volunteers may text members who have not yet voted. No one is told how anyone voted." (audit entry 6).`,
		"- Volunteer texting: campaign 4 texted members not yet in the marked register, under the approval.",
		"- Volunteer texting: campaign 5 texted only members who had not told the union they voted (no turnout data).",
		"- Volunteer texting: from the ballot's audit log export, checked: 9 entries chained, head ",
		`- Opening checklist: on 2026-12-02 10:00:00 UTC the scrutineer's account scrutineer:2 confirmed that the s.229(4) statement of legal regime evote is the wording in force: "If you take part in a strike…" (audit entry 3).`,
		"- Opening checklist: on 2026-12-03 10:00:00 UTC the scrutineer's account scrutineer:2 approved the voting paper, hash " + paperHash + " (audit entry 4).",
		"- Opening checklist: the ballot opened (ballot.open, 2026-12-04 10:00:00 UTC) with the voting paper approved by scrutineer:2, hash " + paperHash + " (audit entry 5).",
	} {
		if !strings.Contains(string(md), want) {
			t.Fatalf("report.md lacks %q:\n%s", want, md)
		}
	}
	// The notes are signed: the report checks, and they are in its JSON.
	ok(t, "check-result", "--key", p("s.key.pub"), p("ra/report.json"))
	signed, _ := os.ReadFile(p("ra/report.json"))
	rep, err := parseReport(signed)
	if err != nil || !strings.Contains(strings.Join(rep.Notes, "\n"), "No one is told how anyone voted") {
		t.Fatalf("signed notes %v (%v)", rep.Notes, err)
	}
	if ht, _ := os.ReadFile(p("ra/report.html")); !strings.Contains(string(ht), "approved that the union may use turnout data") {
		t.Fatalf("report.html:\n%s", ht)
	}
	// verify-audit prints the same statements.
	if out := ok(t, "verify-audit", p("audit.jsonl")); !strings.Contains(out, "audit log OK: 9 entries") || !strings.Contains(out, "approved the voting paper, hash "+paperHash) ||
		!strings.Contains(out, "scrutineer:2 approved that the union may use turnout data") {
		t.Fatalf("verify-audit:\n%s", out)
	}

	// No approval: volunteers texted only members who had not told the
	// union they voted; the withdrawal of an approval is stated too.
	auditExportFile(t, p("audit-none.jsonl"), [][2]string{
		{"ballot.schedule", opened},
		{"outreach.campaign", `{"campaign":5,"source":"self_reported"}`},
	})
	if code, out, errs := report("rn", p("audit-none.jsonl")); code != 0 {
		t.Fatalf("report --audit (no approval): %d\n%s\n%s", code, out, errs)
	}
	if md, _ := os.ReadFile(p("rn/report.md")); !strings.Contains(string(md), "- Volunteer texting: no approval to use turnout data was given: "+
		"volunteers texted only members who had not told the union they voted (campaign 5).") {
		t.Fatalf("report.md without an approval:\n%s", md)
	}
	auditExportFile(t, p("audit-withdrawn.jsonl"), [][2]string{
		{"ballot.open", opened},
		{"outreach.approval", `{"approved":true,"policy_text":"Volunteers may text members not yet marked."}`},
		{"outreach.approval", `{"approved":false,"policy_text":""}`},
	})
	if out := ok(t, "verify-audit", p("audit-withdrawn.jsonl")); !strings.Contains(out, "on 2026-12-03 10:00:00 UTC the scrutineer's account scrutineer:2 withdrew the approval") ||
		!strings.Contains(out, "no volunteer texting campaign was run") {
		t.Fatalf("verify-audit (withdrawn):\n%s", out)
	}

	// Refused, nothing written: another ballot's export; a changed entry;
	// a turnout campaign the log shows no approval for.
	auditExportFile(t, p("audit-other.jsonl"), [][2]string{{"ballot.open", `{"manifest_hash":"00ff"}`}})
	if code, _, errs := report("rx", p("audit-other.jsonl")); code != 1 || !strings.Contains(errs, "is not the audit log of this ballot") {
		t.Fatalf("another ballot's audit log: %d %s", code, errs)
	}
	changed, _ := os.ReadFile(p("audit.jsonl"))
	os.WriteFile(p("audit-changed.jsonl"), bytes.Replace(changed, []byte(`\"source\":\"self_reported\"`), []byte(`\"source\":\"turnout\"`), 1), 0o600)
	if code, _, errs := report("rx", p("audit-changed.jsonl")); code != 1 || !strings.Contains(errs, "entry 8 (outreach.campaign by scrutineer:2) was changed") {
		t.Fatalf("changed audit log: %d %s", code, errs)
	}
	auditExportFile(t, p("audit-unapproved.jsonl"), [][2]string{
		{"ballot.open", opened},
		{"outreach.campaign", `{"campaign":4,"source":"turnout"}`},
	})
	if code, _, errs := report("rx", p("audit-unapproved.jsonl")); code != 1 || !strings.Contains(errs, "campaign(s) 4 using turnout data without an approval") {
		t.Fatalf("turnout campaign without approval: %d %s", code, errs)
	}
	if _, err := os.Stat(p("rx")); !os.IsNotExist(err) {
		t.Fatalf("a refused report wrote files: %v", err)
	}
}
