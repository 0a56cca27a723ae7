package paper

// Staff pages of the paper count: a scrutineer keys a batch's totals; a
// second, different scrutineer keys it again; the batch is accepted when
// they agree; the scrutineer closes the count. Refusals show their
// statutory reason (s.230(4): secrecy, votes fairly and accurately
// counted). The pages show batch totals and keyers, never a member or a
// paper number.

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/manifest"
	cpaper "github.com/unionvote/eballot/crypto/paper"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/paper_count.html
var templates embed.FS

//go:embed i18n
var catalog embed.FS

// RegisterPages adds the pages and their catalogue (keys "paper.…").
func RegisterPages(p page.Registry) error {
	if err := p.AddTemplates(templates, "templates/paper_count.html"); err != nil {
		return err
	}
	return p.AddCatalog(catalog, "i18n")
}

// StaffBallot is a ballot as the staff pages need it.
type StaffBallot struct {
	Ballot
	Title string
}

// BallotFunc answers with the staff member of role and the ballot of the
// URL, or false once the answer is written (internal/app wires
// election.StaffBallot: this package knows no election module).
type BallotFunc func(w http.ResponseWriter, r *http.Request, role string) (page.Staff, StaffBallot, bool)

// Pages serves the paper count pages.
type Pages struct {
	svc    *Service
	ballot BallotFunc
	pages  page.Renderer
	log    *slog.Logger
}

// NewPages returns the module.
func NewPages(svc *Service, ballot BallotFunc, pages page.Renderer, log *slog.Logger) *Pages {
	return &Pages{svc: svc, ballot: ballot, pages: pages, log: log}
}

// Routes registers the pages.
func (p *Pages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/paper", p.show)
	r.Post("/scrutineer/ballots/{id}/paper", p.key)
	r.Post("/scrutineer/ballots/{id}/paper/close", p.closeCount)
}

// countData is the data of templates/paper_count.html.
type countData struct {
	B            StaffBallot
	Questions    []manifest.Question
	Styles       []manifest.Style
	VotingClosed bool
	CountClosed  bool
	Waiting      []Waiting
	Accepted     []Accepted
	Form         map[string]string // the keying as typed, shown back on an error
	Done         string
	Error        string
}

// StyleName is the name of a style index.
func (d countData) StyleName(i int) string {
	if i >= 0 && i < len(d.Styles) {
		return d.Styles[i].Name
	}
	return strconv.Itoa(i + 1)
}

// Field names a form field: the count of option o (or "blank", "spoilt")
// of question q.
func (countData) Field(q int, o string) string { return fmt.Sprintf("q%d_%s", q, o) }

func (p *Pages) load(ctx context.Context, d *countData) error {
	mj, _, err := p.svc.ledger.Manifest(ctx, d.B.ElectionID)
	if err != nil {
		return err
	}
	m, err := manifest.Parse(mj)
	if err != nil {
		return fmt.Errorf("read manifest: %w", err)
	}
	d.Questions, d.Styles = m.Questions, m.Styles
	if d.VotingClosed, d.CountClosed, _, err = p.svc.ledger.PaperState(ctx, d.B.ElectionID); err != nil {
		return err
	}
	d.Waiting, d.Accepted, err = p.svc.Batches(ctx, d.B.ElectionID)
	return err
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, d countData) {
	if err := p.load(r.Context(), &d); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	p.pages.Render(w, r, status, "paper_count", d)
}

func (p *Pages) show(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.ballot(w, r, "scrutineer")
	if !ok {
		return
	}
	d := countData{B: b, Form: map[string]string{}}
	switch r.URL.Query().Get("done") {
	case "waiting":
		d.Done = p.pages.T(p.pages.Lang(w, r), "paper.done_waiting")
	case "accepted":
		d.Done = p.pages.T(p.pages.Lang(w, r), "paper.done_accepted")
	case "closed":
		d.Done = p.pages.T(p.pages.Lang(w, r), "paper.done_closed")
	}
	p.render(w, r, http.StatusOK, d)
}

var countRE = regexp.MustCompile(`^[0-9]{1,9}$`)

// keyer is the public id of a staff member in the batch entries.
func keyer(s page.Staff) string { return "staff-" + strconv.FormatInt(s.ID, 10) }

func (p *Pages) key(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.ballot(w, r, "scrutineer")
	if !ok {
		return
	}
	lang := p.pages.Lang(w, r)
	d := countData{B: b, Form: map[string]string{}}
	if err := p.load(r.Context(), &d); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	_ = r.ParseForm() // a malformed body leaves the form empty: refused below
	for k, v := range r.PostForm {
		if len(v) == 1 && k != "csrf" {
			d.Form[k] = strings.TrimSpace(v[0])
		}
	}
	fail := func(status int, msg string) {
		d.Error = msg
		p.pages.Render(w, r, status, "paper_count", d)
	}
	num := func(name string) (int64, bool) {
		v := d.Form[name]
		if !countRE.MatchString(v) {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	k := Keying{BatchID: d.Form["batch"], Channel: d.Form["channel"], Box: d.Form["box"]}
	style, ok1 := num("style")
	papers, ok2 := num("papers")
	if !ok1 || !ok2 || style >= int64(len(d.Styles)) {
		fail(http.StatusUnprocessableEntity, p.pages.T(lang, "paper.err.numbers"))
		return
	}
	k.Style, k.Totals.Papers = int(style), papers
	for qi, q := range d.Questions {
		var qt cpaper.QuestionTotals
		for oi := range q.Options {
			n, ok := num(d.Field(qi, strconv.Itoa(oi)))
			if !ok {
				fail(http.StatusUnprocessableEntity, p.pages.T(lang, "paper.err.numbers"))
				return
			}
			qt.Options = append(qt.Options, n)
		}
		blank, ok1 := num(d.Field(qi, "blank"))
		spoilt, ok2 := num(d.Field(qi, "spoilt"))
		if !ok1 || !ok2 {
			fail(http.StatusUnprocessableEntity, p.pages.T(lang, "paper.err.numbers"))
			return
		}
		qt.Blank, qt.Spoilt = blank, spoilt
		k.Totals.Questions = append(k.Totals.Questions, qt)
	}
	out, err := p.svc.Key(r.Context(), s.Actor(), b.Ballot, keyer(s), k)
	if err != nil {
		status, msg, known := p.refusal(lang, err)
		if !known {
			p.pages.Fail(w, r, err)
			return
		}
		fail(status, msg)
		return
	}
	done := "waiting"
	if out.Accepted {
		done = "accepted"
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/paper?done=%s", b.ID, done), http.StatusSeeOther)
}

// refusal is the page's message for a refusal: the problem, its detail
// and its statutory reason.
func (p *Pages) refusal(lang string, err error) (int, string, bool) {
	for _, e := range []struct {
		err    error
		key    string
		status int
	}{
		{ErrBadBatch, "paper.err.bad_batch", http.StatusUnprocessableEntity},
		{ErrNotClosed, "paper.err.not_closed", http.StatusConflict},
		{ErrCountClosed, "paper.err.count_closed", http.StatusConflict},
		{ErrAccepted, "paper.err.accepted", http.StatusConflict},
		{ErrDisagree, "paper.err.disagree", http.StatusConflict},
		{ErrExceedsReturns, "paper.err.exceeds", http.StatusConflict},
		{ErrWaiting, "paper.err.waiting", http.StatusConflict},
		{ErrBoxOpen, "paper.err.box_open", http.StatusConflict},
		{ErrBoxCounted, "paper.err.box_counted", http.StatusConflict},
	} {
		if errors.Is(err, e.err) {
			detail := strings.TrimPrefix(err.Error(), e.err.Error())
			detail = strings.TrimPrefix(detail, ": ")
			msg := p.pages.T(lang, e.key)
			if detail != "" {
				msg += " (" + detail + ")"
			}
			return e.status, msg, true
		}
	}
	return 0, "", false
}

func (p *Pages) closeCount(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.ballot(w, r, "scrutineer")
	if !ok {
		return
	}
	if err := p.svc.CloseCount(r.Context(), s.Actor(), b.Ballot); err != nil {
		status, msg, known := p.refusal(p.pages.Lang(w, r), err)
		if !known {
			p.pages.Fail(w, r, err)
			return
		}
		p.render(w, r, status, countData{B: b, Form: map[string]string{}, Error: msg})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/paper?done=closed", b.ID), http.StatusSeeOther)
}
