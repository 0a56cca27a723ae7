package retention

// The scrutineer's retention page of a ballot,
// /scrutineer/ballots/{id}/retention: its retention state (due, held, not
// due, unpublished, deleted) with the reason and the due date, its holds
// (open and released, with who and when), a form to record a hold when a
// complaint is made and one to release holds once disposal is authorised,
// and after deletion the deletion record (when, by what, rows per table,
// digest). Nothing is deleted from this page: deletion is the daily job
// (EBALLOT_RETENTION=apply) or `ballotd retention --apply`, and the page
// says so. Organisers get 403; scrutineers see every union's ballots.

import (
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/election"
)

//go:embed templates/retention.html
var pageTemplates embed.FS

//go:embed i18n
var pageCatalog embed.FS

// RegisterPages adds the page and its catalogue (keys "ret.…").
func RegisterPages(p page.Registry) error {
	if err := p.AddTemplates(pageTemplates, "templates/retention.html"); err != nil {
		return err
	}
	return p.AddCatalog(pageCatalog, "i18n")
}

// Pages serves the scrutineer's retention page.
type Pages struct {
	svc   *Service
	store *election.Store
	pages page.Renderer
	staff page.StaffFunc
	log   *slog.Logger
	mode  string // EBALLOT_RETENTION: off, report or apply
	now   func() time.Time
}

// NewPages returns the module; mode is EBALLOT_RETENTION (what the daily
// job does, told on the page). Register its templates and catalogue with
// [RegisterPages] first.
func NewPages(svc *Service, store *election.Store, pages page.Renderer, staff page.StaffFunc, log *slog.Logger, mode string) *Pages {
	switch mode {
	case "off", "apply":
	default:
		mode = "report" // the job's default
	}
	return &Pages{svc: svc, store: store, pages: pages, staff: staff, log: log, mode: mode, now: time.Now}
}

// Routes registers the page.
func (p *Pages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/retention", p.page)
	r.Post("/scrutineer/ballots/{id}/retention", p.post)
}

// holdView is a hold with the names of the staff who recorded and
// released it.
type holdView struct {
	Hold
	By         string
	ReleasedBy string
}

// pageData is the data of templates/retention.html.
type pageData struct {
	B        *election.AdminBallot
	St       *Ballot
	Law      string // catalogue key of the rule that fixes the period
	Mode     string // off, report, apply
	Open     []holdView
	Past     []holdView
	Deletion *Deletion
	Digest   string // hex of Deletion.Digest
	Actor    string // catalogue key describing Deletion.Actor, or ""

	HoldReason    string // as typed, shown back on an error
	ReleaseReason string
	ReleaseHold   int64 // 0: every open hold
	Done          string
	Error         string
	ErrorField    string // id of the field in error: hold-reason, release-reason, release-hold
}

// ballot answers with the scrutineer and the ballot of the URL, or false
// once the answer is written (organisers: 403).
func (p *Pages) ballot(w http.ResponseWriter, r *http.Request) (page.Staff, *election.AdminBallot, bool) {
	return election.StaffBallot(w, r, p.staff, p.store, p.pages, "scrutineer")
}

func (p *Pages) page(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.ballot(w, r)
	if !ok {
		return
	}
	d := pageData{B: b}
	switch q := r.URL.Query().Get("done"); q {
	case "held", "released":
		d.Done = q
	}
	p.show(w, r, http.StatusOK, d)
}

// show fills the state, holds and deletion record and renders the page.
func (p *Pages) show(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	ctx := r.Context()
	st, err := p.svc.State(ctx, d.B.ID, p.now())
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d.St, d.Law, d.Mode = st, lawKey(st.Kind), p.mode
	holds, err := p.svc.Holds(ctx, d.B.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	names, err := p.staffNames(r, holds)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	for _, h := range holds {
		v := holdView{Hold: h, By: names[h.RecordedBy]}
		if h.ReleasedBy != nil {
			v.ReleasedBy = names[*h.ReleasedBy]
		}
		if h.ReleasedAt == nil {
			d.Open = append(d.Open, v)
		} else {
			d.Past = append(d.Past, v)
		}
	}
	if d.Deletion, err = p.svc.DeletionRecord(ctx, d.B.ID); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	if d.Deletion != nil {
		d.Digest = hex.EncodeToString(d.Deletion.Digest)
		switch d.Deletion.Actor {
		case "job:retention":
			d.Actor = "ret.actor.job"
		case "cli":
			d.Actor = "ret.actor.cli"
		}
	}
	p.pages.Render(w, r, status, "retention", d)
}

// staffNames are the names of the staff accounts that recorded or
// released holds, as "Name (account N)".
func (p *Pages) staffNames(r *http.Request, holds []Hold) (map[int64]string, error) {
	var ids []int64
	for _, h := range holds {
		ids = append(ids, h.RecordedBy)
		if h.ReleasedBy != nil {
			ids = append(ids, *h.ReleasedBy)
		}
	}
	if len(ids) == 0 {
		return map[int64]string{}, nil
	}
	return p.svc.others.Staff.StaffNames(r.Context(), ids)
}

// post records a hold (action=hold) or releases holds (action=release).
func (p *Pages) post(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.ballot(w, r)
	if !ok {
		return
	}
	d := pageData{B: b}
	fail := func(status int, field, key string) {
		d.Error, d.ErrorField = p.pages.T(p.pages.Lang(w, r), key), field
		p.show(w, r, status, d)
	}
	// refused shows the page again with err's status and message, or goes
	// on to done.
	refused := func(err error, done string) {
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/retention?done=%s", b.ID, done), http.StatusSeeOther)
			return
		}
		pr, ok := page.Refused(err)
		if !ok {
			p.pages.Fail(w, r, err)
			return
		}
		fail(pr.Status, "", pr.Msg.Key)
	}
	ctx := r.Context()
	switch r.PostFormValue("action") {
	case "hold":
		d.HoldReason = strings.TrimSpace(r.PostFormValue("reason"))
		if !reasonOK(d.HoldReason) {
			fail(http.StatusUnprocessableEntity, "hold-reason", "ret.err.hold_reason")
			return
		}
		_, err := p.svc.RecordHold(ctx, b.ID, s.ID, d.HoldReason, p.now())
		if errors.Is(err, ErrInvalid) { // the field's own message
			fail(ErrInvalid.Problem().Status, "hold-reason", "ret.err.hold_reason")
			return
		}
		refused(err, "held")
	case "release":
		d.ReleaseReason = strings.TrimSpace(r.PostFormValue("reason"))
		hold, err := strconv.ParseInt(r.PostFormValue("hold"), 10, 64)
		if err != nil || hold < 0 {
			fail(http.StatusUnprocessableEntity, "release-hold", "ret.err.hold_choice")
			return
		}
		d.ReleaseHold = hold
		if !reasonOK(d.ReleaseReason) {
			fail(http.StatusUnprocessableEntity, "release-reason", "ret.err.release_reason")
			return
		}
		_, err = p.svc.ReleaseHolds(ctx, b.ID, hold, s.ID, d.ReleaseReason, p.now())
		if errors.Is(err, ErrNoHold) {
			d.ReleaseHold = 0
		}
		if errors.Is(err, ErrInvalid) {
			fail(ErrInvalid.Problem().Status, "release-reason", "ret.err.release_reason")
			return
		}
		refused(err, "released")
	default:
		fail(http.StatusUnprocessableEntity, "", "ret.err.action")
	}
}

// reasonOK is RecordHold's and ReleaseHolds' rule (1 to 1000 bytes once
// trimmed), checked first so the page answers without a transaction, and
// without control characters other than line breaks.
func reasonOK(s string) bool {
	if s == "" || len(s) > 1000 {
		return false
	}
	for _, c := range s {
		if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// lawKey is the catalogue key of the rule that fixes a kind's retention
// (as law).
func lawKey(kind string) string {
	switch kind {
	case "union_election", "political_fund":
		return "ret.law." + kind
	default:
		return "ret.law.other"
	}
}
