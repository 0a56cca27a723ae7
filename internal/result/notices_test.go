package result_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/pgtest"
)

// noticeRender renders a notice page as page.Pages does: the site layout
// is cloned and the page file parsed over it.
func noticeRender(t *testing.T, name, lang string, data any) string {
	t.Helper()
	cat := map[string]map[string]string{}
	for _, l := range page.Languages {
		b, err := fs.ReadFile(result.NoticeFiles, result.NoticeCatalogDir+"/"+l+".json")
		must(t, err)
		m := map[string]string{}
		must(t, json.Unmarshal(b, &m))
		cat[l] = m
	}
	funcs := template.FuncMap{
		"t": func(lang, key string) string {
			v, ok := cat[lang][key]
			if !ok {
				t.Errorf("no message %s:%s", lang, key)
			}
			return v
		},
		"asset": func(name string) (string, error) { return "/static/" + name, nil },
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when":  func(t time.Time) string { return t.Format("2 Jan 2006 15:04") },
	}
	base := template.Must(template.New("layout").Funcs(funcs).Parse(`{{define "layout"}}SITE LAYOUT{{end}}`))
	tp, err := template.Must(base.Clone()).ParseFS(result.NoticeFiles, "templates/"+name+".html")
	must(t, err)
	other := "cy"
	if lang == "cy" {
		other = "en"
	}
	var buf bytes.Buffer
	must(t, tp.ExecuteTemplate(&buf, "layout", page.PageData{Lang: lang, OtherLang: other, Data: data}))
	out := buf.String()
	if strings.Contains(out, "SITE LAYOUT") || !strings.Contains(out, `href="/static/notice-print.css"`) {
		t.Errorf("%s: not a standalone print page", name)
	}
	return out
}

// The notices hold counts per employer, workplace and category, and the
// printed pages name no member.
func TestEmployerNotices(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	electiontest.EVoting(t) // as every fixture ballot: the e-ballot order in force
	f := registertest.New(t, pool, "notices", false)
	registertest.Import(t, pool, f.BallotID, registertest.File(t, "register_good.csv"))
	store, reg := election.NewStore(pool), register.NewStore(pool, registertest.Key)
	ballot := func() *election.AdminBallot {
		b, err := store.AdminBallot(ctx, f.BallotID, 0)
		must(t, err)
		return b
	}

	s, err := result.EmployerNotices(ctx, ballot(), reg)
	must(t, err)
	if s.Regime != "evote" || s.WithCounts || s.Total != 11 || s.CategoryBasis != "branch" || len(s.Employers) != 3 {
		t.Fatalf("notice set %+v", s)
	}
	demo := s.Employers[0]
	if demo.Employer != "Demo Transport Ltd" || demo.Total != 9 ||
		!equalCounts(demo.Workplaces, "Cardiff Depot", 5, "Swansea Depot", 4) ||
		!equalCounts(demo.Categories, "South Wales", 5, "West Wales", 3, "", 1) {
		t.Errorf("Demo Transport: %+v", demo)
	}
	if g := s.Employers[1]; g.Employer != "Gwent Buses Ltd" || g.Total != 1 || !equalCounts(g.Workplaces, "Newport Office", 1) {
		t.Errorf("Gwent: %+v", g)
	}
	if u := s.Employers[2]; u.Employer != "" || u.Total != 1 {
		t.Errorf("unrecorded employer: %+v", u)
	}
	if names := s.EmployerNames(); len(names) != 3 || names[2] != "" {
		t.Errorf("employer names %q", names)
	}

	// Personal data of the file: names, member numbers, mobiles, emails.
	forbidden := regexp.MustCompile(`Aled|Jones|Bethan|Price|Ceri|Evans|Dafydd|Morgan|Eleri|Hughes|Ffion|Davies|Gareth|Lewis|Heledd|Roberts|Iwan|Thomas|Amira|Khan|\bJac\b|M0[0-9][0-9]|7700|@|example\.org`)
	check := func(name, page string, want, notWant []string) {
		t.Helper()
		if m := forbidden.FindString(page); m != "" {
			t.Errorf("%s shows personal data %q", name, m)
		}
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
		for _, w := range notWant {
			if strings.Contains(page, w) {
				t.Errorf("%s has %q", name, w)
			}
		}
	}
	en := noticeRender(t, result.PageEmployerNotice, "en", s)
	check("ERA25 notice (en)", en,
		[]string{"Notice of industrial action ballot", "Demo Transport Ltd", "Gwent Buses Ltd", "Cardiff Depot", "Swansea Depot", "Newport Office",
			"South Wales", "West Wales", `<p class="total">9</p>`, "Monday 14 December 2026", "Employer not recorded"},
		[]string{"How the figures were arrived at", `<td class="n">`})
	cy := noticeRender(t, result.PageEmployerNotice, "cy", s)
	check("ERA25 notice (cy)", cy, []string{`lang="cy"`, "Hysbysiad o bleidlais gweithredu diwydiannol", "dydd Llun 14 Rhagfyr 2026"}, nil)

	// A ballot opening before 18 February 2026 follows the TUA16 text:
	// numbers per category and workplace, and how they were arrived at.
	_, err = pool.Exec(ctx, `UPDATE ballots SET opens_at = '2026-02-17 09:00:00+00', closes_at = '2026-03-03 12:00:00+00' WHERE id = $1`, f.BallotID)
	must(t, err)
	s, err = result.EmployerNotices(ctx, ballot(), reg)
	must(t, err)
	if s.Regime != "tua16" || !s.WithCounts {
		t.Fatalf("regime %s", s.Regime)
	}
	check("TUA16 notice", noticeRender(t, result.PageEmployerNotice, "en", s),
		[]string{"How the figures were arrived at", `<td>Cardiff Depot</td><td class="n">5</td>`, `<td>South Wales</td><td class="n">5</td>`}, nil)

	// The sample voting paper.
	p, err := result.SampleVotingPaper(ballot())
	must(t, err)
	p.ReturnTo = "https://vote.example.net/"
	page := noticeRender(t, result.PageSamplePaper, "en", p)
	for _, w := range []string{"Voting paper number", "<strong>sample</strong>", "Independent Scrutineer Ltd",
		"Tuesday 3 March 2026, 12:00 GMT", "Are you prepared to take part in a strike?", "Question 1", "The General Secretary",
		"Person authorised to call industrial action", "https://vote.example.net/", "the dismissal will be unfair if it takes place fewer than twelve weeks",
		"Cardiff Depot"} {
		if !strings.Contains(page, w) {
			t.Errorf("sample paper lacks %q", w)
		}
	}
	_, err = pool.Exec(ctx, `UPDATE ballots SET opens_at = '2026-06-01 08:00:00+00', closes_at = '2026-06-15 11:00:00+00' WHERE id = $1`, f.BallotID)
	must(t, err)
	p, err = result.SampleVotingPaper(ballot())
	must(t, err)
	page = noticeRender(t, result.PageSamplePaper, "cy", p)
	for _, w := range []string{"sampl", "dydd Llun 15 Mehefin 2026, 12:00 BST", "the dismissal will be unfair.", `class="gap screen-note"`} {
		if !strings.Contains(page, w) {
			t.Errorf("sample paper (cy) lacks %q", w)
		}
	}
}

func equalCounts(got []result.CountedName, want ...any) bool {
	if len(got)*2 != len(want) {
		return false
	}
	for i, c := range got {
		if c.Name != want[2*i].(string) || c.Count != want[2*i+1].(int) {
			return false
		}
	}
	return true
}

// The notice pages and catalogues plug into web.Pages without clashing,
// and every message exists in English and Welsh.
func TestNoticePagesRegister(t *testing.T) {
	p, err := page.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	must(t, err)
	must(t, p.AddCatalog(result.NoticeFiles, result.NoticeCatalogDir))
	must(t, p.AddTemplates(result.NoticeFiles, result.NoticePages...))
	cat := p.Catalog()
	keys := regexp.MustCompile(`"(notice\.[a-z0-9_.]+)"`)
	used := map[string]bool{"notice.text.dispute_summary": true, "notice.text.types_of_action": true, "notice.text.period": true, "notice.text.authorised_person": true}
	for _, f := range result.NoticePages {
		b, err := fs.ReadFile(result.NoticeFiles, f)
		must(t, err)
		for _, m := range keys.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	for k := range used {
		for _, l := range page.Languages {
			if strings.TrimSpace(cat[l][k]) == "" {
				t.Errorf("no message %s:%s", l, k)
			}
		}
	}
	for _, l := range page.Languages {
		for k := range cat[l] {
			if strings.HasPrefix(k, "notice.") && !used[k] {
				t.Errorf("unused message %s:%s", l, k)
			}
		}
	}
	if _, err := fs.ReadFile(result.NoticeFiles, result.NoticeStylesheet); err != nil {
		t.Error(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The organiser's printable notice and sample voting paper, through the
// pages: counts only, no member named; another union's organiser gets 404.
func TestNoticePages(t *testing.T) {
	pool := pgtest.NewDB(t)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "notice-pages", Members: 3,
		Member: func(i int) (string, string, string) { return fmt.Sprintf("Ann Jones %d", i), "", "" }})
	log := slog.New(slog.DiscardHandler)
	pages, err := page.New(log)
	must(t, err)
	must(t, result.RegisterPages(pages))
	r := chi.NewRouter()
	result.NewPages(result.New(b.Pool, b.Store, nil, nil), b.Admin, b.Store, b.Register, pages, webtest.Staff, "https://vote.example").Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	org := webtest.NewClient(t, srv.URL, "organiser", b.UnionID)
	path := fmt.Sprintf("/organiser/ballots/%d/", b.ID)
	if status, body := org.Get(path + "notices"); status != 200 || strings.Contains(body, "Ann Jones") || !strings.Contains(body, "North Depot") {
		t.Fatalf("notices: %d", status)
	}
	if status, body := org.Get(path + "sample-paper"); status != 200 || !strings.Contains(body, "https://vote.example/vote/notice-pages") {
		t.Fatalf("sample paper: %d", status)
	}
	other := webtest.NewClient(t, srv.URL, "organiser", b.UnionID+1)
	if status, _ := other.Get(path + "notices"); status != 404 {
		t.Fatalf("another union's organiser: %d", status)
	}
}
