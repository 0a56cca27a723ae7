package election

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// registerData is what the register page shows, in the page's language.
type registerData struct {
	B       *AdminBallot
	Report  *register.Report
	Diff    *register.Diff
	SHA     string // hex SHA-256 of the previewed upload, for the commit form
	Error   *page.Text
	Issues  []issueRow // the first ones, to keep the page small
	Omitted int
}

// issueRow is a [register.Issue] as the page shows it.
type issueRow struct {
	Line   int // 0 for the whole file
	Error  bool
	Reason page.Text
}

const maxIssuesShown = 500

// showReport puts the report's first issues on the page, in lang.
func (d *registerData) showReport(p page.Renderer, lang string, report *register.Report) {
	d.Report, d.Omitted = report, report.Omitted
	issues := report.Issues
	if len(issues) > maxIssuesShown {
		d.Omitted += len(issues) - maxIssuesShown
		issues = issues[:maxIssuesShown]
	}
	d.Issues = make([]issueRow, len(issues))
	for i, is := range issues {
		d.Issues[i] = issueRow{Line: is.Line, Error: is.Severity == register.SeverityError, Reason: page.TextOf(p, lang, is.Msg)}
	}
}

// registerFailed shows the register page with a refusal of the import
// (its status and message), or answers any other error.
func (p *AdminPages) registerFailed(w http.ResponseWriter, r *http.Request, b *AdminBallot, err error) {
	pr, ok := page.Refused(err)
	if !ok {
		p.pages.Fail(w, r, err)
		return
	}
	e := page.TextOf(p.pages, p.pages.Lang(w, r), pr.Msg)
	p.pages.Render(w, r, pr.Status, "admin_register", registerData{B: b, Error: &e})
}

func (p *AdminPages) registerPage(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	p.pages.Render(w, r, http.StatusOK, "admin_register", registerData{B: b})
}

// registerPreview parses an uploaded register, reports every bad row and
// shows what would change; the file waits server-side for the commit.
func (p *AdminPages) registerPreview(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	lang := p.pages.Lang(w, r)
	d := registerData{B: b}
	fail := func(status int, e page.Text) {
		d.Error = &e
		p.pages.Render(w, r, status, "admin_register", d)
	}
	if b.Status != "draft" {
		fail(ErrNotDraft.Problem().Status, errorText(p.pages, lang, ErrNotDraft))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, register.MaxBytes+1<<20)
	f, _, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusUnprocessableEntity, page.TextOf(p.pages, lang, page.M("admin.err.reg_choose")))
		return
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, register.MaxBytes+1))
	if err != nil || len(content) > register.MaxBytes {
		fail(http.StatusRequestEntityTooLarge, page.TextOf(p.pages, lang, page.M("admin.err.reg_too_large", register.MaxBytes>>20)))
		return
	}
	ctx := r.Context()
	ib, err := p.store.ImportBallot(ctx, nil, b.ID, false)
	if err != nil {
		p.registerFailed(w, r, b, err)
		return
	}
	file, report := register.Parse(bytes.NewReader(content), ib.Workplaces, ib.Policy)
	d.showReport(p.pages, lang, report)
	if !report.OK() {
		p.pages.Render(w, r, register.ErrInvalid.Problem().Status, "admin_register", d)
		return
	}
	if d.Diff, err = p.admin.register.Preview(ctx, ib, file); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	sum := sha256.Sum256(content)
	if err := p.admin.register.SaveUpload(ctx, b.ID, sum, content, s.Actor()); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	d.SHA = hex.EncodeToString(sum[:])
	p.pages.Render(w, r, http.StatusOK, "admin_register", d)
}

// registerCommit imports the previewed file atomically.
func (p *AdminPages) registerCommit(w http.ResponseWriter, r *http.Request) {
	s, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	ctx := r.Context()
	lang := p.pages.Lang(w, r)
	sum, err := hex.DecodeString(r.PostFormValue("sha256"))
	var content []byte
	if err == nil && len(sum) == 32 {
		content, err = p.admin.register.Upload(ctx, b.ID, sum)
	}
	if errors.Is(err, register.ErrNoUpload) || len(sum) != 32 {
		e := page.TextOf(p.pages, lang, page.M("admin.err.reg_gone"))
		p.pages.Render(w, r, http.StatusUnprocessableEntity, "admin_register", registerData{B: b, Error: &e})
		return
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	ib, err := p.store.ImportBallot(ctx, nil, b.ID, false)
	if err != nil {
		p.registerFailed(w, r, b, err)
		return
	}
	file, report := register.Parse(bytes.NewReader(content), ib.Workplaces, ib.Policy)
	if !report.OK() {
		d := registerData{B: b}
		d.showReport(p.pages, lang, report)
		p.pages.Render(w, r, register.ErrInvalid.Problem().Status, "admin_register", d)
		return
	}
	if _, err := p.admin.register.Commit(ctx, p.store, s.Actor(), b.ID, file); err != nil {
		p.registerFailed(w, r, b, err)
		return
	}
	if err := p.admin.register.DeleteUploads(ctx, b.ID); err != nil {
		p.log.WarnContext(ctx, "register uploads not deleted", "err", err) // a day later they are
	}
	http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d?done=imported", b.ID), http.StatusSeeOther)
}
