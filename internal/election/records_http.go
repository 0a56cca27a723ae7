package election

import (
	"bytes"
	"embed"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/records_notices.html templates/records_action.html templates/records_action_print.html
var recordsTemplates embed.FS

//go:embed i18n/records
var recordsCatalog embed.FS

// RegisterRecordsPages adds the pages of the ballot's records (per-employer
// s.226A notices, s.234A notices of industrial action, the audit log
// export) and their catalogue. The printable s.234A notice uses the
// notices' print stylesheet, the asset "notice-print.css"
// (internal/result registers it).
func RegisterRecordsPages(p page.Registry) error {
	if err := p.AddTemplates(recordsTemplates, "templates/records_notices.html", "templates/records_action.html", "templates/records_action_print.html"); err != nil {
		return err
	}
	return p.AddCatalog(recordsCatalog, "i18n/records")
}

// RecordsPages serves the organisers' per-employer s.226A notice records
// and the scrutineer's audit log export.
type RecordsPages struct {
	admin *Admin
	store *Store
	pages page.Renderer
	staff page.StaffFunc
}

// NewRecordsPages returns the module; register its templates and catalogue
// with [RegisterRecordsPages] first.
func NewRecordsPages(admin *Admin, store *Store, pages page.Renderer, staff page.StaffFunc) *RecordsPages {
	return &RecordsPages{admin: admin, store: store, pages: pages, staff: staff}
}

// Routes registers the pages.
func (p *RecordsPages) Routes(r chi.Router) {
	r.Get("/organiser/ballots/{id}/employer-notices", p.employerNotices)
	r.Post("/organiser/ballots/{id}/employer-notices", p.recordEmployerNotice)
	// s.234A notices of industrial action (action_notices.go).
	r.Get("/organiser/ballots/{id}/action-notices", p.actionNotices)
	r.Post("/organiser/ballots/{id}/action-notices", p.createActionNotice)
	r.Get("/organiser/ballots/{id}/action-notices/{n}", p.printActionNotice)
	r.Post("/organiser/ballots/{id}/action-notices/{n}/sent", p.recordActionNoticeSent)
	r.Get("/scrutineer/ballots/{id}/audit.jsonl", p.auditExport)
}

// auditExport downloads the audit log for the scrutineer
// (docs/audit-export.md; statutory.md §5 F38): the whole hash chain, this
// ballot's entries in full and the others reduced to their hashes, so
// `scrutineer verify-audit` can check it independently. The download is
// itself recorded first, so it is the export's last entry.
func (p *RecordsPages) auditExport(w http.ResponseWriter, r *http.Request) {
	s, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "scrutineer")
	if !ok {
		return
	}
	ctx := r.Context()
	var buf bytes.Buffer
	err := pgx.BeginFunc(ctx, p.store.pool, func(tx pgx.Tx) error {
		if err := audit.Append(ctx, tx, s.Actor(), "audit_log.export", &b.ID, nil); err != nil {
			return err
		}
		_, _, err := audit.Export(ctx, tx, b.ID, &buf)
		return err
	})
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.jsonl"`, b.ElectionID))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// employerNoticesData is the data of templates/records_notices.html.
type employerNoticesData struct {
	B         *AdminBallot
	Employers []EmployerNoticeRecord
	Message   string
	Error     *page.Text
	ErrorKey  string // the employer the error is about
	// StaleWhy is, per employer (the index of Employers), what changed
	// since its notice was given, in the page's language.
	StaleWhy [][]string
}

func (p *RecordsPages) employerNotices(w http.ResponseWriter, r *http.Request) {
	_, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	p.showEmployerNotices(w, r, b, http.StatusOK, r.URL.Query().Get("done"), nil, "")
}

func (p *RecordsPages) showEmployerNotices(w http.ResponseWriter, r *http.Request, b *AdminBallot, status int, msg string, actErr error, errKey string) {
	recs, err := p.admin.EmployerNoticeStatus(r.Context(), b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	if msg != "recorded" {
		msg = ""
	}
	d := employerNoticesData{B: b, Employers: recs, Message: msg, ErrorKey: errKey, StaleWhy: make([][]string, len(recs))}
	lang := p.pages.Lang(w, r)
	for i, e := range recs {
		for _, m := range e.StaleWhy {
			d.StaleWhy[i] = append(d.StaleWhy[i], m.In(p.pages.T, lang))
		}
	}
	if actErr != nil {
		e := errorText(p.pages, p.pages.Lang(w, r), actErr)
		d.Error = &e
	}
	p.pages.Render(w, r, status, "records_notices", d)
}

// recordEmployerNotice records one employer's notice and sample paper
// times (datetime-local, Europe/London; empty = not given yet).
func (p *RecordsPages) recordEmployerNotice(w http.ResponseWriter, r *http.Request) {
	s, b, ok := StaffBallot(w, r, p.staff, p.store, p.pages, "organiser")
	if !ok {
		return
	}
	employer := r.PostFormValue("employer")
	var ts [2]time.Time
	var bad []bool
	for i, f := range []struct{ key string }{{"notice_sent_at"}, {"sample_sent_at"}} {
		v := strings.TrimSpace(r.PostFormValue(f.key))
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation(formTime, v, london)
		if err != nil {
			bad = append(bad, i == 0)
			continue
		}
		ts[i] = t
	}
	var err error
	switch {
	case len(bad) == 2:
		err = invalid("records.err.bad_time", page.M("records.err.what_both"))
	case len(bad) == 1 && bad[0]:
		err = invalid("records.err.bad_time", page.M("records.err.what_notice"))
	case len(bad) == 1:
		err = invalid("records.err.bad_time", page.M("records.err.what_sample"))
	default:
		err = p.admin.RecordEmployerNotice(r.Context(), s.Actor(), b.ID, employer, ts[0], ts[1])
	}
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d/employer-notices?done=recorded", b.ID), http.StatusSeeOther)
	} else if pr, ok := page.Refused(err); ok {
		p.showEmployerNotices(w, r, b, pr.Status, "", err, EmployerKey(employer))
	} else {
		p.pages.Fail(w, r, err)
	}
}

// noticeLink is the printable s.226A notice of one employer.
func noticeLink(ballotID int64, key string) string {
	return fmt.Sprintf("/organiser/ballots/%d/notices?employer=%s", ballotID, url.QueryEscape(key))
}

// Link is the printable notice of this employer (the notices page shows
// only it).
func (e EmployerNoticeRecord) Link(ballotID int64) string { return noticeLink(ballotID, e.Key) }
