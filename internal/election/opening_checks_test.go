package election_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// TestOpeningChecklistOverHTTP drives the scrutineer's part of the opening
// checklist through the pages: the checklist names the signing key, the
// s.229(4) wording and the paper's approval (English and Welsh); an
// organiser can neither confirm the wording nor approve the paper; the
// scrutineer confirms and approves (who, when, the hash, in the ballot
// and the audit log); a later change to the paper makes the approval
// stale and Open is refused until the scrutineer approves again.
func TestOpeningChecklistOverHTTP(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "checklist", Members: 4})
	file, _, _ := electiontest.Trustees(t, 3, 2)
	must(t, b.Admin.AppointScrutineer(ctx, "scrutineer:9", b.ID, "Scrutineers Ltd", false))
	must(t, b.Admin.SignOffSecurityAssessment(ctx, "scrutineer:9", b.ID, "A. Assessor"))
	must(t, b.Admin.RecordEmployerNotices(ctx, "scrutineer:9", b.ID, time.Now().AddDate(0, 0, -10), time.Now().AddDate(0, 0, -10)))
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	scr := newClient(t, srv, "scrutineer", 0)
	id := strconv.FormatInt(b.ID, 10)

	status, body := scr.Get("/scrutineer/ballots/" + id)
	for _, want := range []string{"upload the trustees&#39; public key file", "record the scrutineer&#39;s result signing key",
		"the scrutineer must confirm that the s.229(4) statement of legal regime evote is the wording in force", "the scrutineer must approve the voting paper",
		`action="/scrutineer/ballots/` + id + `/wording"`, "the dismissal will be unfair.</blockquote>", `action="/scrutineer/ballots/` + id + `/approve-paper"`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("scrutineer's page lacks %q", want)
		}
	}
	_, orgBody := org.Get("/organiser/ballots/" + id + "?lang=cy")
	if body := orgBody; !strings.Contains(body, "rhaid i&#39;r craffwr gymeradwyo&#39;r papur pleidleisio") ||
		!strings.Contains(body, "cofnodwch allwedd llofnodi canlyniad y craffwr") || !strings.Contains(body, "datganiad a.229(4) cyfundrefn gyfreithiol evote") {
		t.Errorf("Welsh checklist: %s", body)
	}
	hash := regexp.MustCompile(`name="paper_hash" value="([0-9a-f]{64})"`).FindStringSubmatch(orgBody)
	if hash != nil || strings.Contains(orgBody, "/wording") {
		t.Fatal("the organiser's page offers the scrutineer's approval")
	}
	hash = regexp.MustCompile(`name="paper_hash" value="([0-9a-f]{64})"`).FindStringSubmatch(scrPage(t, scr, id))

	// Organisers cannot confirm or approve (the scrutineer's pages).
	if status, _ := org.Post("/scrutineer/ballots/"+id+"/approve-paper", url.Values{"paper_hash": {hash[1]}}); status != 403 {
		t.Fatalf("organiser approved the paper: %d", status)
	}
	if status, _ := org.Post("/scrutineer/ballots/"+id+"/wording", url.Values{"regime": {"evote"}}); status != 403 {
		t.Fatalf("organiser confirmed the wording: %d", status)
	}
	var by *string
	if err := pool.QueryRow(ctx, `SELECT coalesce(paper_approved_by, wording_confirmed_by) FROM ballots WHERE id = $1`, b.ID).Scan(&by); err != nil || by != nil {
		t.Fatalf("recorded after the organiser's attempts: %v %v", by, err)
	}

	// The trustees' key and the scrutineer's key change the paper: the
	// hash shown before them is refused.
	must(t, b.Admin.SetTrustees(ctx, "scrutineer:9", b.ID, file))
	must(t, b.Admin.SetScrutineerKey(ctx, "scrutineer:9", b.ID, electiontest.ScrutineerKey(t)))
	if status, body := scr.Post("/scrutineer/ballots/"+id+"/approve-paper", url.Values{"paper_hash": {hash[1]}}); status != 422 ||
		!strings.Contains(body, "The voting paper has changed since the page was shown") {
		t.Fatalf("approve an old paper: %d %s", status, body)
	}
	if status, body := scr.Post("/scrutineer/ballots/"+id+"/wording", url.Values{"regime": {"era25"}}); status != 422 ||
		!strings.Contains(body, "read the statement again") {
		t.Fatalf("confirm another regime's wording: %d %s", status, body)
	}
	approveOverHTTP(t, scr, id)
	body = scrPage(t, scr, id)
	approved := regexp.MustCompile(`id="paper-approved">(scrutineer:\d+), [^:]+:\d\d: <code>([0-9a-f]{64})</code>`).FindStringSubmatch(body)
	if approved == nil || !strings.Contains(body, `id="wording-confirmed">`+approved[1]) || strings.Contains(body, "the scrutineer must") {
		t.Fatalf("approvals not shown: %s", body)
	}
	// Recorded in the audit log: who, the hash, the wording confirmed.
	var detail []byte
	if err := pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE ballot_id = $1 AND action = 'ballot.paper_approve' AND actor = $2`, b.ID, approved[1]).Scan(&detail); err != nil ||
		!strings.Contains(string(detail), approved[2]) {
		t.Fatalf("audit of the approval: %s %v", detail, err)
	}
	var wording struct{ Regime, Text string }
	if err := pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE ballot_id = $1 AND action = 'ballot.s229_4_confirm' AND actor = $2`, b.ID, approved[1]).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(detail, &wording); err != nil || wording.Regime != "evote" || !strings.HasSuffix(wording.Text, "the dismissal will be unfair.") {
		t.Fatalf("audit of the wording: %s %v", detail, err)
	}

	// The organiser changes the paper (its title): the approval is stale.
	var opens, closes time.Time
	if err := pool.QueryRow(ctx, `SELECT opens_at, closes_at FROM ballots WHERE id = $1`, b.ID).Scan(&opens, &closes); err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	form := url.Values{"title": {"Test ballot, second thoughts"}, "kind": {"industrial_action"}, "strike": {"on"}, "asos": {"on"},
		"workplaces": {"North Depot | Acme Transport Ltd\nSouth Depot | Acme Transport Ltd"}, "dispute_summary": {"Pay for 2026."},
		"types_of_action": {"Overtime ban."}, "period": {"January to June 2027."}, "authorised_person": {"The General Secretary."},
		"opens_at": {opens.In(london).Format("2006-01-02T15:04")}, "closes_at": {closes.In(london).Format("2006-01-02T15:04")}}
	// (The organiser's pages are in Welsh since the ?lang=cy above.)
	if status, body := org.Post("/organiser/ballots/"+id+"/edit", form); status != 200 || !strings.Contains(body, "Cafodd eich newidiadau eu cadw.") {
		t.Fatalf("edit: %d %s", status, body)
	}
	status, body = scr.Post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"checklist"}})
	if status != 422 || !strings.Contains(body, "the ballot cannot open: the voting paper has changed since "+approved[1]+" approved it on ") ||
		!strings.Contains(body, "The voting paper has changed since it was approved") {
		t.Fatalf("open with a stale approval: %d %s", status, body)
	}
	// Approved again, it opens; the opening records the approved hash.
	approveOverHTTP(t, scr, id)
	if status, body = scr.Post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"checklist"}}); status != 200 || !strings.Contains(body, "The ballot is open.") {
		t.Fatalf("open: %d %s", status, body)
	}
	var open struct {
		PaperHash string `json:"paper_hash"`
		By        string `json:"paper_approved_by"`
	}
	var last string
	if err := pool.QueryRow(ctx, `SELECT detail FROM audit_log WHERE ballot_id = $1 AND action = 'ballot.open'`, b.ID).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT encode(paper_approved_hash, 'hex') FROM ballots WHERE id = $1`, b.ID).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(detail, &open); err != nil || open.PaperHash != last || last == approved[2] || open.By != approved[1] {
		t.Fatalf("opening's audit: %s (approved %s, first %s)", detail, last, approved[2])
	}
}

// TestOpenRefusesPacksBeforeScheduling: a ballot posting a paper to every
// member cannot open on the spot (no pack could have been posted); pressed
// ahead of its opening it is scheduled (the fixture does so), and the
// scheduler opens it.
func TestOpenRefusesPacksBeforeScheduling(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "packs-now", Members: 2, Ready: true, PaperToEveryone: true})
	srv := adminServer(t, b)
	scr := newClient(t, srv, "scrutineer", 0)
	status, body := scr.Post("/scrutineer/ballots/"+strconv.FormatInt(b.ID, 10)+"/open", url.Values{"confirm": {"packs-now"}})
	if status != 422 || !strings.Contains(body, "every member is posted a paper: the postal packs can be printed only once the register is frozen") {
		t.Fatalf("open with packs on the spot: %d %s", status, body)
	}
	// Pressed ahead of its opening, it is scheduled, and the page says the
	// packs are to be posted before voting opens.
	later := electiontest.New(t, pool, electiontest.Options{ElectionID: "packs-later", Members: 2, Ready: true, PaperToEveryone: true,
		OpensAt: time.Now().Add(48 * time.Hour)})
	status, body = scr.Post("/scrutineer/ballots/"+strconv.FormatInt(later.ID, 10)+"/open", url.Values{"confirm": {"packs-later"}})
	if status != 200 || !strings.Contains(body, `id="scheduled"`) || !strings.Contains(body, `id="packs-due">Every member is posted a paper: print and post the postal packs before voting opens`) {
		t.Fatalf("open with packs ahead of the opening: %d %s", status, body)
	}
	o := electiontest.New(t, pool, electiontest.Options{ElectionID: "packs-scheduled", Members: 2, Open: true, PaperToEveryone: true})
	var st string
	if err := pool.QueryRow(context.Background(), `SELECT status FROM ballots WHERE id = $1`, o.ID).Scan(&st); err != nil || st != "open" {
		t.Fatalf("scheduled ballot: %s %v", st, err)
	}
}

// scrPage is the scrutineer's ballot page.
func scrPage(t *testing.T, scr interface {
	Get(string) (int, string)
}, id string) string {
	t.Helper()
	status, body := scr.Get("/scrutineer/ballots/" + id)
	if status != 200 {
		t.Fatalf("ballot page: %d", status)
	}
	return body
}
