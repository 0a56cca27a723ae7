package result_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// TestEarlyCloseCarriesTheActualTime: the scrutineer closes the ballot
// early through the service (runElection: Admin.Close with a reason, a
// week before the notified close). The ledger signs the close with the
// actual time; the independent scrutineer tool counts it, and its result,
// its signed report and the s.234 mandate all run from the actual close,
// not the notified one. The published report is checked against the ledger
// by the tool; a close time changed in the export, and a report giving the
// notified close instead, are refused and named.
func TestEarlyCloseCarriesTheActualTime(t *testing.T) {
	ctx := context.Background()
	c := runElection(t, "early-ballot", 6, 5)
	var closedAt, notified time.Time
	if err := c.b.Pool.QueryRow(ctx, `SELECT closed_at, closes_at FROM ballots WHERE id = $1`, c.b.ID).Scan(&closedAt, &notified); err != nil {
		t.Fatal(err)
	}
	// The ledger states the close to the second, rounded up (no cast it
	// accepted is after it).
	want := closedAt.Truncate(time.Second)
	if !want.Equal(closedAt) {
		want = want.Add(time.Second)
	}
	wantAt := want.UTC().Format(time.RFC3339)
	london, _ := time.LoadLocation("Europe/London")
	day := want.In(london)
	// s.246: the date of the ballot is the last day votes could be cast.
	wantDate := day.Format("2006-01-02")
	if wantDate == notified.In(london).Format("2006-01-02") {
		t.Fatalf("the test needs an early close on another day than the notified %v", notified)
	}
	// s.234 as amended by the Employment Rights Act 2025: the mandate is
	// for "the period of 12 months beginning with the date of the ballot":
	// its last day is the day before the same date 12 months on.
	wantMandate := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC).AddDate(1, 0, -1).Format("2006-01-02")

	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	bin := p("scrutineer")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/scrutineer").CombinedOutput(); err != nil {
		t.Fatalf("build scrutineer: %v\n%s", err, out)
	}
	run := func(args ...string) (string, error) {
		out, err := exec.Command(bin, args...).CombinedOutput()
		return string(out), err
	}
	var exp strings.Builder
	if err := c.led.Export(ctx, &exp, "early-ballot", -1, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(exp.String(), `closed `+wantAt+`\n`) {
		t.Fatalf("the export's close does not state %s:\n%s", wantAt, exp.String())
	}
	os.WriteFile(p("export.jsonl"), []byte(exp.String()), 0o600)
	partials := []string{p("partial-1.json"), p("partial-3.json")}
	for i, f := range partials {
		os.WriteFile(f, c.partials[i], 0o600)
	}

	// The count, by the independent tool.
	out, err := run(append([]string{"tally", "--export", p("export.jsonl"), "--issued", "3,2", "--out", p("result.json")}, partials...)...)
	if err != nil || !strings.Contains(out, "Voting closed at "+wantAt) || !strings.Contains(out, "the mandate (s.234) ends at the end of "+wantMandate) {
		t.Fatalf("scrutineer tally: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(p("result.json"))
	rf, err := report.ParseResultFile(b)
	if err != nil {
		t.Fatal(err)
	}
	r := rf.Result
	if rf.Version != 3 || r.ClosedAt != wantAt || r.DateOfBallot != wantDate || r.MandateExpires != wantMandate || r.Regime.MandateMonths != 12 {
		t.Fatalf("result: version %d, closed_at %q, date of the ballot %q, mandate to %q (%d months); want %s, %s, %s (12 months)",
			rf.Version, r.ClosedAt, r.DateOfBallot, r.MandateExpires, r.Regime.MandateMonths, wantAt, wantDate, wantMandate)
	}

	// The signed report, by the tool.
	os.WriteFile(p("pass"), []byte("scrutineer secret\n"), 0o600)
	if out, err := run("keygen", "--name", "scrutineers.example", "--out", p("s.key"), "--passphrase-file", p("pass")); err != nil {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	if out, err := run("report", "--result", p("result.json"), "--key", p("s.key"), "--passphrase-file", p("pass"), "--out-dir", p("rep"), "--date", wantDate); err != nil {
		t.Fatalf("scrutineer report: %v\n%s", err, out)
	}
	js, _ := os.ReadFile(p("rep/report.json"))
	var rep struct {
		Version int           `json:"version"`
		Result  *tally.Result `json:"result"`
	}
	if err := json.Unmarshal(js, &rep); err != nil || rep.Result.ClosedAt != wantAt || rep.Result.DateOfBallot != wantDate || rep.Result.MandateExpires != wantMandate {
		t.Fatalf("signed report: %v %+v", err, rep.Result)
	}
	for _, f := range []string{"report.md", "report.html"} {
		b, _ := os.ReadFile(p("rep/" + f))
		if !strings.Contains(string(b), "Voting closed at: "+wantAt) || !strings.Contains(string(b), "ends at the end of: "+wantMandate) {
			t.Fatalf("%s does not give the actual close and the mandate:\n%s", f, b)
		}
	}

	// Published (signed with the key bound in the manifest), the result is
	// checked against the ledger by the tool.
	srv := resultServer(t, c)
	scr := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	id := strconv.FormatInt(c.b.ID, 10)
	scr.Get("/scrutineer/ballots/" + id + "/result")
	// A report giving the notified close (and the date and mandate that
	// follow from it) is refused, naming the close time.
	notifiedAt := notified.UTC().Truncate(time.Second).Format(time.RFC3339)
	nd := notified.In(london)
	badJS, badSig := c.sign(func(r *report.Report) {
		r.Result.ClosedAt = notifiedAt
		r.Result.DateOfBallot = nd.Format("2006-01-02")
		r.Result.MandateExpires = time.Date(nd.Year(), nd.Month(), nd.Day(), 0, 0, 0, 0, time.UTC).AddDate(1, 0, -1).Format("2006-01-02")
	})
	status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", map[string][][]byte{"report": {badJS}, "signature": {badSig}, "partials": c.partials})
	if wantMsg := fmt.Sprintf("closed_at: the report says &#34;%s&#34;, the ledger and the manifest give &#34;%s&#34;", notifiedAt, wantAt); status != 422 || !strings.Contains(body, wantMsg) {
		t.Fatalf("a report with the notified close: %d, want 422 naming %q\n%s", status, wantMsg, problems(body))
	}
	if status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", map[string][][]byte{"report": {c.js}, "signature": {c.sig}, "partials": c.partials}); status != 200 {
		t.Fatalf("publish: %d\n%s", status, problems(body))
	}
	// The public result page gives the actual close, the date of the
	// ballot and the mandate that follow from it, in English and Welsh.
	pub := webtest.NewClient(t, srv.URL, "", 0)
	for _, lang := range []string{"en", "cy"} {
		label := map[string]string{"en": "Voting closed", "cy": "Daeth y pleidleisio i ben"}[lang]
		status, body := pub.Get("/results/early-ballot?lang=" + lang)
		for _, w := range []string{label, `<dd class="closed-at">` + page.When(lang, want) + `</dd>`, "<dd>" + wantDate + "</dd>", "<dd>" + wantMandate + "</dd>"} {
			if status != 200 || !strings.Contains(body, w) {
				t.Fatalf("public result page (%s): %d, no %q", lang, status, w)
			}
		}
	}
	out, err = run("check-result", srv.URL+"/ledger/v1/early-ballot")
	if err != nil || !strings.Contains(out, "MATCHES") || !strings.Contains(out, "Voting closed at "+wantAt) {
		t.Fatalf("scrutineer check-result: %v\n%s", err, out)
	}

	// The close time changed in the export: the ledger's signature on the
	// close no longer verifies, and the tool names it.
	tampered := strings.Replace(exp.String(), `closed `+wantAt, `closed `+notifiedAt, 1)
	os.WriteFile(p("tampered.jsonl"), []byte(tampered), 0o600)
	out, err = run("verify", "--issued", "3,2", p("tampered.jsonl"))
	if err == nil || !strings.Contains(out, "checkpoint.signature") || !strings.Contains(out, "close") {
		t.Fatalf("verify of an export with its close time changed: %v\n%s", err, out)
	}
}
