package election

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/unionvote/eballot/internal/web/page"
)

// registerData is what the register page shows, in the page's language.
type registerData struct {
	B       *AdminBallot
	Report  *ImportReport
	Diff    *RegisterDiff
	SHA     string // hex SHA-256 of the previewed upload, for the commit form
	Error   *page.Text
	Issues  []issueRow // the first ones, to keep the page small
	Omitted int
}

// issueRow is an [Issue] as the page shows it.
type issueRow struct {
	Line   int // 0 for the whole file
	Error  bool
	Reason page.Text
}

const maxIssuesShown = 500

// showReport puts the report's first issues on the page, in lang.
func (d *registerData) showReport(p page.Renderer, lang string, report *ImportReport) {
	d.Report, d.Omitted = report, report.Omitted
	issues := report.Issues
	if len(issues) > maxIssuesShown {
		d.Omitted += len(issues) - maxIssuesShown
		issues = issues[:maxIssuesShown]
	}
	d.Issues = make([]issueRow, len(issues))
	for i, is := range issues {
		d.Issues[i] = issueRow{Line: is.Line, Error: is.Severity == SeverityError, Reason: page.TextOf(p, lang, is.Msg)}
	}
}

// registerError is an error of the import as the page shows it.
func registerError(p page.Renderer, lang string, err error) *page.Text {
	e := errorText(p, lang, err)
	return &e
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
	r.Body = http.MaxBytesReader(w, r.Body, MaxRegisterBytes+1<<20)
	f, _, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusUnprocessableEntity, page.TextOf(p.pages, lang, page.M("admin.err.reg_choose")))
		return
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, MaxRegisterBytes+1))
	if err != nil || len(content) > MaxRegisterBytes {
		fail(http.StatusRequestEntityTooLarge, page.TextOf(p.pages, lang, page.M("admin.err.reg_too_large", MaxRegisterBytes>>20)))
		return
	}
	ctx := r.Context()
	cfg, policy, err := LoadImportSettings(ctx, p.admin.store.pool, b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	file, report := ParseRegister(bytes.NewReader(content), cfg, policy)
	d.showReport(p.pages, lang, report)
	if !report.OK() {
		p.pages.Render(w, r, http.StatusUnprocessableEntity, "admin_register", d)
		return
	}
	if d.Diff, err = PreviewImport(ctx, p.admin.store.pool, b.ID, file); err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	sum := sha256.Sum256(content)
	if _, err := p.admin.store.pool.Exec(ctx, `
		WITH old AS (DELETE FROM register_uploads WHERE uploaded_at < now() - interval '1 day')
		INSERT INTO register_uploads (ballot_id, sha256, content, uploaded_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (ballot_id, sha256) DO UPDATE SET uploaded_at = now()`, b.ID, sum[:], content, s.Actor()); err != nil {
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
		err = p.admin.store.pool.QueryRow(ctx, `SELECT content FROM register_uploads WHERE ballot_id = $1 AND sha256 = $2`, b.ID, sum).Scan(&content)
	}
	if err != nil || len(sum) != 32 {
		e := page.TextOf(p.pages, lang, page.M("admin.err.reg_gone"))
		p.pages.Render(w, r, http.StatusUnprocessableEntity, "admin_register", registerData{B: b, Error: &e})
		return
	}
	cfg, policy, err := LoadImportSettings(ctx, p.admin.store.pool, b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	file, report := ParseRegister(bytes.NewReader(content), cfg, policy)
	if !report.OK() {
		d := registerData{B: b}
		d.showReport(p.pages, lang, report)
		p.pages.Render(w, r, http.StatusUnprocessableEntity, "admin_register", d)
		return
	}
	if _, err := CommitImport(ctx, p.admin.store.pool, s.Actor(), b.ID, file); err != nil {
		if pr, ok := page.Refused(err); ok {
			p.pages.Render(w, r, pr.Status, "admin_register", registerData{B: b, Error: registerError(p.pages, lang, err)})
		} else {
			p.pages.Fail(w, r, err)
		}
		return
	}
	_, _ = p.admin.store.pool.Exec(ctx, `DELETE FROM register_uploads WHERE ballot_id = $1`, b.ID)
	http.Redirect(w, r, fmt.Sprintf("/organiser/ballots/%d?done=imported", b.ID), http.StatusSeeOther)
}

// notices shows the printable s.226A notice to employers.
func (p *AdminPages) notices(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	n, err := EmployerNotices(r.Context(), p.admin.store.pool, b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	// ?employer=KEY: the notice of one employer only (EmployerKey).
	if q := r.URL.Query(); q.Has("employer") {
		k := q.Get("employer")
		var one []EmployerNotice
		for _, e := range n.Employers {
			if EmployerKey(e.Employer) == k {
				one = append(one, e)
			}
		}
		if len(one) == 0 {
			p.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
			return
		}
		n.Employers = one
	}
	p.pages.Render(w, r, http.StatusOK, PageEmployerNotice, n)
}

// samplePaper shows the printable sample voting paper (s.226A(1)(b)).
func (p *AdminPages) samplePaper(w http.ResponseWriter, r *http.Request) {
	_, b, ok := p.staffBallot(w, r, "organiser")
	if !ok {
		return
	}
	sp, err := SampleVotingPaper(r.Context(), p.admin.store.pool, b.ID)
	if err != nil {
		p.pages.Fail(w, r, err)
		return
	}
	sp.ReturnTo = p.publicURL + "/vote/" + b.ElectionID
	p.pages.Render(w, r, http.StatusOK, PageSamplePaper, sp)
}
