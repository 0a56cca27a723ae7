package systemtest

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
)

// TestOrganiserOfAnotherUnion: an organiser of union A sends every
// organiser route (pages, CSV and JSON exports, forms) for union B's
// ballot and campaign: every answer is 403 or 404, none shows B's title or
// members, and nothing of B changes.
func TestOrganiserOfAnotherUnion(t *testing.T) {
	s := newSystem(t, 4)
	other := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "other-union-ballot", Members: 3,
		Ledger: ledgerAdapter{s.svc.Ledger}, Open: true})
	s.exec(`UPDATE ballots SET title = 'Secret ballot of union B' WHERE id = $1`, other.ID)
	s.exec(`UPDATE members SET name = 'Bee Member ' || id, name_sealed = NULL WHERE union_id = $1`, other.UnionID)
	if _, err := s.svc.Register.IndexMembers(context.Background()); err != nil { // sealed, as on startup
		t.Fatal(err)
	}
	bCampaign := s.queryInt(`INSERT INTO gotv_campaigns (ballot_id, name, created_by, created_at) VALUES ($1, 'B campaign', 'test', now()) RETURNING id`, other.ID)
	a := s.staff("organiser", s.ballot.UnionID)
	a.signedInPage("organiser")
	// A's own pages work (the test is not vacuous).
	if r := a.get(fmt.Sprintf("/organiser/ballots/%d", s.ballot.ID)); r.code != 200 {
		t.Fatalf("own ballot: %d", r.code)
	}
	before := s.snapshot()
	params := map[string]string{"id": fmt.Sprint(other.ID), "cid": fmt.Sprint(bCampaign)}
	n := 0
	for _, rt := range s.routes() {
		method, route := rt[0], rt[1]
		if !strings.HasPrefix(route, "/organiser/") || !strings.Contains(route, "{") {
			continue
		}
		path := fill(route, params)
		var r resp
		if method == http.MethodGet {
			r = a.get(path)
		} else {
			r = a.postForm(path, url.Values{"csrf": {a.CSRF}, "name": {"x"}, "title": {"x"}, "template1": {"Hi {first_name} {link}"}, "when1": {"now"}})
		}
		n++
		if r.code != http.StatusForbidden && r.code != http.StatusNotFound {
			t.Errorf("%s %s as union A's organiser: %d %.200s", method, path, r.code, r.body)
		}
		if strings.Contains(r.body, "union B") || strings.Contains(r.body, "Bee Member") {
			t.Errorf("%s %s shows union B's data", method, path)
		}
	}
	// The organiser's lists do not show B's ballot either.
	for _, p := range []string{"/organiser", "/staff"} {
		if r := a.get(p); strings.Contains(r.body, "union B") {
			t.Errorf("%s lists union B's ballot", p)
		}
	}
	s.sameSnapshot(before)
	if n < 10 {
		t.Fatalf("only %d organiser routes with an id", n)
	}
	t.Logf("%d cross-union requests refused", n)
}

// xss is a payload that runs script if any page writes it unescaped.
const xss = `<script>alert(1)</script><img src=x onerror=alert(2)>"'><svg onload=alert(3)>`

var phoneRE = regexp.MustCompile(`^\+[0-9]{7,15}$`)

var rawXSS = regexp.MustCompile(`<script>alert|<img src=x|<svg onload`)

// TestXSSEscapedEverywhere puts script in a ballot title, a union name,
// members' names, workplaces and branches (through the database and
// through a register CSV upload) and fetches every GET route as every
// kind of visitor: no HTML answer contains the payload unescaped, and the
// JSON and CSV answers are served as such (never as HTML).
func TestXSSEscapedEverywhere(t *testing.T) {
	s := newSystem(t, 4)
	cid := s.newCampaign()
	s.exec(`UPDATE ballots SET title = $1 WHERE id = $2`, "Pay "+xss, s.ballot.ID)
	s.exec(`UPDATE unions SET name = $1 WHERE id = $2`, "Union "+xss, s.ballot.UnionID)
	s.exec(`UPDATE members SET name = $1, name_sealed = NULL, branch = $1 WHERE union_id = $2`, xss+" Name", s.ballot.UnionID)
	if _, err := s.svc.Register.IndexMembers(context.Background()); err != nil { // sealed, as on startup
		t.Fatal(err)
	}
	s.exec(`UPDATE register_entries SET workplace = $1 WHERE ballot_id = $2`, "Depot "+xss, s.ballot.ID)
	s.exec(`UPDATE gotv_campaigns SET name = $1 WHERE id = $2`, "Campaign "+xss, cid)
	s.exec(`INSERT INTO gotv_ballot_settings (ballot_id, reminders_enabled, decided_by, decided_at) VALUES ($1, true, 'test', now()) ON CONFLICT (ballot_id) DO NOTHING`, s.ballot.ID)

	// A register CSV with the payload, uploaded to a draft ballot.
	draft := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "draft-xss"})
	org2 := s.staff("organiser", draft.UnionID)
	org2.signedInPage("organiser")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "register.csv")
	fmt.Fprintf(fw, "member_number,name,mobile,email,workplace,branch,employer\nX1,\"%s\",07911 123456,x@example.org,North Depot,\"%s\",Acme Transport Ltd\nX2,\"=HYPERLINK(\"\"http://evil\"\")\",07911 123457,,\"%s\",Cardiff,\"%s\"\n",
		strings.ReplaceAll(xss, `"`, `""`), strings.ReplaceAll(xss, `"`, `""`), strings.ReplaceAll(xss, `"`, `""`), strings.ReplaceAll(xss, `"`, `""`))
	mw.Close()
	r := org2.send("POST", fmt.Sprintf("/organiser/ballots/%d/register", draft.ID), mw.FormDataContentType(), &buf, map[string]string{"X-CSRF-Token": org2.CSRF})
	checkNoXSS(t, "register preview", r)
	if sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(r.body); sha != nil {
		r = org2.postForm(fmt.Sprintf("/organiser/ballots/%d/register/commit", draft.ID), url.Values{"csrf": {org2.CSRF}, "sha256": {sha[1]}})
		checkNoXSS(t, "register commit", r)
	}

	params := map[string]string{"election": s.ballot.ElectionID, "id": fmt.Sprint(s.ballot.ID), "cid": fmt.Sprint(cid)}
	visitors := map[string]*client{
		"anonymous":  s.client(),
		"member":     s.member(0),
		"organiser":  s.staff("organiser", s.ballot.UnionID),
		"scrutineer": s.staff("scrutineer", 0),
	}
	s.exec(`INSERT INTO gotv_policies (union_id, allow_nonvoter_export, min_cell, updated_by, updated_at) VALUES ($1, true, 2, 'test', now()) ON CONFLICT (union_id) DO UPDATE SET allow_nonvoter_export = true, min_cell = 2`, s.ballot.UnionID)
	shown := 0
	for _, rt := range s.routes() {
		if rt[0] != http.MethodGet || rt[1] == "/static/*" {
			continue
		}
		for who, c := range visitors {
			r := c.get(fill(rt[1], params) + "?lang=en")
			checkNoXSS(t, rt[1]+" as "+who, r)
			if strings.Contains(r.body, "alert(") {
				shown++
			}
		}
	}
	for _, p := range []string{fmt.Sprintf("/organiser/ballots/%d", draft.ID), fmt.Sprintf("/organiser/ballots/%d/register", draft.ID)} {
		r := org2.get(p)
		checkNoXSS(t, p, r)
		if strings.Contains(r.body, "alert(") {
			shown++
		}
	}
	if shown < 5 {
		t.Fatalf("the payload (escaped) appeared in only %d answers: the pages tested do not show the data", shown)
	}
	t.Logf("payload shown, escaped, in %d answers", shown)
}

func checkNoXSS(t *testing.T, what string, r resp) {
	t.Helper()
	ct := r.h.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "text/html"):
		if loc := rawXSS.FindStringIndex(r.body); loc != nil {
			t.Errorf("%s: unescaped payload in HTML: …%s…", what, r.body[max(0, loc[0]-80):min(len(r.body), loc[1]+40)])
		}
	case strings.HasPrefix(ct, "text/csv"):
		if !strings.Contains(r.h.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s: CSV not served as an attachment", what)
		}
		for _, line := range strings.Split(r.body, "\n") {
			for _, f := range strings.Split(line, ",") {
				f = strings.TrimLeft(f, `"`)
				if phoneRE.MatchString(f) { // a number in E.164 is not a formula
					continue
				}
				if strings.HasPrefix(f, "=") || strings.HasPrefix(f, "+") || strings.HasPrefix(f, "@") || strings.HasPrefix(f, "-") {
					t.Errorf("%s: CSV cell starts a formula: %q", what, f)
				}
			}
		}
	case ct == "" && r.body != "":
		t.Errorf("%s: body without a Content-Type", what)
	}
}
