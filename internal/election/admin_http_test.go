package election_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// adminServer serves the admin pages; the staff member comes from test
// headers standing in for the session (internal/auth is tested on its own).
func adminServer(t *testing.T, b *electiontest.Ballot) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := election.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	election.NewAdminPages(b.Admin, b.Store, pages, webtest.Staff, log).Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *httptest.Server, role string, union int64) *webtest.Client {
	return webtest.NewClient(t, srv.URL, role, union)
}

// An organiser sets a ballot up through the pages; the scrutineer records
// the safeguards and opens it; tenants never see each other's ballots.
func TestAdminPagesJourney(t *testing.T) {
	pool := pgtest.NewDB(t)
	// A union with a ballot (union X) and a second union Y with its own.
	x := electiontest.New(t, pool, electiontest.Options{ElectionID: "x-ballot", Members: 4})
	y := electiontest.New(t, pool, electiontest.Options{ElectionID: "y-ballot", Members: 2})
	srv := adminServer(t, x)
	orgX := newClient(t, srv, "organiser", x.UnionID)
	orgY := newClient(t, srv, "organiser", y.UnionID)
	scr := newClient(t, srv, "scrutineer", 0)

	status, body := orgX.Get("/organiser")
	if status != 200 || !strings.Contains(body, "x-ballot") || strings.Contains(body, "y-ballot") {
		t.Fatalf("organiser X list: %d", status)
	}
	if status, _ := orgY.Get("/organiser/ballots/" + strconv.FormatInt(x.ID, 10)); status != 404 {
		t.Fatalf("organiser Y reached union X's ballot: %d", status)
	}
	if status, _ := orgX.Get("/scrutineer/ballots/" + strconv.FormatInt(x.ID, 10)); status != 403 {
		t.Fatalf("organiser reached the scrutineer's page: %d", status)
	}
	if status, _ := orgX.Post("/scrutineer/ballots/"+strconv.FormatInt(x.ID, 10)+"/open", url.Values{"confirm": {"x-ballot"}}); status != 403 {
		t.Fatalf("organiser opened a ballot: %d", status)
	}
	anon := newClient(t, srv, "", 0)
	anon.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if status, _ := anon.Get("/organiser"); status != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", status)
	}

	// Create through the form: an invalid form is shown back with the
	// problem; a title with markup is escaped.
	form := url.Values{"election_id": {"new-ballot"}, "title": {`<script>alert(1)</script> Pay`}, "kind": {"industrial_action"},
		"workplaces": {"North Depot | Acme\nSouth Depot | Acme"}, "authorised_person": {"The General Secretary"},
		"opens_at": {"2026-12-01T09:00"}, "closes_at": {"2026-12-15T17:00"}, "strike": {"on"}, "paper_to_everyone": {"on"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("closes_at", "2026-11-01T09:00")
	status, body = orgX.Post("/organiser/ballots", bad)
	if status != 422 || !strings.Contains(body, "must close after it opens") {
		t.Fatalf("bad form: %d %s", status, body)
	}
	status, body = orgX.Post("/organiser/ballots", form)
	if status != 200 || !strings.Contains(body, "The ballot was created.") {
		t.Fatalf("create: %d %s", status, body)
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt; Pay") {
		t.Fatal("title not escaped")
	}
	if !strings.Contains(body, "appoint the independent scrutineer") {
		t.Fatal("readiness list missing")
	}
	if status, body := orgX.Post("/organiser/ballots", form); status != 409 || !strings.Contains(body, "that election id is already used") {
		t.Fatalf("duplicate election id: %d", status)
	}
	// A hybrid ballot sent to everyone, chosen on the form, is in the
	// configuration frozen at the opening.
	var everyone bool
	if err := pool.QueryRow(context.Background(), `SELECT coalesce((config->>'paper_to_everyone')::boolean, false) FROM ballots WHERE election_id = 'new-ballot'`).Scan(&everyone); err != nil || !everyone {
		t.Fatalf("paper to everyone not kept: %v %v", everyone, err)
	}

	// The scrutineer records the safeguards of ballot X and opens it.
	xid := strconv.FormatInt(x.ID, 10)
	if status, body := scr.Post("/scrutineer/ballots/"+xid+"/appoint", url.Values{"name": {"Scrutineers Ltd"}}); status != 200 || !strings.Contains(body, "The scrutineer was recorded.") {
		t.Fatalf("appoint: %d", status)
	}
	scr.Post("/scrutineer/ballots/"+xid+"/assessment", url.Values{"by": {"A. Assessor"}})
	past := time.Now().AddDate(0, 0, -9).In(time.Local).Format("2006-01-02T15:04")
	scr.Post("/scrutineer/ballots/"+xid+"/notices", url.Values{"notice_sent_at": {past}, "sample_sent_at": {past}})
	file, _, _ := electiontest.Trustees(t, 3, 2)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "trustees.json")
	fw.Write(file)
	mw.Close()
	if status, body := scr.Do("POST", "/scrutineer/ballots/"+xid+"/trustees", mw.FormDataContentType(), &mp); status != 200 || !strings.Contains(body, "public key was recorded") {
		t.Fatalf("trustees: %d %s", status, body)
	}
	// The scrutineer's result signing key (recorded on the result page,
	// internal/result), then the scrutineer's approvals on this page.
	must(t, x.Admin.SetScrutineerKey(context.Background(), "scrutineer:1", x.ID, electiontest.ScrutineerKey(t)))
	approveOverHTTP(t, scr, xid)
	if status, body := scr.Post("/scrutineer/ballots/"+xid+"/open", url.Values{"confirm": {"wrong"}}); status != 422 || !strings.Contains(body, "to confirm opening") {
		t.Fatalf("open without confirmation: %d", status)
	}
	status, body = scr.Post("/scrutineer/ballots/"+xid+"/open", url.Values{"confirm": {"x-ballot"}})
	if status != 200 || !strings.Contains(body, "The ballot is open.") {
		t.Fatalf("open: %d %s", status, body)
	}
	if status, body := orgX.Post("/organiser/ballots/"+xid+"/edit", form); status != 409 || !strings.Contains(body, "no longer a draft") {
		t.Fatalf("edit after open: %d", status)
	}
	var st string
	pool.QueryRow(context.Background(), `SELECT status FROM ballots WHERE id = $1`, x.ID).Scan(&st)
	if st != "open" {
		t.Fatalf("status %s", st)
	}
}

// An organiser uploads a register: a bad file lists every problem by line
// and imports nothing; a good one is previewed, then imported.
func TestRegisterUploadJourney(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "reg-upload"})
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	id := strconv.FormatInt(b.ID, 10)
	upload := func(csv string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "register.csv")
		fw.Write([]byte(csv))
		mw.Close()
		return org.Do("POST", "/organiser/ballots/"+id+"/register", mw.FormDataContentType(), &buf)
	}
	const header = "member_number,name,mobile,email,workplace,branch,employer\n"
	status, body := upload(header +
		"A1,Ann Jones,07911 123456,ann@example.org,North Depot,Cardiff,Acme Transport Ltd\n" +
		"A1,Bob Smith,07911 123457,,South Depot,Cardiff,Acme Transport Ltd\n" +
		"A3,,not a phone,,Nowhere,Cardiff,Acme Transport Ltd\n")
	// The bad rows are listed and left out; the valid member is offered
	// for import.
	if status != 200 {
		t.Fatalf("bad file: %d", status)
	}
	for _, want := range []string{"<td>3</td>", "<td>4</td>", "<strong>1</strong> members to import · <strong>2</strong> rows left out", "Import this register"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	if strings.Contains(body, "07911") {
		t.Error("bad file: phone echoed")
	}
	var n int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, b.ID).Scan(&n)
	if n != 0 {
		t.Fatalf("bad file imported %d rows", n)
	}
	status, body = upload(header +
		"A1,Ann Jones,07911 123456,ann@example.org,North Depot,Cardiff,Acme Transport Ltd\n" +
		"A2,Bob Smith,07911 123457,,south depot,Cardiff,Acme Transport Ltd\n")
	if status != 200 || !strings.Contains(body, "Import this register") {
		t.Fatalf("good file: %d %s", status, body)
	}
	sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(body)
	if sha == nil {
		t.Fatal("no commit form")
	}
	status, body = org.Post("/organiser/ballots/"+id+"/register/commit", url.Values{"sha256": {sha[1]}})
	if status != 200 || !strings.Contains(body, "The register was imported.") {
		t.Fatalf("commit: %d %s", status, body)
	}
	pool.QueryRow(context.Background(), `SELECT count(*) FROM register_entries WHERE ballot_id = $1`, b.ID).Scan(&n)
	if n != 2 {
		t.Fatalf("imported %d rows, want 2", n)
	}
	pool.QueryRow(context.Background(), `SELECT count(*) FROM register_uploads`).Scan(&n)
	if n != 0 {
		t.Fatal("the upload was kept after commit")
	}
}

// The register import report's reasons and the page's own errors are in
// Welsh on the Welsh page (not marked as English), and unchanged in
// English on the English page; each problem says whether it is an error
// or a warning.
func TestRegisterReportInWelsh(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "reg-cy"})
	if _, err := pool.Exec(context.Background(), `UPDATE unions SET employer_email_domains = '{acme.example}' WHERE id = $1`, b.UnionID); err != nil {
		t.Fatal(err)
	}
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	id := strconv.FormatInt(b.ID, 10)
	upload := func(lang, csv string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if csv != "" {
			fw, _ := mw.CreateFormFile("file", "register.csv")
			fw.Write([]byte(csv))
		}
		mw.Close()
		return org.Do("POST", "/organiser/ballots/"+id+"/register?lang="+lang, mw.FormDataContentType(), &buf)
	}
	const csv = "member_number,name,mobile,email,workplace,branch,employer\n" +
		"A1,Ann Jones,07911 123456,,North Depot,,\n" +
		"A1,Bob Smith,07911 123457,,South Depot,,\n" + // line 3: duplicate member number
		"A3,Cai Jones,not a phone,,North Depot,,\n" + // line 4: characters in the mobile
		"A4,Dai Jones,07911 123458,,Nowhere,,\n" + // line 5: unknown workplace
		"A5,Eve Jones,,eve@acme.example,North Depot,,\n" + // line 6: employer email; no contact
		"A6,Fay Jones,029 2012 3456,,North Depot,,\n" // line 7: a landline

	status, body := upload("cy", csv)
	if status != 200 {
		t.Fatalf("Welsh report: %d %s", status, body)
	}
	for _, want := range []string{
		"<td>mae rhif aelod A1 ar linell 2 ac ar linell 3</td>",
		"<td>nid yw&#39;r gweithle &#34;Nowhere&#34; yn un o weithleoedd y bleidlais</td>",
		"<td>mae&#39;r cyfeiriad yn y maes email ar barth cyflogwr: ni chaiff ei ddefnyddio",
		"<td>dim ond digidau, bylchau, &#43;, -, ( a ) a gaiff fod yn y maes mobile: ni chaiff ei ddefnyddio, caiff ei drin fel pe bai ar goll",
		"<td>nid yw&#39;r maes mobile yn rhif ffôn symudol dilys yn y DU",
		"<td>Gwall</td>", "<td>Rhybudd</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the Welsh report lacks %s", want)
		}
	}
	for _, english := range []string{"is on line", "is not one of the ballot", "employer&#39;s domain", "mobile may contain", "<td lang=\"en\""} {
		if strings.Contains(body, english) {
			t.Errorf("the Welsh report has %s", english)
		}
	}
	if markedEnglish(body) {
		t.Error("the Welsh report marks a message as English")
	}

	status, body = upload("en", csv)
	if status != 200 {
		t.Fatalf("English report: %d %s", status, body)
	}
	for _, want := range []string{
		"<tr><td>3</td><td>Error</td><td>member number A1 is on line 2 and on line 3</td></tr>",
		"<tr><td>5</td><td>Error</td><td>workplace &#34;Nowhere&#34; is not one of the ballot&#39;s workplaces</td></tr>",
		"<tr><td>6</td><td>Warning</td><td>email is at an employer&#39;s domain: it will not be used (credentials go to personal contacts only)</td></tr>",
		"<tr><td>4</td><td>Warning</td><td>mobile may contain only digits, spaces, &#43;, -, ( and ): not used, treated as missing (the member is still imported; with no other contact they are sent a postal voting pack)</td></tr>",
		"<tr><td>7</td><td>Warning</td><td>mobile is not a valid UK mobile number (it is a landline, pager or other non-mobile number): not used, treated as missing",
		"<td>no personal mobile or email: this member will need a postal voting pack</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the English report lacks %s", want)
		}
	}

	// The page's own errors: no file, a previewed file that is gone.
	if status, body = upload("cy", ""); status != 422 || !strings.Contains(body, "<p>dewiswch ffeil y gofrestr (CSV) i&#39;w llwytho</p>") {
		t.Fatalf("Welsh no-file error: %d %s", status, body)
	}
	if status, body = upload("en", ""); status != 422 || !strings.Contains(body, "<p>choose the register file (CSV) to upload</p>") {
		t.Fatalf("English no-file error: %d %s", status, body)
	}
	gone := url.Values{"sha256": {strings.Repeat("0", 64)}}
	if status, body = org.Post("/organiser/ballots/"+id+"/register/commit?lang=cy", gone); status != 422 ||
		!strings.Contains(body, "<p>nid yw&#39;r ffeil a wiriwyd yma mwyach: llwythwch hi eto</p>") {
		t.Fatalf("Welsh gone error: %d %s", status, body)
	}
	if status, body = org.Post("/organiser/ballots/"+id+"/register/commit?lang=en", gone); status != 422 ||
		!strings.Contains(body, "<p>the previewed file is no longer here: upload it again</p>") {
		t.Fatalf("English gone error: %d %s", status, body)
	}
}

// The register's optional preferred language column: the usual header
// spellings and values in English or Welsh are read; a value that is
// neither is a warning on its line and the member is imported with no
// preference; a blank cell in a later import keeps the member's language;
// the language reaches the contacts invitations and reminders use.
func TestRegisterPreferredLanguage(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "reg-lang"})
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	id := strconv.FormatInt(b.ID, 10)
	importFile := func(csv string) string {
		t.Helper()
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("file", "register.csv")
		fw.Write([]byte(csv))
		mw.Close()
		status, body := org.Do("POST", "/organiser/ballots/"+id+"/register", mw.FormDataContentType(), &buf)
		sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(body)
		if status != 200 || sha == nil {
			t.Fatalf("upload: %d %s", status, body)
		}
		status, committed := org.Post("/organiser/ballots/"+id+"/register/commit", url.Values{"sha256": {sha[1]}})
		if status != 200 || !strings.Contains(committed, "The register was imported.") {
			t.Fatalf("commit: %d %s", status, committed)
		}
		return body
	}
	langs := func() map[string]string {
		t.Helper()
		contacts, err := b.Register.Contacts(ctx, b.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := pool.Query(ctx, `SELECT m.id FROM members m WHERE m.union_id = $1`, b.UnionID)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		nums, err := b.Register.MemberNumbers(ctx, ids) // sealed at rest: opened by the register's store
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for mid, num := range nums {
			out[num] = contacts[mid].Lang
		}
		return out
	}
	body := importFile("Member number,Name,Mobile number,E-mail address,Workplace,Preferred Language\n" +
		"L1,Ann Jones,07911 123456,,North Depot,Welsh\n" +
		"L2,Bob Smith,07911 123457,,North Depot,english\n" +
		"L3,Cai Jones,07911 123458,,North Depot,Cymraeg\n" +
		"L4,Dai Jones,07911 123459,,North Depot,\n" +
		"L5,Eve Jones,07911 123460,,North Depot,Klingon\n")
	if !strings.Contains(body, "language is neither English") || !strings.Contains(body, "<strong>5</strong> members to import") {
		t.Errorf("report: the unknown language is not a warning on its line:\n%s", body)
	}
	want := map[string]string{"L1": "cy", "L2": "en", "L3": "cy", "L4": "", "L5": ""}
	if got := langs(); !maps.Equal(got, want) {
		t.Fatalf("languages %v, want %v", got, want)
	}
	// A later file without the column (or with a blank cell) keeps them;
	// a new value replaces one.
	importFile("member_number,name,mobile,email,workplace,iaith\n" +
		"L1,Ann Jones,07911 123456,,North Depot,\n" +
		"L2,Bob Smith,07911 123457,,North Depot,cy\n" +
		"L3,Cai Jones,07911 123458,,North Depot,\n" +
		"L4,Dai Jones,07911 123459,,North Depot,\n" +
		"L5,Eve Jones,07911 123460,,North Depot,\n")
	want["L2"] = "cy"
	if got := langs(); !maps.Equal(got, want) {
		t.Fatalf("after a second import: languages %v, want %v", got, want)
	}
}

// TestCACBallotRefused (issue 19): an organiser who tries to set up a CAC
// recognition or derecognition ballot through the form is refused at
// creation with the reason and the law, in English and in Welsh, and no
// ballot is created; the form does not offer the kind.
func TestCACBallotRefused(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "cac-union"})
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	if status, body := org.Get("/organiser/ballots/new"); status != 200 || strings.Contains(body, `value="recognition"`) || !strings.Contains(body, `value="political_fund"`) {
		t.Fatalf("the set-up form offers a recognition ballot (or lost a kind): %d", status)
	}
	for _, tc := range []struct{ kind, lang, want string }{
		{"recognition", "en", "CAC recognition and derecognition ballots are conducted by a qualified independent person the Central Arbitration Committee appoints, not by the union (TULRCA Schedule A1, paragraph 25)"},
		{"derecognition", "en", "(TULRCA Schedule A1, paragraph 117)"},
		{"recognition", "cy", "person annibynnol cymwys a benodir gan y Pwyllgor Cyflafareddu Canolog (CAC)"},
	} {
		form := url.Values{"election_id": {"cac-" + tc.kind + "-" + tc.lang}, "title": {"Recognition at Acme"}, "kind": {tc.kind},
			"question_text": {"Do you want the union to be recognised?"}, "options": {"Yes\nNo"},
			"opens_at": {"2027-01-11T09:00"}, "closes_at": {"2027-01-25T17:00"}}
		status, body := org.Post("/organiser/ballots?lang="+tc.lang, form)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%s (%s): %d, want 422 with %q in %s", tc.kind, tc.lang, status, tc.want, body)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM ballots WHERE election_id LIKE 'cac-%' AND election_id <> 'cac-union'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d CAC ballots created (%v)", n, err)
	}
}

// TestBallotPageShowsPermittedMethods: the ballot page says which law the
// ballot follows and which voting methods it permits, from the regime of
// its opening day; before the e-ballot order commences (no
// EBALLOT_EVOTING_COMMENCEMENT) that is post only, the page warns that
// online voting is not yet permitted (s.230(2)), in English and Welsh,
// and the scrutineer's Open is refused naming the section.
func TestBallotPageShowsPermittedMethods(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "methods", Members: 2, Ready: true})
	// The fixtures assume the order in force; this test is before it.
	if err := election.UseCommencement(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { electiontest.EVoting(t) })
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	scr := newClient(t, srv, "scrutineer", 0)
	id := strconv.FormatInt(b.ID, 10)
	status, body := org.Get("/organiser/ballots/" + id)
	for _, want := range []string{"TULRCA Part V, ss.226-234A (era25)", `id="methods">by post<`, "Online voting is not yet a permitted method for this ballot", "(TULRCA s.230(2)",
		"the law does not permit voting online for this ballot (TULRCA s.230(2); legal regime era25)"} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("ballot page: %d, lacks %q", status, want)
		}
	}
	if _, body := org.Get("/organiser/ballots/" + id + "?lang=cy"); !strings.Contains(body, `id="methods">drwy&#39;r post<`) || !strings.Contains(body, "Nid yw pleidleisio ar-lein yn ddull a ganiateir") ||
		!strings.Contains(body, "nid yw&#39;r gyfraith yn caniatáu pleidleisio ar-lein yn y bleidlais hon (TULRCA s.230(2); cyfundrefn gyfreithiol era25)") {
		t.Error("Welsh ballot page: no permitted methods")
	}
	// Every other item approved again under this regime: Open is refused
	// for the method alone, naming the section.
	approveOverHTTP(t, scr, id)
	status, body = scr.Post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"methods"}})
	if status != 422 || !strings.Contains(body, "the ballot cannot open: the law does not permit voting online for this ballot (TULRCA s.230(2); legal regime era25)") {
		t.Fatalf("open online under era25: %d %s", status, body)
	}
	var st string
	if err := pool.QueryRow(context.Background(), `SELECT status FROM ballots WHERE id = $1`, b.ID).Scan(&st); err != nil || st != "draft" {
		t.Fatalf("status %s %v", st, err)
	}
	// From the order's commencement it opens.
	electiontest.EVoting(t)
	approveOverHTTP(t, scr, id)
	if status, body = scr.Post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"methods"}}); status != 200 || !strings.Contains(body, "The ballot is open.") {
		t.Fatalf("open after commencement: %d %s", status, body)
	}
}

// approveOverHTTP does the scrutineer's approvals on the ballot page: the
// s.229(4) wording where the page asks for it, and the voting paper with
// the hash the page shows.
func approveOverHTTP(t *testing.T, scr *webtest.Client, id string) {
	t.Helper()
	status, body := scr.Get("/scrutineer/ballots/" + id)
	if status != 200 {
		t.Fatalf("ballot page: %d", status)
	}
	if m := regexp.MustCompile(`name="regime" value="([a-z0-9]+)"`).FindStringSubmatch(body); m != nil {
		if status, body := scr.Post("/scrutineer/ballots/"+id+"/wording", url.Values{"regime": {m[1]}}); status != 200 || !strings.Contains(body, "The s.229(4) wording was confirmed.") {
			t.Fatalf("confirm wording: %d %s", status, body)
		}
	}
	m := regexp.MustCompile(`name="paper_hash" value="([0-9a-f]{64})"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no paper approval form: %s", body)
	}
	if status, body := scr.Post("/scrutineer/ballots/"+id+"/approve-paper", url.Values{"paper_hash": {m[1]}}); status != 200 || !strings.Contains(body, "The voting paper was approved.") {
		t.Fatalf("approve paper: %d %s", status, body)
	}
}

// TestMergerBallot: a union can set up a ballot on a resolution approving
// an amalgamation or a transfer of engagements (TULRCA ss.97–108); its
// page names the law it follows and the methods it permits (post only
// until the e-ballot order, s.100C), in English and Welsh.
func TestMergerBallot(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "merger-union"})
	srv := adminServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	if status, body := org.Get("/organiser/ballots/new"); status != 200 || !strings.Contains(body, `<option value="merger">Merger ballot (amalgamation or transfer of engagements)</option>`) {
		t.Fatalf("the set-up form does not offer a merger ballot: %d", status)
	}
	form := url.Values{"election_id": {"merger-2027"}, "title": {"Merger with the Northern Workers' Union"}, "kind": {"merger"},
		"question_text": {"Do you approve the resolution to amalgamate with the Northern Workers' Union?"}, "options": {"Yes\nNo"},
		"opens_at": {"2027-01-11T09:00"}, "closes_at": {"2027-01-25T17:00"}, "workplaces": {"Head office | Ourselves"}}
	status, body := org.Post("/organiser/ballots", form)
	if status != http.StatusOK {
		t.Fatalf("create: %d\n%s", status, body)
	}
	var id int64
	var kind string
	if err := pool.QueryRow(context.Background(), `SELECT id, kind FROM ballots WHERE election_id = 'merger-2027'`).Scan(&id, &kind); err != nil || kind != "merger" {
		t.Fatalf("created %q (%v)", kind, err)
	}
	status, body = org.Get("/organiser/ballots/" + strconv.FormatInt(id, 10))
	for _, want := range []string{"Merger ballot (amalgamation or transfer of engagements)", "TULRCA Part I Chapter VII, ss.97-108", `id="methods">by post`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("ballot page: %d, lacks %q", status, want)
		}
	}
	// Never at a workplace (s.100C and the e-ballot order: workplace
	// voting is for industrial action only).
	if m := regexp.MustCompile(`id="methods">([^<]*)<`).FindStringSubmatch(body); m == nil || strings.Contains(m[1], "workplace") {
		t.Errorf("merger ballot methods: %v", m)
	}
	if _, body := org.Get("/organiser/ballots/" + strconv.FormatInt(id, 10) + "?lang=cy"); !strings.Contains(body, "Pleidlais uno") {
		t.Errorf("Welsh ballot page lacks the kind")
	}
}
