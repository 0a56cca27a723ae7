package election_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/pgtest"
)

func londonTime(t *testing.T, s string) time.Time {
	t.Helper()
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utcTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// s.226A: notice not later than the 7th day, sample paper not later than
// the 3rd day before the opening day, days counted in Europe/London.
func TestNoticeDeadlines(t *testing.T) {
	era25, err := election.RegimeByID("era25")
	must(t, err)
	for _, tc := range []struct {
		name                    string
		opening, notice, sample time.Time
		allowed                 bool
		earliest                time.Time // zero: none
	}{
		{"on the last days (BST)", londonTime(t, "2026-06-15 09:00"), londonTime(t, "2026-06-08 23:30"), londonTime(t, "2026-06-12 23:59"),
			true, londonTime(t, "2026-06-15 00:00")},
		{"notice 23:30 UTC is the next London day", londonTime(t, "2026-06-15 09:00"), utcTime(t, "2026-06-08T23:30:00Z"), londonTime(t, "2026-06-12 10:00"),
			false, londonTime(t, "2026-06-16 00:00")},
		{"clocks go forward: opening at 00:00 BST is 23:00 UTC the day before", utcTime(t, "2026-03-29T23:00:00Z"), londonTime(t, "2026-03-23 10:00"), londonTime(t, "2026-03-27 10:00"),
			true, utcTime(t, "2026-03-29T23:00:00Z")},
		{"clocks go forward: one minute earlier is a day short", utcTime(t, "2026-03-29T22:59:00Z"), londonTime(t, "2026-03-23 10:00"), londonTime(t, "2026-03-27 10:00"),
			false, utcTime(t, "2026-03-29T23:00:00Z")},
		{"clocks go back: notice at 23:30 BST", utcTime(t, "2026-10-31T00:00:00Z"), utcTime(t, "2026-10-24T22:30:00Z"), londonTime(t, "2026-10-28 12:00"),
			true, utcTime(t, "2026-10-31T00:00:00Z")},
		{"clocks go back: notice at 00:30 BST on the next day", utcTime(t, "2026-10-31T00:00:00Z"), utcTime(t, "2026-10-24T23:30:00Z"), londonTime(t, "2026-10-28 12:00"),
			false, utcTime(t, "2026-11-01T00:00:00Z")},
		{"sample paper is the later clock", londonTime(t, "2026-12-08 12:00"), londonTime(t, "2026-12-01 09:00"), londonTime(t, "2026-12-06 09:00"),
			false, londonTime(t, "2026-12-09 00:00")},
		{"sample paper not sent", londonTime(t, "2026-12-20 12:00"), londonTime(t, "2026-12-01 09:00"), time.Time{},
			false, time.Time{}},
		{"notice not sent", londonTime(t, "2026-12-20 12:00"), time.Time{}, londonTime(t, "2026-12-01 09:00"),
			false, time.Time{}},
		{"opening before the notice", londonTime(t, "2026-12-01 08:00"), londonTime(t, "2026-12-01 09:00"), londonTime(t, "2026-12-01 09:00"),
			false, londonTime(t, "2026-12-08 00:00")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, earliest := election.OpeningAllowed(era25, tc.opening, tc.notice, tc.sample)
			if ok != tc.allowed || !earliest.Equal(tc.earliest) {
				t.Errorf("got %v %v, want %v %v", ok, earliest, tc.allowed, tc.earliest)
			}
			// Consistency with the deadlines for the planned opening.
			noticeBy, sampleBy := election.NoticeDeadlines(era25, tc.opening)
			inTime := !tc.notice.IsZero() && !tc.sample.IsZero() && tc.notice.Before(noticeBy) && tc.sample.Before(sampleBy)
			if inTime != tc.allowed {
				t.Errorf("deadlines %v %v disagree", noticeBy, sampleBy)
			}
		})
	}
	noticeBy, sampleBy := election.NoticeDeadlines(era25, londonTime(t, "2026-04-01 09:00"))
	if !noticeBy.Equal(utcTime(t, "2026-03-26T00:00:00Z")) || !sampleBy.Equal(utcTime(t, "2026-03-29T23:00:00Z")) {
		t.Errorf("deadlines across the change to BST: %v %v", noticeBy, sampleBy)
	}
}

func TestCheckNoticeTiming(t *testing.T) {
	era25, err := election.RegimeByID("era25")
	must(t, err)
	opening := londonTime(t, "2026-12-14 09:00")
	employers := []string{"Demo Transport Ltd", "Gwent Buses Ltd"}
	sent := []election.NoticeSent{
		{Employer: "Demo Transport Ltd", Notice: londonTime(t, "2026-12-01 10:00"), Sample: londonTime(t, "2026-12-01 10:00")},
		{Employer: "gwent  buses LTD", Notice: londonTime(t, "2026-12-02 10:00")},
	}
	nt := election.CheckNoticeTiming(era25, opening, employers, sent)
	if nt.Allowed || len(nt.Problems) != 1 || !strings.Contains(nt.Problems[0], "Gwent Buses Ltd: no sample voting paper") || !nt.Earliest.IsZero() {
		t.Errorf("missing sample: %+v", nt)
	}
	sent = append(sent, election.NoticeSent{Employer: "Gwent Buses Ltd", Sample: londonTime(t, "2026-12-12 10:00")})
	nt = election.CheckNoticeTiming(era25, opening, employers, sent)
	if nt.Allowed || !nt.Earliest.Equal(londonTime(t, "2026-12-15 00:00")) {
		t.Errorf("late sample: %+v", nt)
	}
	nt = election.CheckNoticeTiming(era25, londonTime(t, "2026-12-15 00:00"), employers, sent)
	if !nt.Allowed || len(nt.Problems) != 0 {
		t.Errorf("in time: %+v", nt)
	}
	if nt := election.CheckNoticeTiming(era25, opening, nil, sent); nt.Allowed {
		t.Error("no employers allowed")
	}
}

// noticeRender renders a notice page as page.Pages does: the site layout
// is cloned and the page file parsed over it.
func noticeRender(t *testing.T, name, lang string, data any) string {
	t.Helper()
	cat := map[string]map[string]string{}
	for _, l := range page.Languages {
		b, err := fs.ReadFile(election.NoticeFiles, election.NoticeCatalogDir+"/"+l+".json")
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
	tp, err := template.Must(base.Clone()).ParseFS(election.NoticeFiles, "templates/"+name+".html")
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
	f := newRegFixture(t, pool, "notices", false)
	csv := readFixture(t, "register_good.csv")
	file, rep := election.ParseRegister(bytes.NewReader(csv), regConfig(), regPolicy())
	if !rep.OK() {
		t.Fatal(rep.Issues)
	}
	_, err := election.CommitImport(ctx, pool, "organiser:1", f.ballotID, file)
	must(t, err)

	s, err := election.EmployerNotices(ctx, pool, f.ballotID)
	must(t, err)
	if s.Regime != "era25" || s.WithCounts || s.Total != 11 || s.CategoryBasis != "branch" || len(s.Employers) != 3 {
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
	en := noticeRender(t, election.PageEmployerNotice, "en", s)
	check("ERA25 notice (en)", en,
		[]string{"Notice of industrial action ballot", "Demo Transport Ltd", "Gwent Buses Ltd", "Cardiff Depot", "Swansea Depot", "Newport Office",
			"South Wales", "West Wales", `<p class="total">9</p>`, "Monday 14 December 2026", "Employer not recorded"},
		[]string{"How the figures were arrived at", `<td class="n">`})
	cy := noticeRender(t, election.PageEmployerNotice, "cy", s)
	check("ERA25 notice (cy)", cy, []string{`lang="cy"`, "Hysbysiad o bleidlais gweithredu diwydiannol", "dydd Llun 14 Rhagfyr 2026"}, nil)

	// A ballot opening before 18 February 2026 follows the TUA16 text:
	// numbers per category and workplace, and how they were arrived at.
	_, err = pool.Exec(ctx, `UPDATE ballots SET opens_at = '2026-02-17 09:00:00+00', closes_at = '2026-03-03 12:00:00+00' WHERE id = $1`, f.ballotID)
	must(t, err)
	s, err = election.EmployerNotices(ctx, pool, f.ballotID)
	must(t, err)
	if s.Regime != "tua16" || !s.WithCounts {
		t.Fatalf("regime %s", s.Regime)
	}
	check("TUA16 notice", noticeRender(t, election.PageEmployerNotice, "en", s),
		[]string{"How the figures were arrived at", `<td>Cardiff Depot</td><td class="n">5</td>`, `<td>South Wales</td><td class="n">5</td>`}, nil)

	// The sample voting paper.
	p, err := election.SampleVotingPaper(ctx, pool, f.ballotID)
	must(t, err)
	p.ReturnTo = "https://vote.example.net/"
	page := noticeRender(t, election.PageSamplePaper, "en", p)
	for _, w := range []string{"Voting paper number", "<strong>sample</strong>", "Independent Scrutineer Ltd",
		"Tuesday 3 March 2026, 12:00 GMT", "Are you prepared to take part in a strike?", "Question 1", "The General Secretary",
		"Person authorised to call industrial action", "https://vote.example.net/", "the dismissal will be unfair if it takes place fewer than twelve weeks",
		"Cardiff Depot"} {
		if !strings.Contains(page, w) {
			t.Errorf("sample paper lacks %q", w)
		}
	}
	_, err = pool.Exec(ctx, `UPDATE ballots SET opens_at = '2026-06-01 08:00:00+00', closes_at = '2026-06-15 11:00:00+00' WHERE id = $1`, f.ballotID)
	must(t, err)
	p, err = election.SampleVotingPaper(ctx, pool, f.ballotID)
	must(t, err)
	page = noticeRender(t, election.PageSamplePaper, "cy", p)
	for _, w := range []string{"sampl", "dydd Llun 15 Mehefin 2026, 12:00 BST", "the dismissal will be unfair.", `class="gap screen-note"`} {
		if !strings.Contains(page, w) {
			t.Errorf("sample paper (cy) lacks %q", w)
		}
	}
	if _, err := election.EmployerNotices(ctx, pool, 999999); err != election.ErrNotFound {
		t.Errorf("no ballot: %v", err)
	}
}

func equalCounts(got []election.CountedName, want ...any) bool {
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
	must(t, p.AddCatalog(election.NoticeFiles, election.NoticeCatalogDir))
	must(t, p.AddTemplates(election.NoticeFiles, election.NoticePages...))
	cat := p.Catalog()
	keys := regexp.MustCompile(`"(notice\.[a-z0-9_.]+)"`)
	used := map[string]bool{"notice.text.dispute_summary": true, "notice.text.types_of_action": true, "notice.text.period": true, "notice.text.authorised_person": true}
	for _, f := range election.NoticePages {
		b, err := fs.ReadFile(election.NoticeFiles, f)
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
	if _, err := fs.ReadFile(election.NoticeFiles, election.NoticeStylesheet); err != nil {
		t.Error(err)
	}
}
