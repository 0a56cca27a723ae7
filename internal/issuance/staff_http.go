package issuance

// Staff pages of issuance: the scrutineer records postal returns against
// voting-paper numbers (hybrid ballots, s.230(2) as modified; one vote per
// member by any channel, s.230(4)(b)); organisers ask for a lost
// authorisation to be replaced and the scrutineer, a second person,
// decides (protocol §5 step 3). Every action is audited by the service
// methods; replacements are counted in the public counts and the
// scrutineer's report. Organisers never see a vote; these pages show
// counts, member numbers the organiser typed and paper numbers the
// scrutineer typed, never a link from a member to a ballot.

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
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
)

//go:embed templates/issuance_postal.html templates/issuance_replacements.html
var staffTemplates embed.FS

//go:embed i18n
var staffCatalog embed.FS

// RegisterStaffPages adds the pages and their catalogue (keys "issue.…").
func RegisterStaffPages(p page.Registry) error {
	if err := p.AddTemplates(staffTemplates, "templates/issuance_postal.html", "templates/issuance_replacements.html"); err != nil {
		return err
	}
	return p.AddCatalog(staffCatalog, "i18n")
}

// StaffPages serves the postal-return and replacement pages.
type StaffPages struct {
	svc   *Service
	store *election.Store
	pages page.Renderer
	staff page.StaffFunc
	log   *slog.Logger
}

// NewStaffPages returns the module.
func NewStaffPages(svc *Service, store *election.Store, pages page.Renderer, staff page.StaffFunc, log *slog.Logger) *StaffPages {
	return &StaffPages{svc: svc, store: store, pages: pages, staff: staff, log: log}
}

// Routes registers the pages.
func (p *StaffPages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/postal", p.postalPage)
	r.Post("/scrutineer/ballots/{id}/postal", p.recordPostal)
	r.Get("/organiser/ballots/{id}/replacements", p.replacements("organiser"))
	r.Post("/organiser/ballots/{id}/replacements", p.requestReplacement)
	r.Get("/scrutineer/ballots/{id}/replacements", p.replacements("scrutineer"))
	r.Post("/scrutineer/ballots/{id}/replacements/{rid}", p.decideReplacement)
}

// ballot answers with the staff member of role and the ballot of the URL
// they may see (organisers: their union's only, else 404), or false once
// the answer is written.
func (p *StaffPages) ballot(w http.ResponseWriter, r *http.Request, role string) (page.Staff, *election.AdminBallot, bool) {
	return election.StaffBallot(w, r, p.staff, p.store, p.pages, role)
}

// postalData is the data of templates/issuance_postal.html.
type postalData struct {
	B      *election.AdminBallot
	Counts []Counts
	Paper  string // as typed, shown back on an error
	Done   int    // the paper just recorded
	Error  string
}

func (p *StaffPages) postalPage(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.ballot(w, r, "scrutineer")
	if !ok {
		return
	}
	d := postalData{B: b}
	if n, err := strconv.Atoi(r.URL.Query().Get("recorded")); err == nil && n > 0 {
		d.Done = n
	}
	p.showPostal(w, r, http.StatusOK, d)
}

func (p *StaffPages) showPostal(w http.ResponseWriter, r *http.Request, status int, d postalData) {
	cs, err := p.svc.CountsFor(r.Context(), d.B.ElectionID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d.Counts = cs
	p.pages.Render(w, r, status, "issuance_postal", d)
}

var paperRE = regexp.MustCompile(`^[0-9]{1,9}$`)

// recordPostal records a returned postal voting paper by its number.
func (p *StaffPages) recordPostal(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.ballot(w, r, "scrutineer")
	if !ok {
		return
	}
	raw := strings.TrimSpace(r.PostFormValue("paper"))
	d := postalData{B: b, Paper: raw}
	fail := func(status int, msg string) {
		d.Error = msg
		p.showPostal(w, r, status, d)
	}
	if !paperRE.MatchString(raw) || raw == "0" || strings.HasPrefix(raw, "0") {
		fail(http.StatusUnprocessableEntity, p.msg(w, r, "issue.err.paper_format"))
		return
	}
	n, _ := strconv.Atoi(raw)
	err := p.svc.RecordPostal(r.Context(), s.Actor(), b.ElectionID, n)
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/postal?recorded=%d", b.ID, n), http.StatusSeeOther)
	case errors.Is(err, ErrNotEntitled):
		fail(http.StatusUnprocessableEntity, p.msg(w, r, "issue.err.paper_unknown", n))
	case errors.Is(err, ErrPostalRecorded):
		fail(http.StatusConflict, p.msg(w, r, "issue.err.postal_twice", n))
	case errors.Is(err, ErrAlreadyAuthorised):
		fail(http.StatusConflict, p.msg(w, r, "issue.err.postal_online", n))
	case errors.Is(err, ErrLate):
		fail(http.StatusConflict, p.msg(w, r, "issue.err.postal_late", n))
	case errors.Is(err, ErrNotOpen):
		fail(http.StatusConflict, p.msg(w, r, "issue.err.postal_window"))
	default:
		p.pages.Fail(w, r, err)
	}
}

// Request is one replacement request as the pages list it.
type Request struct {
	ID           int64
	MemberNumber string
	Reason       string
	RequestedBy  string
	RequestedAt  time.Time
	Decided      bool
	Approved     bool
	DecidedBy    string
}

// Requests lists a ballot's replacement requests, newest first.
func (s *Service) Requests(ctx context.Context, ballotID int64) ([]Request, error) {
	rows, err := s.pool.Query(ctx, `SELECT q.id, q.member_id, q.reason, q.requested_by, q.requested_at,
		q.decided_at IS NOT NULL, coalesce(q.approved, false), coalesce(q.decided_by, '')
		FROM replacement_requests q
		WHERE q.ballot_id = $1 ORDER BY q.id DESC LIMIT 500`, ballotID)
	if err != nil {
		return nil, fmt.Errorf("replacement requests: %w", err)
	}
	var members []int64
	qs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Request, error) {
		var q Request
		var member int64
		err := r.Scan(&q.ID, &member, &q.Reason, &q.RequestedBy, &q.RequestedAt, &q.Decided, &q.Approved, &q.DecidedBy)
		members = append(members, member)
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("replacement requests: %w", err)
	}
	numbers, err := s.reg.MemberNumbers(ctx, members)
	if err != nil {
		return nil, fmt.Errorf("replacement requests: %w", err)
	}
	for i := range qs {
		q := &qs[i]
		var ok bool
		if q.MemberNumber, ok = numbers[members[i]]; !ok {
			return nil, fmt.Errorf("replacement requests: member %d not found", members[i])
		}
	}
	return qs, nil
}

// replacementsData is the data of templates/issuance_replacements.html.
type replacementsData struct {
	Role     string
	B        *election.AdminBallot
	Requests []Request
	Replaced int // approved replacements: authorisations issued twice
	Member   string
	Reason   string
	Done     string
	Error    string
	// ErrorField is the form field in error: member_number, reason or "".
	ErrorField string
}

func (p *StaffPages) replacements(role string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, b, ok := p.ballot(w, r, role)
		if !ok {
			return
		}
		d := replacementsData{Role: role, B: b}
		switch r.URL.Query().Get("done") {
		case "requested", "approved", "denied":
			d.Done = r.URL.Query().Get("done")
		}
		p.showReplacements(w, r, http.StatusOK, d)
	}
}

func (p *StaffPages) showReplacements(w http.ResponseWriter, r *http.Request, status int, d replacementsData) {
	var err error
	if d.Requests, err = p.svc.Requests(r.Context(), d.B.ID); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	for _, q := range d.Requests {
		if q.Approved {
			d.Replaced++
		}
	}
	p.pages.Render(w, r, status, "issuance_replacements", d)
}

var memberNumberRE = regexp.MustCompile(`^[^\x00-\x1f\x7f]{1,64}$`)

// requestReplacement records an organiser's request for a member (by
// member number) of this ballot.
func (p *StaffPages) requestReplacement(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.ballot(w, r, "organiser")
	if !ok {
		return
	}
	d := replacementsData{Role: "organiser", B: b, Member: strings.TrimSpace(r.PostFormValue("member_number")),
		Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	fail := func(status int, field, msg string) {
		d.Error, d.ErrorField = msg, field
		p.showReplacements(w, r, status, d)
	}
	switch {
	case !memberNumberRE.MatchString(d.Member):
		fail(http.StatusUnprocessableEntity, "member_number", p.msg(w, r, "issue.err.member_number"))
		return
	case d.Reason == "" || len(d.Reason) > 1000:
		fail(http.StatusUnprocessableEntity, "reason", p.msg(w, r, "issue.err.reason"))
		return
	}
	ctx := r.Context()
	memberID, err := p.svc.reg.MemberByNumber(ctx, b.ID, d.Member)
	if errors.Is(err, register.ErrNotOnRegister) {
		fail(http.StatusUnprocessableEntity, "member_number", p.msg(w, r, "issue.err.not_on_register"))
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	_, err = p.svc.RequestReplacement(ctx, s.Actor(), b.ElectionID, memberID, d.Reason)
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d/replacements?done=requested", b.ID), http.StatusSeeOther)
	case errors.Is(err, ErrNothingToReplace):
		fail(http.StatusConflict, "", p.msg(w, r, "issue.err.request_window"))
	default:
		p.pages.Fail(w, r, err)
	}
}

// decideReplacement is the scrutineer's approval or refusal.
func (p *StaffPages) decideReplacement(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.ballot(w, r, "scrutineer")
	if !ok {
		return
	}
	d := replacementsData{Role: "scrutineer", B: b}
	rid, err := strconv.ParseInt(chi.URLParam(r, "rid"), 10, 64)
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "deny":
	default:
		d.Error = p.msg(w, r, "issue.err.choose")
		p.showReplacements(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	// The request must be of this ballot.
	var ballotID int64
	if err == nil {
		err = p.svc.pool.QueryRow(r.Context(), `SELECT ballot_id FROM replacement_requests WHERE id = $1`, rid).Scan(&ballotID)
	}
	if err != nil || ballotID != b.ID {
		p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	err = p.svc.DecideReplacement(r.Context(), s.Actor(), rid, approve)
	switch {
	case err == nil:
		done := "denied"
		if approve {
			done = "approved"
		}
		http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/replacements?done=%s", b.ID, done), http.StatusSeeOther)
	case errors.Is(err, ErrNoRequest):
		d.Error = p.msg(w, r, "issue.err.decided")
		p.showReplacements(w, r, http.StatusConflict, d)
	case errors.Is(err, ErrSamePerson):
		d.Error = p.msg(w, r, "issue.err.same_person")
		p.showReplacements(w, r, http.StatusConflict, d)
	case errors.Is(err, ErrNothingToReplace):
		d.Error = p.msg(w, r, "issue.err.nothing")
		p.showReplacements(w, r, http.StatusConflict, d)
	default:
		p.pages.Fail(w, r, err)
	}
}

// msg is a catalogue text in the page's language, formatted with args
// (the texts with a %d take the voting-paper number).
func (p *StaffPages) msg(w http.ResponseWriter, r *http.Request, key string, args ...any) string {
	s := p.pages.T(p.pages.Lang(w, r), key)
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}
