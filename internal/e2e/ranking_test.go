package e2e

import (
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/unionvote/eballot/internal/web/page"
)

// rankingHarness is a voting paper of one ranked contest as a page renders
// it for the ranking widget (internal/web/page/static/ranking.js,
// crypto/js/README.md "Ranking widget"): a select of preference numbers a
// candidate, which the widget enhances. Served under a strict CSP (no
// inline script or style).
var rankingHarness = template.Must(template.New("h").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ranking</title><link rel="stylesheet" href="/static/app.css"><link rel="stylesheet" href="/static/ranking.css"></head>
<body><main><h1>Executive committee</h1><form method="post" action="/">
<fieldset class="ranking" data-ranking data-min="1" data-max="{{.Max}}" data-texts="{{.Texts}}">
<legend>Executive committee: 2 places</legend>
<ol class="ranking-candidates">
{{range $i, $c := .Candidates}}<li data-candidate="{{$i}}"><label for="c{{$i}}"><span class="ranking-name">{{$c}}</span> {{$.Pref}}</label>
<select id="c{{$i}}" name="rank-{{$i}}"><option value="">{{$.NotChosen}}</option>{{range $.Numbers}}<option value="{{.}}">{{.}}</option>{{end}}</select></li>
{{end}}</ol></fieldset></form></main>
<script type="module" src="/static/ranking.js"></script></body></html>`))

var rankingCandidates = []string{"Ann Jones", "Bronwen Angharad Llewellyn-Pritchard", "Carl Smith", "Dev Patel", "Eve Owen"}

func rankingServer(t *testing.T) *httptest.Server {
	t.Helper()
	p, err := page.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	static := filepath.Join("..", "web", "page", "static")
	mux := http.NewServeMux()
	for _, f := range []string{"app.css", "ranking.css", "ranking.js"} {
		b, err := os.ReadFile(filepath.Join(static, f))
		if err != nil {
			t.Fatal(err)
		}
		ctype := "text/css; charset=utf-8"
		if strings.HasSuffix(f, ".js") {
			ctype = "text/javascript; charset=utf-8"
		}
		mux.HandleFunc("GET /static/"+f, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ctype)
			_, _ = w.Write(b)
		})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		lang := r.URL.Query().Get("lang")
		if lang != "cy" {
			lang = "en"
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err := rankingHarness.Execute(w, map[string]any{
			"Lang": lang, "Max": 3, "Texts": p.RankingTexts(lang), "Candidates": rankingCandidates,
			"Pref": p.T(lang, "ranking.preference"), "NotChosen": p.T(lang, "ranking.not_chosen"), "Numbers": []int{1, 2, 3},
		})
		if err != nil {
			t.Error(err)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestRankingWidget ranks candidates in a real Chromium at 360 px by
// keyboard alone (Enter on the focused button, as a switch or screen
// reader user does): add, move up and down, remove; every change is
// announced in the live region, focus stays on the candidate moved, the
// plain form's selects follow, the most preferences allowed is enforced and
// said, nothing scrolls sideways, every button is a 44 px target, and axe
// finds no serious WCAG 2.2 AA violation before and after, in English and
// in Welsh.
func TestRankingWidget(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	srv := rankingServer(t)
	b := newBrowser(t, "ranking")
	live := func() string {
		var s string
		b.run(chromedp.Text(`.ranking-live`, &s, chromedp.ByQuery))
		return s
	}
	var ranking []int
	state := func() []int {
		b.run(chromedp.Evaluate(`document.querySelector('fieldset[data-ranking]').rankingWidget.ranking()`, &ranking))
		return ranking
	}
	focused := func() string {
		var s string
		b.run(chromedp.Evaluate(`(() => { const e = document.activeElement; return e && e.dataset.action ? e.dataset.action + ' ' + e.dataset.id : String(e && e.tagName) })()`, &s))
		return s
	}
	press := func(sel string) {
		b.t.Helper()
		b.run(chromedp.Focus(sel, chromedp.ByQuery), chromedp.KeyEvent("\r"))
	}
	// Enter on the button that has focus now.
	enter := func() { b.run(chromedp.KeyEvent("\r")) }
	btn := func(action string, id int) string {
		return fmt.Sprintf(`button[data-action="%s"][data-id="%d"]`, action, id)
	}
	expect := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}

	b.run(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(`.ranking-ui`, chromedp.ByQuery))
	var hidden bool
	b.run(chromedp.Evaluate(`document.querySelector('.ranking-candidates').hidden`, &hidden))
	expect("plain list hidden once enhanced", hidden, true)
	b.axe("ranking (en, empty)")
	b.shot("ranking-empty")

	press(btn("add", 1))
	expect("announcement", live(), rankingCandidates[1]+" added as number 1.")
	expect("focus after add", focused(), "add 2") // the next candidate to add
	press(btn("add", 3))
	press(btn("add", 0))
	expect("ranking", state(), []int{1, 3, 0})
	expect("announcement", live(), rankingCandidates[0]+" added as number 3. You have ranked the most candidates you can (3).")
	var disabled []bool
	b.run(chromedp.Evaluate(`[...document.querySelectorAll('button[data-action="add"]')].map((x) => x.disabled)`, &disabled))
	expect("add buttons when full", disabled, []bool{true, true})
	var fullShown bool
	b.run(chromedp.Evaluate(`!document.querySelector('.ranking-full').hidden`, &fullShown))
	expect("full message shown", fullShown, true)

	press(btn("up", 0))
	expect("ranking after move up", state(), []int{1, 0, 3})
	expect("announcement", live(), rankingCandidates[0]+" is now number 2.")
	expect("focus stays on the moved candidate", focused(), "up 0")
	enter()
	expect("ranking after a second move up", state(), []int{0, 1, 3})
	expect("focus when first (move up disabled)", focused(), "down 0")
	enter()
	expect("ranking after move down", state(), []int{1, 0, 3})
	press(btn("remove", 1))
	expect("ranking after remove", state(), []int{0, 3})
	expect("announcement", live(), rankingCandidates[1]+" removed from your ranking.")
	var selects []string
	b.run(chromedp.Evaluate(`[...document.querySelectorAll('select')].map((s) => s.value)`, &selects))
	expect("selects follow the ranking", selects, []string{"1", "", "", "2", ""})

	// 360 px: no sideways scrolling; every button a 44 px target.
	var geo struct {
		Scroll, Inner float64
		Small         []string
	}
	b.run(chromedp.Evaluate(`({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
		small: [...document.querySelectorAll('.ranking-ui button')].filter((x) => { const r = x.getBoundingClientRect(); return r.height < 44 || r.width < 44; }).map((x) => x.textContent)})`, &geo))
	if geo.Inner != 360 || geo.Scroll > geo.Inner || len(geo.Small) > 0 {
		t.Fatalf("at 360 px: %+v", geo)
	}
	b.axe("ranking (en, ranked)")
	b.shot("ranking-ranked")

	// Welsh.
	b.run(chromedp.Navigate(srv.URL+"/?lang=cy"), chromedp.WaitVisible(`.ranking-ui`, chromedp.ByQuery))
	var label string
	b.run(chromedp.Text(btn("add", 2), &label, chromedp.ByQuery))
	if !strings.HasPrefix(label, "Ychwanegu at fy nhrefn") {
		t.Fatalf("Welsh button: %q", label)
	}
	press(btn("add", 2))
	expect("Welsh announcement", live(), "Ychwanegwyd "+rankingCandidates[2]+" fel rhif 1.")
	b.axe("ranking (cy)")
	b.shot("ranking-cy")
}
