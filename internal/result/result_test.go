package result_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/vote/votetest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"

	"github.com/go-chi/chi/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/ledger/ledgertest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// counted is a small election run to the count: members voted (Yes to
// both questions for even members, No for odd ones, one blank), the ballot
// closed, two trustees decrypted, the scrutineer signed the report.
type counted struct {
	b         *electiontest.Ballot
	led       *ledger.Ledger
	iss       *issuance.Service
	signer    note.Signer
	rf        *report.ResultFile
	js, sig   []byte
	partials  [][]byte
	trustee2  []byte // trustee 2's partial, not used in the count
	manifestB []byte
}

func runElection(t *testing.T, id string, members, voters int, member ...func(i int) (name, mobile, email string)) *counted {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	led := ledgertest.New(t, pool, electiontest.SecretKey)
	skey, vkey, err := note.GenerateKey(rand.Reader, "scrutineers.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	o := electiontest.Options{ElectionID: id, Members: members, Ledger: ledger.HandOver{L: led}, Open: true, ScrutineerKey: vkey}
	if len(member) > 0 {
		o.Member = member[0]
	}
	b := electiontest.New(t, pool, o)
	c := &counted{b: b, led: led, signer: signer, iss: issuance.New(pool, electiontest.SecretKey)}
	mj, _, err := led.Manifest(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c.manifestB = mj
	paper := votetest.NewPaper(t, mj)
	for i := 0; i < voters; i++ {
		style := i % 2 // the fixture alternates workplaces, in manifest order
		choices := [][]int{{1, 0}, {1, 0}}
		switch {
		case i == voters-1:
			choices = [][]int{{0, 0}, {0, 1}} // blank on the first question: spoilt
		case i%3 == 1:
			choices = [][]int{{0, 1}, {0, 1}}
		}
		bb, auth := paper.Vote(t, style, choices, func(blinded []byte) ([]byte, error) {
			au, err := c.iss.Authorise(ctx, id, b.MemberIDs[i], blinded)
			if err != nil {
				return nil, err
			}
			return au.BlindSignature, nil
		})
		if _, _, err := led.Cast(ctx, id, bb, auth); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Admin.Close(ctx, "scrutineer:test", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	// The scrutineer's count, with the scrutineer tool's library functions.
	issued := []int64{int64((voters + 1) / 2), int64(voters / 2)}
	var exp bytes.Buffer
	if err := led.Export(ctx, &exp, id, -1, nil); err != nil {
		t.Fatal(err)
	}
	v, err := verify.Verify(ctx, &exp, verify.Options{Issued: issued})
	if err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v.Failures)
	}
	alphas := v.Sums.Alphas()
	mh := paper.Election.ManifestHash()
	var ps []*threshold.Partial
	for _, j := range []int{0, 2} {
		p, err := threshold.PartialDecrypt(rand.Reader, b.Trustees, b.Shares[j], mh[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		pj, _ := p.MarshalJSON()
		c.partials = append(c.partials, append(pj, '\n'))
	}
	p2, err := threshold.PartialDecrypt(rand.Reader, b.Trustees, b.Shares[1], mh[:], alphas)
	if err != nil {
		t.Fatal(err)
	}
	c.trustee2, _ = p2.MarshalJSON()
	counts, bad, err := tally.Decrypt(b.Trustees, v.Sums, ps)
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	counts.ClosedAt = v.ClosedAt // the actual close, from the signed close
	res, err := tally.Compute(paper.Manifest, counts)
	if err != nil {
		t.Fatal(err)
	}
	c.rf = &report.ResultFile{Version: report.Version, Result: res, Verification: report.Summary(v)}
	c.rf.Verification.Issued = issued
	c.js, c.sig = c.sign(func(*report.Report) {})
	return c
}

// sign makes the scrutineer's report, changed by edit, and signs it.
func (c *counted) sign(edit func(*report.Report)) ([]byte, []byte) {
	rf := *c.rf
	res := *rf.Result
	res.Styles = append([]tally.StyleResult{}, res.Styles...)
	rf.Result = &res
	rep := report.New(&rf, c.signer.Name(), report.Options{Date: "2026-12-16"})
	edit(rep)
	js, sig, err := report.Sign(rep, c.signer)
	if err != nil {
		panic(err)
	}
	return js, sig
}

// resultServer serves the result pages, the admin pages, the board and the
// issuance counts, as internal/app wires them.
func resultServer(t *testing.T, c *counted) *httptest.Server {
	t.Helper()
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
	staff, store := webtest.Staff, c.b.Store
	issued := func(ctx context.Context, e string) (map[string]int64, error) {
		cs, err := c.iss.CountsFor(ctx, e)
		out := map[string]int64{}
		for _, x := range cs {
			out[x.Style] = int64(x.Online + x.Replaced)
		}
		return out, err
	}
	r := chi.NewRouter()
	election.NewAdminPages(c.b.Admin, store, pages, staff, log).Routes(r)
	result.NewPages(result.New(c.b.Pool, store, ledger.HandOver{L: c.led}, issued), c.b.Admin, store, c.b.Register, pages, staff, "http://localhost").Routes(r)
	c.led.Routes(r)
	issuance.NewHandler(c.iss, func(*http.Request) (int64, bool) { return 0, false }, pages).Counts().Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// upload posts the scrutineer's files as the page's form does.
func upload(c *webtest.Client, path string, files map[string][][]byte) (int, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for field, fs := range files {
		for i, f := range fs {
			w, _ := mw.CreateFormFile(field, fmt.Sprintf("%s-%d.json", field, i+1))
			w.Write(f)
		}
	}
	mw.Close()
	return c.Do("POST", path, mw.FormDataContentType(), &body)
}

// The scrutineer publishes the signed result: tampered, unsigned,
// wrongly signed, wrong-ballot and wrong-count files are refused with a
// precise reason; the good files are published on the board and the
// public page, once.
func TestPublishResult(t *testing.T) {
	c := runElection(t, "result-ballot", 8, 7)
	srv := resultServer(t, c)
	scr := webtest.NewClient(t, srv.URL, "scrutineer", 0)
	org := webtest.NewClient(t, srv.URL, "organiser", c.b.UnionID)
	id := strconv.FormatInt(c.b.ID, 10)
	pub := webtest.NewClient(t, srv.URL, "", 0)

	if status, _ := pub.Get("/results/result-ballot"); status != 404 {
		t.Fatalf("result page before publication: %d", status)
	}
	if status, body := scr.Get("/scrutineer/ballots/" + id + "/result"); status != 200 || !strings.Contains(body, `id="publish-form"`) {
		t.Fatalf("scrutineer result page: %d", status)
	}
	good := map[string][][]byte{"report": {c.js}, "signature": {c.sig}, "partials": c.partials}
	with := func(field string, v ...[]byte) map[string][][]byte {
		m := map[string][][]byte{}
		for k, x := range good {
			m[k] = x
		}
		if v == nil {
			delete(m, field)
		} else {
			m[field] = v
		}
		return m
	}
	// A count changed after signing.
	tampered := bytes.Replace(c.js, []byte(`"votes_cast": 4`), []byte(`"votes_cast": 5`), 1)
	if bytes.Equal(tampered, c.js) {
		t.Fatal("no count to tamper with")
	}
	oskey, _, _ := note.GenerateKey(rand.Reader, "someone.else")
	other, _ := note.NewSigner(oskey)
	otherSig := func() []byte {
		n, _ := note.Sign(&note.Note{Text: string(c.js)}, other)
		return n[len(c.js):]
	}()
	wrongBallotJS, wrongBallotSig := c.sign(func(r *report.Report) {
		r.ElectionID, r.Result.ElectionID = "another-ballot", "another-ballot"
	})
	wrongCountJS, wrongCountSig := c.sign(func(r *report.Report) {
		r.Result.Styles[0].Questions[0].Counts[0].Count++
		r.Result.Styles[0].Questions[0].Yes++
	})
	// Trustee 2's partial decryption, claiming to be trustee 3's.
	badPartial := bytes.Replace(c.trustee2, []byte(`"trustee":2`), []byte(`"trustee":3`), 1)
	if bytes.Equal(badPartial, c.trustee2) {
		t.Fatalf("partial encoding: %s", c.trustee2)
	}
	for _, tc := range []struct {
		name  string
		files map[string][][]byte
		want  string
	}{
		{"tampered", with("report", tampered), "the signature does not verify under the scrutineer key bound to this ballot (scrutineers.example)"},
		{"unsigned", with("signature", []byte("")), "the signature does not verify"},
		{"no signature file", with("signature"), "choose report.json.sig to upload"},
		{"signed by another key", with("signature", otherSig), "the signature does not verify under the scrutineer key bound to this ballot"},
		{"wrong ballot", map[string][][]byte{"report": {wrongBallotJS}, "signature": {wrongBallotSig}, "partials": c.partials}, "the report is for election &#34;another-ballot&#34;, not this ballot (&#34;result-ballot&#34;)"},
		{"wrong count", map[string][][]byte{"report": {wrongCountJS}, "signature": {wrongCountSig}, "partials": c.partials}, "styles[0].questions[0].options[0].count: the report says 3, the ledger and the manifest give 2"},
		{"no partials", with("partials"), "choose the trustees&#39; partial decryption files"},
		{"one partial", with("partials", c.partials[0]), "not enough valid partial decryptions: 1 valid, 2 needed"},
		{"wrong partial", with("partials", c.partials[0], badPartial), "the partial decryption of trustee 3 is wrong: DLEQ proof"},
		{"not a partial", with("partials", []byte(`{"hello":1}`)), "partial decryption file 1 is not a trustee&#39;s partial decryption"},
		// The wrong one of the tool's files: named, with the one expected.
		{"report as a partial", with("partials", c.js), "This is not a trustee&#39;s partial decryption (partial-N.json, from scrutineer decrypt): the file you chose looks like the signed report (report.json, from scrutineer report)"},
		{"partial as the report", with("report", c.trustee2), "This is not the signed report (report.json, from scrutineer report): the file you chose looks like a trustee&#39;s partial decryption"},
	} {
		status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", tc.files)
		if status != 422 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want 422 naming %q\n%s", tc.name, status, tc.want, problems(body))
		}
	}
	// A union election whose rules require the independent person's key
	// share (s.51A): the independent person is trustee 2, whose partial
	// the count did not use, so it is refused; with theirs it would pass.
	ctx := context.Background()
	setIP := func(cfg string) {
		if _, err := c.b.Pool.Exec(ctx, `UPDATE ballots SET config = `+cfg+` WHERE id = $1`, c.b.ID); err != nil {
			t.Fatal(err)
		}
	}
	setIP(`jsonb_set(config, '{election}', '{"address_words": 100, "independent": {"name": "Jo Bloggs", "organisation": "", "trustee": 2, "key_required": true}}')`)
	if status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", good); status != 422 || !strings.Contains(body, "upload the partial decryption of trustee 2, the independent person") {
		t.Fatalf("count without the independent person's share: %d\n%s", status, problems(body))
	}
	setIP(`config - 'election'`)
	// Protocol 7: the same requirement signed in the manifest
	// (independent_person), with nothing in the configuration.
	var mraw []byte
	if err := c.b.Pool.QueryRow(ctx, `SELECT manifest FROM ballots WHERE id = $1`, c.b.ID).Scan(&mraw); err != nil {
		t.Fatal(err)
	}
	mf, err := manifest.Parse(mraw)
	if err != nil {
		t.Fatal(err)
	}
	mf.Kind, mf.IndependentPerson = "union_election", &manifest.IndependentPerson{Name: "Jo Bloggs", Trustee: 2}
	withIP, err := mf.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	setManifest := func(b []byte) {
		if _, err := c.b.Pool.Exec(ctx, `UPDATE ballots SET manifest = $2 WHERE id = $1`, c.b.ID, b); err != nil {
			t.Fatal(err)
		}
	}
	setManifest(withIP)
	if status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", good); status != 422 || !strings.Contains(body, "upload the partial decryption of trustee 2, the independent person") {
		t.Fatalf("count without the share the manifest requires: %d\n%s", status, problems(body))
	}
	setManifest(mraw)
	if status, _ := upload(org, "/scrutineer/ballots/"+id+"/result", good); status != 403 {
		t.Fatalf("an organiser published: %d", status)
	}
	if status, body := org.Get("/organiser/ballots/" + id + "/result"); status != 200 || !strings.Contains(body, "The independent scrutineer publishes the result") {
		t.Fatalf("organiser page before: %d", status)
	}

	status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", good)
	if status != 200 || !strings.Contains(body, "The result is published") {
		t.Fatalf("publish: %d\n%s", status, problems(body))
	}
	var st string
	c.b.Pool.QueryRow(context.Background(), `SELECT status FROM ballots WHERE id = $1`, c.b.ID).Scan(&st)
	if st != "published" {
		t.Fatalf("status %q", st)
	}
	// Once only.
	if status, body := upload(scr, "/scrutineer/ballots/"+id+"/result", good); status != 422 || !strings.Contains(body, "already published") {
		t.Fatalf("second publish: %d %s", status, problems(body))
	}
	// The board serves the files exactly.
	for path, want := range map[string][]byte{"/ledger/v1/result-ballot/result": c.js, "/ledger/v1/result-ballot/result/signature": c.sig} {
		status, body := pub.Get(path)
		if status != 200 || body != string(want) {
			t.Fatalf("%s: %d", path, status)
		}
	}
	status, body = pub.Get("/ledger/v1/result-ballot/partials")
	var pw struct{ Partials []json.RawMessage }
	if status != 200 || json.Unmarshal([]byte(body), &pw) != nil || len(pw.Partials) != 2 {
		t.Fatalf("partials: %d %s", status, body)
	}
	// The public page, in English and Welsh: s.231 particulars per workplace.
	status, body = pub.Get("/results/result-ballot")
	for _, want := range []string{"North Depot", "South Depot", "Entitled to vote", `<dd class="votes-cast">4</dd>`, `<dd class="votes-cast">3</dd>`,
		`<td class="yes">2</td>`, "s.231B(1)(a)", "/verify/result-ballot"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("public result page: %d, no %q", status, want)
		}
	}
	// Voted online, the ballot opened under the regime from the e-ballot
	// order's commencement, which has no turnout threshold (ERA 2025
	// repealed s.226(2)(a)(iia)): the page states none.
	if strings.Contains(body, "At least 50% of those entitled voted") {
		t.Fatal("public result page: a turnout threshold under the regime that repealed it")
	}
	status, body = pub.Get("/results/result-ballot?lang=cy")
	if status != 200 || !strings.Contains(body, "Pleidleisiau a fwriwyd") || !strings.Contains(body, `lang="cy"`) {
		t.Fatalf("Welsh result page: %d", status)
	}
	if status, body := org.Get("/organiser/ballots/" + id + "/result"); status != 200 || !strings.Contains(body, "s.231A") || !strings.Contains(body, `<dd class="votes-cast">4</dd>`) {
		t.Fatalf("organiser result page: %d", status)
	}

	// The verifier page loads its own bundle (not the voter's) and its script.
	status, body = pub.Get("/verify/result-ballot?lang=cy")
	if status != 200 || !regexp.MustCompile(`data-bundle="/static/eballot-verifier\.[0-9a-f]{8}\.min\.js"`).MatchString(body) ||
		!strings.Contains(body, `data-published="true"`) || !strings.Contains(body, "Gwirio&#39;r bleidlais") || strings.Contains(body, "/static/eballot.") {
		t.Fatalf("verifier page: %d\n%s", status, body)
	}
	for _, c := range result.VerifierChecks {
		if !strings.Contains(body, `id="check-`+c+`"`) {
			t.Fatalf("verifier page lacks check %s", c)
		}
	}
	// It carries the texts of the verifier's failures in the reader's language.
	for _, c := range result.VerifierFailures {
		if !strings.Contains(body, `<span data-code="`+c+`">`) {
			t.Fatalf("verifier page lacks the text of failure %s", c)
		}
	}
	if !strings.Contains(body, "mae&#39;r canlyniad yn dweud {claimed}, mae&#39;r cyfriflyfr yn dadgryptio i {actual}") {
		t.Fatalf("the Welsh verifier page lacks the Welsh text of result.counts")
	}

	// The independent check of the published result, by the scrutineer tool
	// against the board (it fetches the issued counts itself).
	bin := filepath.Join(t.TempDir(), "scrutineer")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/scrutineer").CombinedOutput(); err != nil {
		t.Fatalf("build scrutineer: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "check-result", srv.URL+"/ledger/v1/result-ballot").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "MATCHES: the published result is the decryption of the verified ledger (7 ballots") ||
		!strings.Contains(string(out), "Using the scrutineer key bound in the manifest") {
		t.Fatalf("scrutineer check-result: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "verify", srv.URL+"/ledger/v1/result-ballot").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "4 authorisations issued") || !strings.Contains(string(out), "fetched from the service") {
		t.Fatalf("scrutineer verify: %v\n%s", err, out)
	}
	_ = os.Remove(bin)
}

// problems extracts the refusal list of a page, for failure messages.
func problems(body string) string {
	i := strings.Index(body, `id="result-problems"`)
	if i < 0 {
		return "(no problems listed)"
	}
	j := strings.Index(body[i:], "</div>")
	return body[i : i+j]
}

// A key is recorded in draft only, and must be a note verifier key.
func TestScrutineerKey(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "key-ballot", Members: 2})
	ctx := context.Background()
	if err := b.Admin.SetScrutineerKey(ctx, "s", b.ID, "not a key"); err == nil || !strings.Contains(err.Error(), "not a scrutineer's public key") {
		t.Fatalf("bad key: %v", err)
	}
	_, vkey, _ := note.GenerateKey(rand.Reader, "scrutineers.example")
	if err := b.Admin.SetScrutineerKey(ctx, "s", b.ID, vkey+"\n"); err != nil {
		t.Fatal(err)
	}
}
