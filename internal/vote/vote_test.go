package vote_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/vote"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func server(t *testing.T, b *electiontest.Ballot) (*httptest.Server, *issuance.Service) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	tfs, files, cfs, dir := vote.Templates()
	if err := pages.AddTemplates(tfs, files...); err != nil {
		t.Fatal(err)
	}
	if err := pages.AddCatalog(cfs, dir); err != nil {
		t.Fatal(err)
	}
	pool := b.Pool
	iss := issuance.New(pool, electiontest.SecretKey)
	m := vote.New(vote.Deps{Ballots: election.NewStore(pool), Register: register.NewStore(pool, electiontest.SecretKey), Issuance: iss, Pages: pages, Log: log, SignIn: "/signin",
		Member: func(r *http.Request) (int64, bool) {
			id, err := strconv.ParseInt(r.Header.Get("X-Test-Member"), 10, 64)
			return id, err == nil
		},
		CSRF: func(*http.Request) string { return "tok" },
	})
	r := chi.NewRouter()
	m.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, iss
}

func get(t *testing.T, u string, member int64, lang string) (int, string) {
	req, _ := http.NewRequest("GET", u, nil)
	if member != 0 {
		req.Header.Set("X-Test-Member", strconv.FormatInt(member, 10))
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The voting paper carries every item s.229 requires, from the frozen
// manifest, and the member's own voting-paper number.
func TestVotingPaperStatutoryContent(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "paper", Members: 3, Open: true})
	srv, _ := server(t, b)
	status, body := get(t, srv.URL+"/vote/paper", b.MemberIDs[0], "")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	var paper int
	pool.QueryRow(context.Background(), `SELECT paper_number FROM register_entries WHERE member_id = $1`, b.MemberIDs[0]).Scan(&paper)
	reg, _ := election.RegimeFor(b.OpenedAt())
	for _, want := range []string{
		"Voting paper number <strong>" + strconv.Itoa(paper) + "</strong>", // s.229(1A)(c)–(d)
		"Independent Scrutineers Ltd",                                      // s.229(1A)(a)
		"Vote by", "(UK time)",                                             // s.229(1A)(b)
		"Are you prepared to take part in a strike?", // s.229(2)
		"Are you prepared to take part in industrial action short of a strike?",
		"Pay for 2026.", "Overtime ban.", "January to June 2027.", // s.229(2B)–(2D)
		"The General Secretary.",           // s.229(3)
		template(reg.Texts["s229_4"].Text), // s.229(4), verbatim
		`data-csrf="tok"`, `src="/static/vote.`, `data-bundle="/static/eballot.`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("voting paper lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") && !strings.Contains(body, `<script type="module" src=`) {
		t.Error("inline script on the page")
	}
	// Welsh.
	if _, cy := get(t, srv.URL+"/vote/paper", b.MemberIDs[0], "cy"); !strings.Contains(cy, "Rhif y papur pleidleisio") {
		t.Error("no Welsh voting paper")
	}
}

func template(s string) string { return strings.ReplaceAll(s, "'", "&#39;") }

func TestVotingPaperAccess(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "acc", Members: 2, Open: true})
	other := electiontest.New(t, pool, electiontest.Options{ElectionID: "acc-other", Members: 1, Open: true})
	srv, iss := server(t, b)
	if status, _ := get(t, srv.URL+"/vote/acc", 0, ""); status != http.StatusSeeOther {
		t.Errorf("signed out: %d", status)
	}
	if status, _ := get(t, srv.URL+"/vote/acc", other.MemberIDs[0], ""); status != 404 {
		t.Errorf("member of another ballot: %d", status)
	}
	// After an authorisation the paper is not offered again; the member
	// sees the hour it was issued and can report it.
	var m struct {
		Styles []struct {
			IssuerKey string `json:"issuer_key"`
		} `json:"styles"`
	}
	var raw []byte
	pool.QueryRow(context.Background(), `SELECT manifest FROM ballots WHERE election_id = 'acc'`).Scan(&raw)
	json.Unmarshal(raw, &m)
	der, _ := decodeB64(m.Styles[0].IssuerKey)
	pk, err := blind.ParsePublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	tr := make([]byte, 32)
	rand.Read(tr)
	prep, _ := blind.Prepare(rand.Reader, tr)
	msg, _, _ := blind.Blind(rand.Reader, pk, prep)
	if _, err := iss.Authorise(context.Background(), "acc", b.MemberIDs[0], msg); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, srv.URL+"/vote/acc", b.MemberIDs[0], "")
	if !strings.Contains(body, "You have voted") || strings.Contains(body, `id="paper"`) || !strings.Contains(body, "This wasn&#39;t me") {
		t.Fatalf("after authorisation: %s", body)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/vote/acc/not-me", strings.NewReader(url.Values{"note": {"not me"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-Member", strconv.FormatInt(b.MemberIDs[0], 10))
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("not-me: %v %d", err, resp.StatusCode)
	}
	var n int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM impersonation_reports`).Scan(&n)
	if n != 1 {
		t.Fatalf("reports: %d", n)
	}
	// The public check page needs no sign-in.
	if status, body := get(t, srv.URL+"/check/acc", 0, ""); status != 200 || !strings.Contains(body, "Check my vote") {
		t.Errorf("check page: %d", status)
	}
	if status, _ := get(t, srv.URL+"/check/nope", 0, ""); status != 404 {
		t.Errorf("check unknown: %d", status)
	}
}

func decodeB64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// A union election's voting paper: the ranked contest reads without
// JavaScript (its candidates in order, each with a link to their
// election address) and carries the ranking widget's mount point with
// the contest's bounds; the choose contest is an ordinary question; the
// paper links to the candidates' election addresses (s.48), in Welsh too.
func TestVotingPaperUnionElection(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "exec", Members: 2, Ready: true})
	electiontest.UnionElection(t, b)
	srv, _ := server(t, b)
	status, body := get(t, srv.URL+"/vote/exec", b.MemberIDs[0], "")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`<a href="/ballots/exec/addresses">Read the candidates&#39; election addresses</a>`,
		// The ranking widget's markup (h26-js ranking.js): a select of
		// preferences 1..max per candidate, the option index on the li.
		`data-question="0" data-method="ranked" data-min="1" data-max="4" data-seats="2" data-rule="meek">`,
		`<fieldset class="ranking" id="contest-c1" data-ranking data-texts="{`, `<script type="module" src="/static/ranking.`,
		`<li data-candidate="0"><label for="q0c0"><span class="ranking-name" lang="en">Ann Jones</span>`,
		`<select id="q0c0" name="rank-0-0"><option value="">Not ranked</option><option value="1">1</option><option value="2">2</option><option value="3">3</option><option value="4">4</option></select>`,
		`<p class="ranking-address"><a href="/ballots/exec/addresses#c1-k1" aria-label="election address: Ann Jones">election address</a></p>`,
		`<fieldset class="question" data-question="1" data-min="0" data-max="1">`, "Eve Price",
		`<dd id="independent-person">Jo Bloggs, Ballot Services Ltd</dd>`, // s.51A, from the signed manifest
		// Version-2 ballots: the ranked bundle, and the too-few message.
		`data-bundle="/static/eballot-ranked.`, `<p class="error" id="too-few" hidden role="alert">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("voting paper lacks %q", want)
		}
	}
	if strings.Contains(body, `#c1-k3"`) || strings.Contains(body, `<option value="5">`) {
		t.Error("an address link without an address, or a fifth preference")
	}
	if strings.Contains(body, `name="q0"`) {
		t.Error("the ranked contest is rendered as marks")
	}
	if strings.Contains(body, `data-bundle="/static/eballot.`) {
		t.Error("a version-2 paper loads the yes/no bundle")
	}
	if !strings.Contains(body, `id="audit"`) {
		t.Error("a version-2 paper does not offer the audit (docs/protocol.md §4.4)")
	}
	if _, cy := get(t, srv.URL+"/vote/exec", b.MemberIDs[0], "cy"); !strings.Contains(cy, "Darllen anerchiadau etholiad yr ymgeiswyr") {
		t.Error("no Welsh link to the addresses")
	}
}
