package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/vote"
	"github.com/unionvote/eballot/internal/web"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// A union election's pages in a real browser at 360 px, in English and
// Welsh, with axe: the organiser's contests and candidates page and a
// candidate's election address form (a draft), and, of an opened
// election, the voting paper (its ranked contest with the ranking
// widget mounted) and the members' page of the candidates' election
// addresses, whose photo is lazy-loaded at its own size.
func TestElectionPagesInBrowser(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	pool := pgtest.NewDB(t)
	draft := electiontest.New(t, pool, electiontest.Options{ElectionID: "exec-draft", Members: 2, Ready: true})
	electiontest.UnionElectionDraft(t, draft)
	open := electiontest.New(t, pool, electiontest.Options{ElectionID: "exec-open", Members: 2, Ready: true})
	electiontest.UnionElection(t, open)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := election.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	tfs, files, cfs, dir := vote.Templates()
	if err := pages.AddTemplates(tfs, files...); err != nil {
		t.Fatal(err)
	}
	if err := pages.AddCatalog(cfs, dir); err != nil {
		t.Fatal(err)
	}
	// The member too comes from a test header (internal/auth's session is
	// tested on its own).
	voting := vote.New(vote.Deps{Ballots: open.Store, Register: open.Register, Issuance: issuance.New(pool, electiontest.SecretKey),
		Pages: pages, Log: log, SignIn: "/signin", CSRF: func(*http.Request) string { return "tok" },
		Member: func(r *http.Request) (int64, bool) {
			id, err := strconv.ParseInt(r.Header.Get("X-Test-Member"), 10, 64)
			return id, err == nil
		}})
	// The staff member comes from test headers standing in for the session
	// (webtest.Staff); the site's own middleware, headers and assets.
	srv, err := web.New(web.Options{Log: log, Registry: prometheus.NewRegistry(), Pages: pages, Modules: []web.Module{
		election.NewHomePage(draft.Store, pages, false),
		election.NewAdminPages(draft.Admin, draft.Store, pages, webtest.Staff, log),
		voting,
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	org := &staffBrowser{browser: newBrowser(t, "election-organiser"), base: hs.URL}
	org.run(network.Enable(), network.SetExtraHTTPHeaders(network.Headers{webtest.RoleHeader: "organiser",
		webtest.UnionHeader: fmt.Sprint(draft.UnionID)}))
	base := fmt.Sprintf("/organiser/ballots/%d/election", draft.ID)
	org.both("contests and candidates", base)
	org.both("election address form", base+"/contests/c1/candidates/k1/address")

	member := &staffBrowser{browser: newBrowser(t, "election-member"), base: hs.URL}
	member.run(network.Enable(), network.SetExtraHTTPHeaders(network.Headers{"X-Test-Member": fmt.Sprint(open.MemberIDs[0])}))
	// The voting paper: the ranked contest reads without the widget, and
	// links to the addresses.
	member.both("union election voting paper", "/vote/exec-open")
	// The ranking widget mounts on the ranked contest (its own keyboard
	// and screen reader test is TestRankingWidget).
	var mounted bool
	member.run(chromedp.Navigate(hs.URL+"/vote/exec-open?lang=en"),
		chromedp.Poll(`!!document.querySelector('#contest-c1').rankingWidget`, &mounted))
	member.both("election addresses", "/ballots/exec-open/addresses")
	// The photo: lazy, sized by its attributes, and it loads once in view.
	var img struct {
		Loading       string
		Width, Height int
		Natural       int
	}
	member.run(chromedp.Navigate(hs.URL+"/ballots/exec-open/addresses?lang=en"),
		chromedp.ScrollIntoView(`img.candidate-photo`, chromedp.ByQuery),
		chromedp.Poll(`(() => { const i = document.querySelector('img.candidate-photo'); return i.complete && i.naturalWidth > 0; })()`, nil),
		chromedp.Evaluate(`(() => { const i = document.querySelector('img.candidate-photo');
			return {Loading: i.loading, Width: i.width, Height: i.height, Natural: i.naturalWidth}; })()`, &img))
	if img.Loading != "lazy" || img.Natural != 60 || img.Width < 1 || img.Width > 360 || img.Height < 1 {
		t.Errorf("photo: %+v", img)
	}
	res, err := http.Get(hs.URL + "/ballots/exec-draft/addresses")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Errorf("a draft's addresses: %d", res.StatusCode)
	}
}
