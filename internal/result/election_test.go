package result_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/ledger/ledgertest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/result/resulttest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// unionCounted is a union election (electiontest.UnionElection: a ranked
// contest c1 of 4 candidates for 2 seats, the independent person trustee
// 2, required for the count) closed, with the scrutineer's key bound in
// its manifest, and a way to sign an election report of its contest.
type unionCounted struct {
	*resulttest.Contest
	b      *electiontest.Ballot
	signer note.Signer
	vkey   string
	srv    *httptest.Server
}

func newUnionCounted(t *testing.T, id string) *unionCounted {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	led := ledgertest.New(t, pool, electiontest.SecretKey)
	skey, vkey, err := note.GenerateKey(rand.Reader, "scrutineers.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: id, Members: 10, Ledger: ledger.HandOver{L: led}, Ready: true, ScrutineerKey: vkey, Welsh: true})
	electiontest.UnionElection(t, b)
	if err := b.Admin.Close(ctx, "scrutineer:test", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	mj, _, err := led.Manifest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c := &unionCounted{Contest: resulttest.NewContest(t, mj), b: b, signer: signer, vkey: vkey}
	if len(c.EC.Persons) != 1 || c.EC.Persons[0].Trustee != 2 {
		t.Fatalf("the fixture's manifest names the independent persons %+v, want one, trustee 2", c.EC.Persons)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := election.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	if err := result.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	result.NewPages(result.New(pool, b.Store, ledger.HandOver{L: led}, nil), b.Admin, b.Store, b.Register, pages, webtest.Staff, "http://localhost").Routes(r)
	c.srv = httptest.NewServer(r)
	t.Cleanup(c.srv.Close)
	return c
}

// uploadElection posts a contest's two files as the result page's form does.
func uploadElection(cl *webtest.Client, path string, js, sig []byte) (int, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("election_report", "election-report.json")
	w.Write(js)
	w, _ = mw.CreateFormFile("election_signature", "election-report.json.sig")
	w.Write(sig)
	mw.Close()
	return cl.Do("POST", path, mw.FormDataContentType(), &body)
}

// The scrutineer publishes a union election contest's signed s.52 report:
// a wrong signature, another ballot's report, a malformed one and one
// whose count did not use the independent person's share are refused with
// their reason in English and Welsh; the good one is published once, with
// its audit entry; members read the result in both languages, elected
// candidates first, and anyone downloads the signed bytes and checks them
// with `scrutineer check-result`.
func TestPublishElectionReport(t *testing.T) {
	const e = "exec-2027"
	c := newUnionCounted(t, e)
	scr := webtest.NewClient(t, c.srv.URL, "scrutineer", 0)
	pub := webtest.NewClient(t, c.srv.URL, "", 0)
	id := strconv.FormatInt(c.b.ID, 10)
	post := "/scrutineer/ballots/" + id + "/result/election"
	q := c.EC.Question

	if status, _ := pub.Get("/results/" + e + "/election/" + q); status != 404 {
		t.Fatalf("election result page before publication: %d", status)
	}
	status, body := scr.Get("/scrutineer/ballots/" + id + "/result")
	if status != 200 || !strings.Contains(body, `action="/scrutineer/ballots/`+id+`/result/election"`) || !strings.Contains(body, `id="contest-`+q+`"`) {
		t.Fatalf("scrutineer result page has no upload form for contest %s: %d\n%s", q, status, body)
	}

	good, goodSig := c.Sign(t, c.signer, func(*report.ElectionContest, *report.ElectionCount) {})
	oskey, _, _ := note.GenerateKey(rand.Reader, "someone.else")
	other, _ := note.NewSigner(oskey)
	_, otherSig := c.Sign(t, other, func(*report.ElectionContest, *report.ElectionCount) {})
	otherBallot, otherBallotSig := c.Sign(t, c.signer, func(ec *report.ElectionContest, _ *report.ElectionCount) {
		ec.ManifestHash = strings.Repeat("0", 64)
	})
	// Signed, but not a consistent election report: a turnout the counts do not give.
	bad := bytes.Replace(good, []byte(`"turnout": "70.00%"`), []byte(`"turnout": "71.00%"`), 1)
	if bytes.Equal(bad, good) {
		t.Fatalf("no turnout to change in\n%s", good)
	}
	n, err := note.Sign(&note.Note{Text: string(bad)}, c.signer)
	if err != nil {
		t.Fatal(err)
	}
	badSig := n[len(bad):]
	// A count made without trustee 2's decryption (and so naming no independent person).
	noShare, noShareSig := c.Sign(t, c.signer, func(ec *report.ElectionContest, count *report.ElectionCount) {
		ec.Persons, count.DecryptedBy = nil, []int{1, 3}
	})

	// The ballot's own report (report.json) uploaded by mistake.
	ballotReport, err := os.ReadFile("../../crypto/report/testdata/report_v3.json")
	if err != nil {
		t.Fatal(err)
	}
	ballotReportSig, err := os.ReadFile("../../crypto/report/testdata/report_v3.json.sig")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		js, sig []byte
		en, cy  string
	}{
		{"wrong signature", good, otherSig, "does not verify under the scrutineer key bound to this ballot", ""},
		{"another ballot's report", otherBallot, otherBallotSig, "this election report is of another ballot",
			"mae&#39;r adroddiad etholiad hwn ar gyfer pleidlais arall"},
		{"malformed", bad, badSig, "the file is not a valid election report",
			"nid yw&#39;r ffeil yn adroddiad etholiad dilys"},
		{"without the independent person's share", noShare, noShareSig, "the count must use the decryption of trustee 2, the independent person",
			"rhaid i&#39;r cyfrif ddefnyddio dadgryptiad ymddiriedolwr 2, y person annibynnol"},
		{"no signature", good, nil, "choose election-report.json.sig to upload", ""},
		{"the ballot's report", ballotReport, ballotReportSig, "this is the ballot&#39;s report (report.json, from scrutineer report), not an election report",
			"adroddiad y bleidlais yw hwn (report.json, o scrutineer report), nid adroddiad etholiad"},
	} {
		status, body := uploadElection(scr, post, tc.js, tc.sig)
		if status != 422 || !strings.Contains(body, "The result was not published") || !strings.Contains(body, tc.en) {
			t.Errorf("%s: %d, want 422 with %q; problems: %s", tc.name, status, tc.en, problems(body))
		}
		if tc.cy == "" {
			continue
		}
		status, body = uploadElection(scr, post+"?lang=cy", tc.js, tc.sig)
		if status != 422 || !strings.Contains(body, tc.cy) {
			t.Errorf("%s in Welsh: %d, want 422 with %q; problems: %s", tc.name, status, tc.cy, problems(body))
		}
		scr.Get("/scrutineer/ballots/" + id + "/result?lang=en") // back to English (the language is kept in a cookie)
	}
	if status, _ := pub.Get("/results/" + e + "/election/" + q); status != 404 {
		t.Fatalf("a refused report was published: %d", status)
	}

	// The good report: published, once, with its audit entry.
	if status, body := uploadElection(scr, post+"?lang=en", good, goodSig); status != 200 || !strings.Contains(body, "The election result and report are published") {
		t.Fatalf("publish: %d; problems: %s", status, problems(body))
	}
	if status, body := uploadElection(scr, post, good, goodSig); status != 422 || !strings.Contains(body, "the result of contest "+q+" is already published") {
		t.Fatalf("second publication: %d; problems: %s", status, problems(body))
	}
	var audits int
	if err := c.b.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE ballot_id = $1 AND action = 'ballot.election_report_publish'
		AND detail::jsonb->>'question' = $2 AND detail::jsonb->>'signed_by' = 'scrutineers.example'`, c.b.ID, q).Scan(&audits); err != nil || audits != 1 {
		t.Fatalf("audit entries of the publication: %d, %v", audits, err)
	}

	// The members' page, in English then Welsh: the elected first, then the stage table.
	rep, err := report.ParseElection(good)
	if err != nil {
		t.Fatal(err)
	}
	var elected []string
	for _, i := range rep.Count.Elected {
		elected = append(elected, rep.Count.Candidates[i])
	}
	if len(elected) != 2 {
		t.Fatalf("the count elected %v", elected)
	}
	for _, lang := range []struct{ code, title, electedH, stages, spoilt, ballot string }{
		{"en", "Election result: National Executive</h1>", "Elected", "Votes for each candidate at each stage", "Spoilt or not valid", "Executive election 2027"},
		{"cy", "Canlyniad yr etholiad: Pwyllgor Gwaith Cenedlaethol</h1>", "Etholwyd", "Pleidleisiau pob ymgeisydd ym mhob cam", "Wedi&#39;u difetha neu&#39;n annilys", "Etholiad y weithrediaeth 2027"},
	} {
		status, body := pub.Get("/results/" + e + "/election/" + q + "?lang=" + lang.code)
		if status != 200 {
			t.Fatalf("%s member page: %d", lang.code, status)
		}
		for _, want := range []string{lang.title, lang.electedH, lang.stages, lang.spoilt, `<dd class="turnout">70.00%</dd>`, `<dd class="spoilt">1</dd>`,
			`<dd class="returned">7</dd>`, `<dd class="distributed">10</dd>`, `<th scope="col">`, `<th scope="row">` + rep.Count.Candidates[0] + `</th>`,
			`<details`, "election-report.json.sig", `<a href="/results/` + e + `">` + lang.ballot + `</a>`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s member page lacks %q", lang.code, want)
			}
		}
		el := strings.Index(body, `<ol class="elected"><li>`+elected[0]+`</li><li>`+elected[1]+`</li></ol>`)
		table := strings.Index(body, "<table")
		if el < 0 || table < 0 || el > table {
			t.Errorf("%s member page: the elected (%v, at %d) do not come before the stage table (at %d)", lang.code, elected, el, table)
		}
	}
	if _, body := pub.Get("/results/" + e + "/election/" + q + "?lang=cy"); !strings.Contains(body, "etholwyd") {
		t.Error("the Welsh stage table does not mark the elected in Welsh")
	}
	// The ballot's public result page lists the contest.
	if status, body := pub.Get("/results/" + e + "?lang=en"); status != 200 || !strings.Contains(body, `href="/results/`+e+`/election/`+q+`"`) {
		t.Fatalf("public result page: %d, no link to the contest", status)
	}
	// …in the reader's language, with the ballot's title in Welsh.
	if status, body := pub.Get("/results/" + e + "?lang=cy"); status != 200 || !strings.Contains(body, "Etholiad y weithrediaeth 2027</h1>") {
		t.Fatalf("Welsh public result page: %d, no Welsh title", status)
	}

	// The signed files, byte for byte, and the scrutineer tool checks them.
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		want []byte
	}{{result.ElectionReportFile, good}, {result.ElectionSignatureFile, goodSig}} {
		status, body := pub.Get("/results/" + e + "/election/" + q + "/" + f.name)
		if status != 200 || body != string(f.want) {
			t.Fatalf("download %s: %d, equal to the signed bytes: %v", f.name, status, body == string(f.want))
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "scrutineer.key.pub"), []byte(c.vkey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "scrutineer")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/scrutineer").CombinedOutput(); err != nil {
		t.Fatalf("build scrutineer: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "check-result", "--key", filepath.Join(dir, "scrutineer.key.pub"), filepath.Join(dir, result.ElectionReportFile)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "GOOD signature by scrutineers.example on the election result and report for contest") {
		t.Fatalf("scrutineer check-result: %v\n%s", err, out)
	}
}
