package result

// Employer notices of an industrial action ballot (TULRCA s.226A): the
// notice of the ballot, given to every employer the union reasonably
// believes employs members entitled to vote, not later than the seventh
// day before the opening day, and a sample voting paper not later than the
// third day before it. From 18 February 2026 (ERA25) the notice gives the
// categories of employees, their workplaces and the total number of
// employees concerned; before that (TUA16 text) also the number in each
// category and at each workplace, with an explanation of how the figures
// were arrived at. A notice MUST NOT name members (statutory.md §5 B9):
// the data here holds only counts, categories and workplaces.
//
// The printable pages are templates in [NoticeFiles] for page.Pages; the
// clocks of s.226A, which the opening check applies, are election's
// (EarliestOpening).

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must be known wherever this runs

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// NoticeFiles holds the notice pages, their print stylesheet and their
// message catalogues:
//   - page templates [NoticePages], for web.Pages.AddTemplates; each is a
//     standalone A4 print document (it defines its own "layout", without
//     the site header and footer);
//   - the stylesheet [NoticeStylesheet], which the pages load as the asset
//     "notice-print.css" (the site's CSP forbids inline styles);
//   - the catalogues in [NoticeCatalogDir] (en.json, cy.json), for
//     web.Pages.AddCatalog; every key starts with "notice.".
//
//go:embed templates/notice-employer.html templates/notice-sample.html templates/notice-print.css i18n/notices/en.json i18n/notices/cy.json
var NoticeFiles embed.FS

// Paths in [NoticeFiles].
var NoticePages = []string{"templates/notice-employer.html", "templates/notice-sample.html"}

// Paths in [NoticeFiles].
const (
	NoticeCatalogDir = "i18n/notices"
	NoticeStylesheet = "templates/notice-print.css"
)

// Page names of the notice templates (their file names without ".html").
const (
	PageEmployerNotice = "notice-employer" // data: *NoticeSet
	PageSamplePaper    = "notice-sample"   // data: *SamplePaper
)

// NoticeTime is a time shown in Europe/London, in English or Welsh.
type NoticeTime struct{ time.Time }

var (
	noticeDaysCY = [...]string{"dydd Sul", "dydd Llun", "dydd Mawrth", "dydd Mercher", "dydd Iau", "dydd Gwener", "dydd Sadwrn"}
)

// Date is the day, e.g. "Friday 4 December 2026" or "dydd Gwener 4
// Rhagfyr 2026".
func (t NoticeTime) Date(lang string) string {
	l := t.In(page.London)
	if lang == "cy" {
		return fmt.Sprintf("%s %d %s %d", noticeDaysCY[l.Weekday()], l.Day(), page.WelshMonths[l.Month()-1], l.Year())
	}
	return l.Format("Monday 2 January 2006")
}

// DateTime is the day and time with the zone, e.g. "Friday 4 December
// 2026, 12:00 GMT".
func (t NoticeTime) DateTime(lang string) string {
	l := t.In(page.London)
	return t.Date(lang) + ", " + l.Format("15:04 MST")
}

// ISO is the time in RFC 3339, for <time datetime>.
func (t NoticeTime) ISO() string { return t.UTC().Format(time.RFC3339) }

// CountedName is a workplace or a category with its number of employees.
type CountedName struct {
	Name  string // "" when not recorded
	Count int
}

// EmployerNotice is the content of the notice to one employer.
type EmployerNotice struct {
	Employer   string // "" when not recorded in the register
	Total      int    // total number of employees concerned
	Workplaces []CountedName
	Categories []CountedName
}

// NoticeSet is the notices of one ballot, one per employer.
type NoticeSet struct {
	BallotID   int64
	ElectionID string
	Title      string
	Kind       string
	Status     string
	UnionName  string
	OpeningDay NoticeTime // the planned opening day; zero when not set
	AsAt       NoticeTime // when the figures were taken from the register
	Regime     string     // id of the legal regime of the opening day ([election.RegimeFor])
	// WithCounts: the regime requires the number in each category and at
	// each workplace and an explanation of the figures (TUA16). Under ERA25
	// the pages list the categories and workplaces without numbers: the
	// total is what the law asks for, and every extra figure is one more
	// that an employer could dispute.
	WithCounts bool
	// CategoryBasis says what the categories are: "branch", the branch
	// column of the register (the register records no occupation).
	CategoryBasis string
	Total         int
	Employers     []EmployerNotice
}

// Employers' names, as election.CheckNoticeTiming wants them.
func (s *NoticeSet) EmployerNames() []string {
	out := make([]string, len(s.Employers))
	for i, e := range s.Employers {
		out[i] = e.Employer
	}
	return out
}

// EmployerNotices computes the s.226A notices of a ballot from its current
// register: per employer, the total number of members entitled to vote,
// their workplaces and their categories (the register's branches), with
// counts. Members with no employer recorded form one group with Employer
// "" (the page says "not recorded"; election.CheckNoticeTiming then blocks
// opening until it is resolved).
func EmployerNotices(ctx context.Context, b *election.AdminBallot, reg *register.Store) (*NoticeSet, error) {
	s := &NoticeSet{BallotID: b.ID, CategoryBasis: "branch", ElectionID: b.ElectionID, Title: b.Title, Kind: b.Kind,
		Status: b.Status, UnionName: b.UnionName}
	opens, asAt := b.OpensAt, time.Now()
	s.AsAt = NoticeTime{asAt}
	regimeAt := asAt
	if opens != nil {
		s.OpeningDay = NoticeTime{*opens}
		regimeAt = *opens
	}
	regime, err := election.RegimeFor(regimeAt)
	if err != nil {
		return nil, fmt.Errorf("employer notices: %w", err)
	}
	s.Regime = regime.ID
	// Only the TUA16 text of s.226A asks for numbers per category and per
	// workplace and how they were arrived at; later regimes do not (the
	// regime table says which, never its name).
	s.WithCounts = regime.NoticeCounts

	groups, err := reg.EntitledGroups(ctx, nil, b.ID)
	if err != nil {
		return nil, fmt.Errorf("employer notices: %w", err)
	}
	type acc struct {
		total      int
		workplaces map[string]int
		categories map[string]int
	}
	by := map[string]*acc{}
	canon := map[string]string{} // employer key → first spelling seen
	for _, g := range groups {
		emp, wp, branch, n := g.Employer, g.Workplace, g.Branch, g.Members
		k := strings.ToLower(strings.Join(strings.Fields(emp), " "))
		if _, ok := canon[k]; !ok {
			canon[k] = strings.TrimSpace(emp)
		}
		a := by[k]
		if a == nil {
			a = &acc{workplaces: map[string]int{}, categories: map[string]int{}}
			by[k] = a
		}
		a.total += n
		a.workplaces[wp] += n
		a.categories[strings.TrimSpace(branch)] += n
		s.Total += n
	}
	for k, a := range by {
		s.Employers = append(s.Employers, EmployerNotice{
			Employer:   canon[k],
			Total:      a.total,
			Workplaces: noticeCounted(a.workplaces),
			Categories: noticeCounted(a.categories),
		})
	}
	sort.Slice(s.Employers, func(i, j int) bool {
		a, b := s.Employers[i].Employer, s.Employers[j].Employer
		if (a == "") != (b == "") {
			return b == "" // "not recorded" last
		}
		return strings.ToLower(a) < strings.ToLower(b)
	})
	return s, nil
}

func noticeCounted(m map[string]int) []CountedName {
	out := make([]CountedName, 0, len(m))
	for n, c := range m {
		out = append(out, CountedName{Name: n, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Name, out[j].Name
		if (a == "") != (b == "") {
			return b == ""
		}
		return strings.ToLower(a) < strings.ToLower(b)
	})
	return out
}

// SampleQuestion is a question of the voting paper with its number.
type SampleQuestion struct {
	Number int
	election.Question
}

// SampleText is one ballot-specific text of the voting paper; the page's
// label comes from the catalogue key "notice.text.<Key>".
type SampleText struct {
	Key  string
	Text string
}

// noticeTextKeys are the texts of [election.Config.Texts] printed on the paper, in
// order (s.229(2B)–(3)).
var noticeTextKeys = []string{"dispute_summary", "types_of_action", "period", "authorised_person"}

// SamplePaper is the sample voting paper sent to employers (s.226A(1)(b)):
// the voting paper as members will see it, numbered "sample".
type SamplePaper struct {
	BallotID   int64
	Title      string
	UnionName  string
	Scrutineer string     // s.229(1A)(a); "" until appointed (the page says so)
	Closes     NoticeTime // s.229(1A)(b): by when; zero until set
	Questions  []SampleQuestion
	Texts      []SampleText
	// Separate: separate workplace ballots (s.228); every workplace listed
	// in Workplaces has its own paper with the same questions.
	Separate   bool
	Workplaces []string
	// Regime is the id of the legal regime of the opening day (or of
	// today while no opening is set); StatutoryStatement its s.229(4)
	// text, verbatim, and StatementVerified whether that text was checked
	// against legislation.gov.uk (the page says so on screen, not in print).
	Regime             string
	StatutoryStatement string
	StatementVerified  bool
	// ReturnTo is where votes are cast (s.229(1A)(b)): the voting site's
	// public address, which the caller MUST set. The page shows a visible
	// gap while it is empty.
	ReturnTo string
}

// SampleVotingPaper returns the sample voting paper of a ballot from its
// configuration (questions, texts, workplaces), scrutineer, closing time
// and legal regime (the s.229(4) statement). The caller sets ReturnTo.
func SampleVotingPaper(b *election.AdminBallot) (*SamplePaper, error) {
	p := &SamplePaper{BallotID: b.ID, Title: b.Title, UnionName: b.UnionName, Scrutineer: b.ScrutineerName}
	opens, closes, now := b.OpensAt, b.ClosesAt, time.Now()
	cfg := b.Config
	if closes != nil {
		p.Closes = NoticeTime{*closes}
	}
	if opens != nil {
		now = *opens
	}
	regime, err := election.RegimeFor(now)
	if err != nil {
		return nil, fmt.Errorf("sample voting paper: %w", err)
	}
	p.Regime = regime.ID
	st := regime.Texts["s229_4"]
	p.StatutoryStatement, p.StatementVerified = st.Text, st.Verified
	for i, q := range cfg.Questions {
		p.Questions = append(p.Questions, SampleQuestion{Number: i + 1, Question: q})
	}
	for _, k := range noticeTextKeys {
		if v := strings.TrimSpace(cfg.Texts[k]); v != "" {
			p.Texts = append(p.Texts, SampleText{Key: k, Text: v})
		}
	}
	p.Separate = !b.Aggregated
	for _, w := range cfg.Workplaces {
		p.Workplaces = append(p.Workplaces, w.Name)
	}
	return p, nil
}
