package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/ledger/ledgertest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/result/resulttest"
	"github.com/unionvote/eballot/internal/web"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// A union election's result (s.52) in a real browser at 360 px, in
// English and Welsh, with axe: the scrutineer's result page with the
// contest's upload form, then, once the signed election report is
// published, the members' result page (its stage table in a scrollable
// region, its technical details opened too) and the ballot's result page
// listing the contest. The upload itself is tested over HTTP
// (internal/result TestPublishElectionReport).
func TestElectionResultInBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	led := ledgertest.New(t, pool, electiontest.SecretKey)
	skey, vkey, err := note.GenerateKey(rand.Reader, "scrutineers.example")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "exec-result", Members: 10, Ledger: ledger.HandOver{L: led}, Ready: true, ScrutineerKey: vkey, Welsh: true})
	electiontest.UnionElection(t, b)
	if err := b.Admin.Close(ctx, "scrutineer:test", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	mj, _, err := led.Manifest(ctx, "exec-result")
	if err != nil {
		t.Fatal(err)
	}
	contest := resulttest.NewContest(t, mj)

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
	svc := result.New(pool, b.Store, ledger.HandOver{L: led}, nil)
	srv, err := web.New(web.Options{Log: log, Registry: prometheus.NewRegistry(), Pages: pages, Modules: []web.Module{
		result.NewPages(svc, b.Admin, b.Store, b.Register, pages, webtest.Staff, "http://localhost"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	scr := &staffBrowser{browser: newBrowser(t, "election-result-scrutineer"), base: hs.URL}
	scr.run(network.Enable(), network.SetExtraHTTPHeaders(network.Headers{webtest.RoleHeader: "scrutineer", webtest.UnionHeader: "0"}))
	scr.both("scrutineer's result page with the contest's upload form", fmt.Sprintf("/scrutineer/ballots/%d/result", b.ID))

	js, sig := contest.Sign(t, signer, nil)
	if _, err := svc.PublishElection(ctx, "scrutineer:test", b.ID, result.ElectionUpload{Report: js, Signature: sig}); err != nil {
		t.Fatal(err)
	}
	member := &staffBrowser{browser: newBrowser(t, "election-result-member"), base: hs.URL}
	path := "/results/exec-result/election/" + contest.EC.Question
	member.both("election result", path)
	for _, lang := range langs {
		member.run(chromedp.Navigate(hs.URL+path+"?lang="+lang), chromedp.Click(`details summary`, chromedp.ByQuery),
			chromedp.WaitVisible(`a[href$="election-report.json.sig"]`, chromedp.ByQuery))
		member.check("election result, technical details open "+lang, lang, 200)
	}
	member.both("ballot result listing the contest", "/results/exec-result")
}
