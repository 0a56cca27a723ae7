package vote_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/vote"
	"github.com/unionvote/eballot/internal/web"
)

// PageBudget is the most a member downloads, compressed, for the whole vote
// journey's first load (page, styles, scripts, crypto bundle): members pay
// for data.
const PageBudget = 150 << 10

// TestPageWeight measures the vote journey's first load through the real
// HTTP stack (compression and static assets) and logs the figure recorded
// in docs/benchmarks.md.
func TestPageWeight(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "weight", Members: 1, Open: true})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	tfs, files, cfs, dir := vote.Templates()
	must(t, pages.AddTemplates(tfs, files...))
	must(t, pages.AddCatalog(cfs, dir))
	m := vote.New(vote.Deps{Ballots: election.NewStore(pool), Register: register.NewStore(pool, electiontest.SecretKey), Issuance: issuance.New(pool, electiontest.SecretKey), Pages: pages, Log: log, SignIn: "/",
		Member: func(*http.Request) (int64, bool) { return b.MemberIDs[0], true },
		CSRF:   func(*http.Request) string { return "t" }})
	srv, err := web.New(web.Options{Log: log, DB: pool, Registry: prometheus.NewRegistry(),
		Pages: pages, Modules: []web.Module{m}})
	must(t, err)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	fetch := func(path string) (int, []byte) {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", ts.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client then does not decompress
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: %d, encoding %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		return len(body), body
	}
	total, page := fetch("/vote/weight")
	html := string(gunzip(t, page))
	assets := regexp.MustCompile(`(?:href|src|data-bundle)="(/static/[^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(assets) < 3 {
		t.Fatalf("expected css, script and bundle on the page, found %v", assets)
	}
	for _, a := range assets {
		n, _ := fetch(a[1])
		t.Logf("%-45s %6d bytes gzip", a[1], n)
		total += n
	}
	t.Logf("vote journey first load: %d bytes compressed (budget %d)", total, PageBudget)
	if total > PageBudget {
		t.Fatalf("vote journey first load is %d bytes compressed, over the %d budget", total, PageBudget)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
