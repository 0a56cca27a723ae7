package gotv

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/web"
)

// headerStaff reads the test's staff identity from X-Test-page.Staff
// ("organiser:<union>" or "scrutineer").
func headerStaff(r *http.Request) (page.Staff, bool) {
	v := r.Header.Get("X-Test-Staff")
	if v == "scrutineer" {
		return scrutineer, true
	}
	if u, ok := strings.CutPrefix(v, "organiser:"); ok {
		id, _ := strconv.ParseInt(u, 10, 64)
		return organiser(id), true
	}
	return page.Staff{}, false
}

func testPages(t *testing.T) *page.Pages {
	t.Helper()
	p, err := page.New(slog.New(slog.DiscardHandler))
	must(t, err)
	tmpl, files, cat, dir := Templates()
	must(t, p.AddTemplates(tmpl, files...))
	must(t, p.AddCatalog(cat, dir))
	p.CSRFToken = func(*http.Request) string { return "test-csrf" }
	return p
}

type httpEnv struct {
	t     *testing.T
	s     *Service
	pages *page.Pages
	h     http.Handler
	pool  *pgxpool.Pool
}

func newHTTPEnv(t *testing.T, pool *pgxpool.Pool, clk *clock) *httpEnv {
	fake := newFakeSender(clk.Now)
	pages := testPages(t)
	s := newTestService(t, pool, svcOpts{sender: fake, clock: clk.Now, pages: pages, staff: headerStaff})
	r := chi.NewRouter()
	s.Routes(r)
	return &httpEnv{t: t, s: s, h: r, pool: pool, pages: pages}
}

func (e *httpEnv) do(method, path, who string, form url.Values) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if who != "" {
		r.Header.Set("X-Test-Staff", who)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

var memberNameRE = regexp.MustCompile(`Member \d+|M0000\d\d|\+4477009`)

// TestOrganiserCannotSeeNames: under the default policy an organiser sees
// counts and a preview for a fictitious member, never names or numbers; the
// non-voter export is refused, and allowed (and audited) only after the
// policy changes. An organiser of union X cannot see union Y's turnout or
// campaigns.
func TestOrganiserCannotSeeNames(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	clk := &clock{t: londonNoon()}
	e := newHTTPEnv(t, pool, clk)
	x := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-x", Members: 30, Open: true})
	y := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-y", Members: 30, Open: true})
	orgX := fmt.Sprintf("organiser:%d", x.UnionID)

	// Create a campaign through the form.
	w := e.do("POST", fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns", x.ID), orgX, url.Values{
		"csrf": {"test-csrf"}, "name": {"Push"}, "template1": {"Hi {first_name}, vote: {link}"}, "when1": {"now"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	campaign := w.Header().Get("Location")
	// Unknown placeholder: 400 with the form again.
	w = e.do("POST", fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns", x.ID), orgX, url.Values{
		"csrf": {"test-csrf"}, "name": {"Bad"}, "template1": {"Hi {name}: {link}"}, "when1": {"now"}})
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "placeholders") {
		t.Fatalf("unknown placeholder: %d", w.Code)
	}

	for _, p := range []string{campaign, campaign + "/status.json", fmt.Sprintf("/organiser/gotv/ballots/%d", x.ID),
		fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.json", x.ID), fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.csv", x.ID),
		fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns/new", x.ID)} {
		w := e.do("GET", p, orgX, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", p, w.Code)
		}
		if m := memberNameRE.FindString(w.Body.String()); m != "" {
			t.Fatalf("GET %s shows member data %q", p, m)
		}
	}
	page := e.do("GET", campaign, orgX, nil).Body.String()
	if !strings.Contains(page, "Hi Alex, vote: https://vote.example/i/") || !strings.Contains(page, `name="csrf" value="test-csrf"`) {
		t.Fatalf("preview or CSRF field missing:\n%s", page)
	}
	if strings.Contains(page, "nonvoters.csv") {
		t.Fatal("export link shown under the default policy")
	}
	if w := e.do("GET", campaign+"/nonvoters.csv", orgX, nil); w.Code != http.StatusForbidden {
		t.Fatalf("export under default policy: %d", w.Code)
	}
	// Scrutineer-only routes refuse organisers.
	if w := e.do("POST", fmt.Sprintf("/scrutineer/gotv/unions/%d/policy", x.UnionID), orgX,
		url.Values{"allow_export": {"on"}}); w.Code != http.StatusForbidden {
		t.Fatalf("organiser set policy: %d", w.Code)
	}
	if w := e.do("POST", fmt.Sprintf("/scrutineer/gotv/ballots/%d/reminders", x.ID), orgX,
		url.Values{"enabled": {"on"}}); w.Code != http.StatusForbidden {
		t.Fatalf("organiser enabled reminders: %d", w.Code)
	}
	// Not signed in: to the sign-in page.
	if w := e.do("GET", fmt.Sprintf("/organiser/gotv/ballots/%d", x.ID), "", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("anonymous: %d", w.Code)
	}

	// Union X cannot see union Y.
	for _, p := range []string{fmt.Sprintf("/organiser/gotv/ballots/%d", y.ID), fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.json", y.ID),
		fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.csv", y.ID), fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns/new", y.ID)} {
		if w := e.do("GET", p, orgX, nil); w.Code != http.StatusNotFound {
			t.Fatalf("X reads %s: %d", p, w.Code)
		}
	}
	if w := e.do("POST", fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns", y.ID), orgX, url.Values{
		"name": {"x"}, "template1": {"{link}"}}); w.Code != http.StatusNotFound {
		t.Fatalf("X creates in Y: %d", w.Code)
	}
	orgY := fmt.Sprintf("organiser:%d", y.UnionID)
	if w := e.do("GET", campaign, orgY, nil); w.Code != http.StatusNotFound {
		t.Fatalf("Y reads X's campaign: %d", w.Code)
	}
	if w := e.do("POST", campaign+"/cancel", orgY, url.Values{}); w.Code != http.StatusNotFound {
		t.Fatalf("Y cancels X's campaign: %d", w.Code)
	}

	// Policy allows export: names, audited in the same transaction.
	var before int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'gotv.nonvoters.export'`).Scan(&before))
	if w := e.do("POST", fmt.Sprintf("/scrutineer/gotv/unions/%d/policy", x.UnionID), "scrutineer",
		url.Values{"allow_export": {"on"}}); w.Code != http.StatusNoContent {
		t.Fatalf("scrutineer set policy: %d", w.Code)
	}
	w = e.do("GET", campaign+"/nonvoters.csv", orgX, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Member 1") {
		t.Fatalf("export allowed: %d", w.Code)
	}
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	must(t, err)
	if len(recs) != 31 {
		t.Fatalf("export rows: %d", len(recs))
	}
	var after int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'gotv.nonvoters.export'`).Scan(&after))
	if after != before+1 {
		t.Fatalf("export not audited: %d → %d", before, after)
	}
	if !strings.Contains(e.do("GET", campaign, orgX, nil).Body.String(), "nonvoters.csv") {
		t.Fatal("export link not shown when allowed")
	}

	// Schedule: refused until the scrutineer enables reminders.
	if w := e.do("POST", campaign+"/schedule", orgX, url.Values{}); w.Code != http.StatusConflict {
		t.Fatalf("schedule with reminders off: %d", w.Code)
	}
	if w := e.do("POST", fmt.Sprintf("/scrutineer/gotv/ballots/%d/reminders", x.ID), "scrutineer",
		url.Values{"enabled": {"on"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("enable reminders: %d", w.Code)
	}
	if w := e.do("POST", campaign+"/schedule", orgX, url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("schedule: %d", w.Code)
	}
	var js struct {
		Plan Plan `json:"plan"`
	}
	must(t, json.Unmarshal(e.do("GET", campaign+"/status.json", orgX, nil).Body.Bytes(), &js))
	if js.Plan.Recipients != 30 || js.Plan.Parts != 30 || js.Plan.CostPence != 120 {
		t.Fatalf("plan: %+v", js.Plan)
	}
}

// TestTurnoutSuppression: small cells never appear in the aggregates, the
// HTML or the CSV; the SVG charts are well-formed.
func TestTurnoutSuppression(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	e := newHTTPEnv(t, pool, clk)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-turnout", Members: 60, Open: true})
	ids := b.MemberIDs
	// Tiny Depot: 3 members (all voted); Small Branch: 4 members; big
	// branches: 28 and 28; Employer A 50, Employer B 10.
	set := func(q string, from, to int) {
		_, err := pool.Exec(ctx, q, ids[from:to])
		must(t, err)
	}
	set(`UPDATE register_entries SET workplace = 'Tiny Depot' WHERE member_id = ANY($1)`, 0, 3)
	set(`UPDATE members SET branch = 'Small Branch' WHERE id = ANY($1)`, 0, 4)
	set(`UPDATE members SET branch = 'Branch East' WHERE id = ANY($1)`, 4, 32)
	set(`UPDATE members SET branch = 'Branch West' WHERE id = ANY($1)`, 32, 60)
	set(`UPDATE members SET employer = 'Employer A' WHERE id = ANY($1)`, 0, 50)
	set(`UPDATE members SET employer = 'Employer B' WHERE id = ANY($1)`, 50, 60)
	_, err := pool.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, hour)
		SELECT $1, unnest($2::bigint[]), 'postal', date_trunc('hour', now() - interval '30 minutes')`, b.ID, ids[:25])
	must(t, err)

	// Turnout is shown as released at the hourly snapshots: the marks
	// above count from the next snapshot.
	clk.Set(time.Now().Add(2 * time.Hour))
	tr, err := e.s.Turnout(ctx, b.ID, "Other")
	must(t, err)
	if tr.Entitled != 60 || tr.Voted > 25 || len(tr.Releases) == 0 || len(tr.Breakdowns) != 1 {
		t.Fatalf("totals %d/%d, %d releases", tr.Voted, tr.Entitled, len(tr.Releases))
	}
	for _, bd := range tr.Breakdowns {
		sum := 0
		for _, c := range bd.Cells {
			if c.Entitled < DefaultMinCell {
				t.Fatalf("%s: cell %s with %d members shown", bd.Dimension, c.Label, c.Entitled)
			}
			if c.Label == "Tiny Depot" || c.Label == "Small Branch" {
				t.Fatalf("%s: small group %s shown", bd.Dimension, c.Label)
			}
			sum += c.Entitled
		}
		if !bd.Hidden && sum != 60 {
			t.Fatalf("%s: cells sum to %d", bd.Dimension, sum)
		}
	}
	org := fmt.Sprintf("organiser:%d", b.UnionID)
	html := e.do("GET", fmt.Sprintf("/organiser/gotv/ballots/%d", b.ID), org, nil).Body.String()
	csvBody := e.do("GET", fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.csv", b.ID), org, nil).Body.String()
	for _, doc := range []string{html, csvBody} {
		for _, small := range []string{"Tiny Depot", "Small Branch"} {
			if strings.Contains(doc, small) {
				t.Fatalf("%s appears in output", small)
			}
		}
	}
	if !strings.Contains(html, "Other") || strings.Contains(html, "Branch East") || !strings.Contains(csvBody, "workplace,Other") {
		t.Fatalf("expected cells missing")
	}
	recs, err := csv.NewReader(strings.NewReader(csvBody)).ReadAll()
	must(t, err)
	for _, r := range recs[1:] {
		if r[0] != "hour" && r[0] != "projection" && r[2] != "" {
			if n, _ := strconv.Atoi(r[2]); n < DefaultMinCell {
				t.Fatalf("CSV row with small cell: %v", r)
			}
		}
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(html, -1)
	if len(svgs) != 2 {
		t.Fatalf("%d SVG charts, want 2", len(svgs))
	}
	for _, s := range svgs {
		checkSVG(t, s)
	}
	if !strings.Contains(html, "<table>") || !strings.Contains(html, "<caption>") {
		t.Fatal("no data table alternative")
	}
	// Welsh page.
	cy := e.do("GET", fmt.Sprintf("/organiser/gotv/ballots/%d?lang=cy", b.ID), org, nil).Body.String()
	if !strings.Contains(cy, "Arall") || !strings.Contains(cy, `lang="cy"`) {
		t.Fatal("Welsh page not rendered in Welsh")
	}
	screenshot(t, e, fmt.Sprintf("/organiser/gotv/ballots/%d", b.ID), org)

	// A ballot smaller than the minimum shows nothing.
	small := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-small", Members: 8, Open: true})
	tr, err = e.s.Turnout(ctx, small.ID, "Other")
	must(t, err)
	if !tr.Suppressed || tr.Voted != 0 || tr.Entitled != 0 || tr.Breakdowns != nil {
		t.Fatalf("small ballot not suppressed: %+v", tr)
	}
	// A union's policy may raise the minimum.
	must(t, e.s.SetPolicy(ctx, scrutineer, b.UnionID, Policy{MinCell: 30}))
	tr, err = e.s.Turnout(ctx, b.ID, "Other")
	must(t, err)
	for _, bd := range tr.Breakdowns {
		for _, c := range bd.Cells {
			if c.Entitled < 30 {
				t.Fatalf("min cell 30: %s %s has %d", bd.Dimension, c.Label, c.Entitled)
			}
		}
	}
}

// screenshot saves a 360-px-wide PNG of a page with headless Chromium when
// it is installed (skipped otherwise), under $EBALLOT_TEST_ARTIFACTS or the
// test's temporary directory. The page is served with its stylesheet.
func screenshot(t *testing.T, e *httpEnv, path, who string) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Log("chromium not installed: no screenshot")
		return
	}
	ws, err := web.New(web.Options{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Pages: e.pages,
		Modules: []web.Module{e.s}, Middleware: []func(http.Handler) http.Handler{func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Set("X-Test-Staff", who)
				next.ServeHTTP(w, r)
			})
		}}})
	must(t, err)
	srv := httptest.NewServer(ws.Handler())
	defer srv.Close()
	dir := os.Getenv("EBALLOT_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, os.MkdirAll(dir, 0o755))
	out := filepath.Join(dir, "gotv-turnout-360.png")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--window-size=360,2400", "--screenshot="+out, srv.URL+path)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Logf("chromium failed (screenshot skipped): %v %s", err, b)
		return
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Fatalf("no screenshot: %v", err)
	}
	t.Logf("screenshot: %s", out)
}

// TestCampaignFiguresOnRelease plays an organiser watching a reminder
// campaign (issue 21): two identical ballots, each with the same campaign
// sent to everyone, except that in the second one member votes between
// two turnout snapshots, just before the reminder goes out. The member is
// left out of the send (the fake provider sees one text fewer), yet
// nothing the organiser can fetch — the campaign page, its JSON, the
// turnout JSON and CSV, the non-voter list the policy allows — differs
// between the two ballots, at that time or at the next snapshot.
func TestCampaignFiguresOnRelease(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	pages := testPages(t)
	s := newTestService(t, pool, svcOpts{sender: fake, clock: clk.Now, pages: pages, staff: headerStaff})
	r := chi.NewRouter()
	s.Routes(r)
	e := &httpEnv{t: t, s: s, h: r, pool: pool, pages: pages}

	type world struct {
		b        *electiontest.Ballot
		org, cmp string
	}
	var ws []world
	for _, name := range []string{"gotv-rel-a", "gotv-rel-b"} {
		b := electiontest.New(t, pool, electiontest.Options{ElectionID: name, Members: 40, Open: true})
		// Opened 30 hours ago; 20 members voted long before.
		_, err := pool.Exec(ctx, `UPDATE ballots SET opened_at = $2, closes_at = $3 WHERE id = $1`, b.ID,
			clk.Now().Add(-30*time.Hour), clk.Now().Add(72*time.Hour))
		must(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, hour)
			SELECT $1, unnest($2::bigint[]), 'postal', date_trunc('hour', $3::timestamptz)`, b.ID, b.MemberIDs[:20], clk.Now().Add(-20*time.Hour))
		must(t, err)
		org := fmt.Sprintf("organiser:%d", b.UnionID)
		w := e.do("POST", fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns", b.ID), org, url.Values{
			"csrf": {"test-csrf"}, "name": {"Push"}, "template1": {"Hi {first_name}, vote: {link}"}, "when1": {"now"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("create: %d %s", w.Code, w.Body)
		}
		cmp := w.Header().Get("Location")
		for _, q := range []struct {
			path string
			form url.Values
		}{{fmt.Sprintf("/scrutineer/gotv/ballots/%d/reminders", b.ID), url.Values{"enabled": {"on"}}},
			{fmt.Sprintf("/scrutineer/gotv/unions/%d/policy", b.UnionID), url.Values{"allow_export": {"on"}}}} {
			if w := e.do("POST", q.path, "scrutineer", q.form); w.Code >= 400 {
				t.Fatalf("POST %s: %d", q.path, w.Code)
			}
		}
		if w := e.do("POST", cmp+"/schedule", org, url.Values{}); w.Code != http.StatusSeeOther {
			t.Fatalf("schedule: %d", w.Code)
		}
		ws = append(ws, world{b: b, org: org, cmp: cmp})
	}
	// In the second ballot one more member votes, in this hour, before
	// the reminder is sent.
	_, err := pool.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, hour)
		VALUES ($1, $2, 'postal', date_trunc('hour', $3::timestamptz))`, ws[1].b.ID, ws[1].b.MemberIDs[30], clk.Now())
	must(t, err)
	drain(t, s)
	if a, b := fake.total(), 40; a != b-1 {
		t.Fatalf("the fake provider got %d texts, want %d (20 + 19 not voted)", a, b-1)
	}

	ids := regexp.MustCompile(`(?:ballots|campaigns|unions)/\d+|"(?:id|ballot_id|BallotID|ID|campaign)":\s*\d+|gotv-rel-[ab]|Test ballot|nonvoters-\d+`)
	view := func(w world) map[string]string {
		out := map[string]string{}
		for _, p := range []string{w.cmp, w.cmp + "/status.json", w.cmp + "/nonvoters.csv",
			fmt.Sprintf("/organiser/gotv/ballots/%d", w.b.ID), fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.json", w.b.ID),
			fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.csv", w.b.ID)} {
			rec := e.do("GET", p, w.org, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", p, rec.Code)
			}
			key := ids.ReplaceAllString(p, "")
			out[key] = ids.ReplaceAllString(rec.Body.String()+rec.Header().Get("Content-Disposition"), "")
		}
		return out
	}
	const nonvoters = "/organiser/gotv//nonvoters.csv"
	check := func(when string, except string) (a, b map[string]string) {
		a, b = view(ws[0]), view(ws[1])
		for k := range a {
			if k != except && a[k] != b[k] {
				t.Errorf("%s: %s differs when one member voted:\n%s\n---\n%s", when, k, a[k], b[k])
			}
		}
		return a, b
	}
	if a, _ := check("between snapshots", ""); !strings.Contains(a[nonvoters], "Member 31,") {
		t.Fatalf("the non-voter list lacks a member who has not voted:\n%s", a[nonvoters])
	}
	// At the next snapshot the member-level list the policy allows (and
	// only it) shows the vote: one row fewer, that member's.
	clk.Set(clk.Now().Add(time.Hour))
	a, b := check("at the next snapshot", nonvoters)
	if strings.Replace(a[nonvoters], "M000031,Member 31,+447700900030,North Depot,\n", "", 1) != b[nonvoters] {
		t.Fatalf("non-voter lists at the next snapshot:\n%s\n---\n%s", a[nonvoters], b[nonvoters])
	}

	// The campaign page says how many were handled, not how many sent.
	var js struct {
		Campaign Campaign `json:"campaign"`
		Plan     Plan     `json:"plan"`
	}
	must(t, json.Unmarshal(e.do("GET", ws[1].cmp+"/status.json", ws[1].org, nil).Body.Bytes(), &js))
	if st := js.Campaign.Steps; len(st) != 1 || st[0].Members != 40 || st[0].Done != 40 {
		t.Fatalf("steps: %+v", st)
	}
	if js.Plan.VotedAbout != 20 || js.Plan.VotedAsOf.IsZero() || js.Plan.Recipients != 40 {
		t.Fatalf("plan: %+v", js.Plan)
	}
}

// TestWelshReminders: reminders go in each member's preferred language
// from the register. The campaign form refuses a message without its
// Welsh text when a member of the segment prefers Welsh (in English and in
// Welsh), then shows the Welsh preview and how many get it; the worker
// sends the Welsh text (with a link that opens the pages in Welsh) to the
// member who prefers Welsh and the English one to the others. On a
// bilingual ballot the Welsh text is needed even when nobody prefers
// Welsh, and members with no preference get both.
func TestWelshReminders(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	clk := &clock{t: londonNoon()}
	e := newHTTPEnv(t, pool, clk)
	fake := e.s.sender.(*fakeSender)
	x := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-cy", Members: 30, Open: true})
	y := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-cy-both", Members: 30, Open: true})
	must(t, exec1(pool, `UPDATE members SET language = 'cy' WHERE id = $1`, x.MemberIDs[0]))
	must(t, exec1(pool, `UPDATE members SET language = 'en' WHERE id = $1`, x.MemberIDs[1]))
	must(t, exec1(pool, `UPDATE ballots SET config = coalesce(config, '{}'::jsonb) || '{"bilingual": true}' WHERE id = $1`, y.ID))
	mobile := func(id int64) string {
		return registertest.Mobile(t, pool, id)
	}
	lastTo := func(to string) string {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		for i := len(fake.msgs) - 1; i >= 0; i-- {
			if fake.msgs[i].To == to {
				return fake.msgs[i].Body
			}
		}
		return ""
	}
	const (
		en = "Hi {first_name}, please vote by {closes}: {link}"
		cy = "Helo {first_name}, pleidleisiwch erbyn {closes}: {link}"
	)
	run := func(b *electiontest.Ballot) {
		t.Helper()
		org := fmt.Sprintf("organiser:%d", b.UnionID)
		create := fmt.Sprintf("/organiser/gotv/ballots/%d/campaigns", b.ID)
		if w := e.do("POST", fmt.Sprintf("/scrutineer/gotv/ballots/%d/reminders", b.ID), "scrutineer",
			url.Values{"enabled": {"on"}}); w.Code != http.StatusSeeOther {
			t.Fatalf("enable reminders: %d", w.Code)
		}
		form := url.Values{"csrf": {"test-csrf"}, "name": {"Push"}, "template1": {en}, "when1": {"now"}}
		w := e.do("POST", create, org, form)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "write the Welsh text of each message too") ||
			!strings.Contains(w.Body.String(), `id="template_cy1"`) {
			t.Fatalf("%s: no Welsh text: %d %s", b.ElectionID, w.Code, w.Body)
		}
		if w := e.do("POST", create+"?lang=cy", org, form); w.Code != http.StatusBadRequest ||
			!strings.Contains(w.Body.String(), "ysgrifennwch destun Cymraeg pob neges hefyd") {
			t.Fatalf("%s: no Welsh text, Welsh page: %d", b.ElectionID, w.Code)
		}
		form.Set("template_cy1", cy)
		w = e.do("POST", create, org, form)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%s: create: %d %s", b.ElectionID, w.Code, w.Body)
		}
		campaign := w.Header().Get("Location")
		body := e.do("GET", campaign, org, nil).Body.String()
		if !strings.Contains(body, `id="preview-cy">Helo Alex, pleidleisiwch erbyn `) || !strings.Contains(body, "?lang=cy</blockquote>") {
			t.Fatalf("%s: Welsh preview missing:\n%s", b.ElectionID, body)
		}
		if w := e.do("POST", campaign+"/schedule", org, url.Values{}); w.Code != http.StatusSeeOther {
			t.Fatalf("schedule: %d", w.Code)
		}
		for i := 0; i < 5; i++ {
			if _, err := e.s.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}

	run(x)
	welshCount := regexp.MustCompile(`id="prefer-welsh">(\d+)<`)
	cyText, enText, noneText := lastTo(mobile(x.MemberIDs[0])), lastTo(mobile(x.MemberIDs[1])), lastTo(mobile(x.MemberIDs[2]))
	if !strings.HasPrefix(cyText, "Helo ") || !strings.Contains(cyText, "?lang=cy") || strings.Contains(cyText, "Hi ") {
		t.Errorf("Welsh member's reminder: %q", cyText)
	}
	if !regexp.MustCompile(`erbyn \d+ (Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr) \d\d:\d\d`).MatchString(cyText) {
		t.Errorf("Welsh reminder's closing time is not in Welsh: %q", cyText)
	}
	for who, txt := range map[string]string{"English": enText, "no preference": noneText} {
		if !strings.HasPrefix(txt, "Hi ") || strings.Contains(txt, "Helo") || strings.Contains(txt, "lang=cy") {
			t.Errorf("%s member's reminder: %q", who, txt)
		}
	}
	var cs []Campaign
	cs, err := e.s.Campaigns(ctx, organiser(x.UnionID), x.ID)
	must(t, err)
	if m := welshCount.FindStringSubmatch(e.do("GET", fmt.Sprintf("/organiser/gotv/campaigns/%d", cs[0].ID),
		fmt.Sprintf("organiser:%d", x.UnionID), nil).Body.String()); m == nil || m[1] != "1" {
		t.Errorf("the campaign page does not say how many members prefer Welsh: %v", m)
	}

	// A bilingual ballot: nobody prefers Welsh, the Welsh text is still
	// needed, and every member gets both.
	run(y)
	both := lastTo(mobile(y.MemberIDs[3]))
	en1, cy1, ok := strings.Cut(both, "\n\n")
	if !ok || !strings.HasPrefix(en1, "Hi ") || !strings.HasPrefix(cy1, "Helo ") || !strings.Contains(cy1, "?lang=cy") {
		t.Errorf("bilingual ballot's reminder: %q", both)
	}
}

func exec1(pool *pgxpool.Pool, sql string, args ...any) error {
	tag, err := pool.Exec(context.Background(), sql, args...)
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("%s: %d rows", sql, tag.RowsAffected())
	}
	return err
}
