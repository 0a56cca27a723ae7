package result

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// The election report's files as `scrutineer ranked report` names them,
// and the names they are downloaded under.
const (
	ElectionReportFile    = "election-report.json"
	ElectionSignatureFile = "election-report.json.sig"
)

// electionRoutes registers the election reports' routes (Routes).
func (p *Pages) electionRoutes(r chi.Router) {
	r.Post("/scrutineer/ballots/{id}/result/election", p.publishElection)
	r.Get("/results/{election}/election/{question}", p.electionPage)
	r.Get("/results/{election}/election/{question}/"+ElectionReportFile, p.electionFile(false))
	r.Get("/results/{election}/election/{question}/"+ElectionSignatureFile, p.electionFile(true))
}

// publishElection takes a ranked contest's signed election report from the
// scrutineer (the same page as the ballot's result).
func (p *Pages) publishElection(w http.ResponseWriter, r *http.Request) {
	s, b, refuse, ok := p.uploadForm(w, r)
	if !ok {
		return
	}
	defer r.MultipartForm.RemoveAll()
	var up ElectionUpload
	var problems []page.Msg
	for _, f := range []struct {
		field, name, kind string
		max               int64
		into              *[]byte
	}{
		{"election_report", ElectionReportFile, "file.kind.report", MaxReportFile, &up.Report},
		{"election_signature", ElectionSignatureFile, "file.kind.signature", 64 << 10, &up.Signature},
	} {
		fhs := r.MultipartForm.File[f.field]
		if len(fhs) != 1 {
			problems = append(problems, page.M("result.err.choose", f.name))
			continue
		}
		data, err := readPart(fhs[0], f.max)
		if err != nil {
			problems = append(problems, partProblem(f.name, err))
			continue
		}
		if len(data) == 0 {
			problems = append(problems, page.M("result.err.choose", f.name))
			continue
		}
		if m, wrong := page.WrongFile(f.kind, data); wrong {
			problems = append(problems, page.M("result.err.part", fhs[0].Filename, m))
			continue
		}
		*f.into = data
	}
	if len(problems) > 0 {
		refuse(problems...)
		return
	}
	rep, err := p.svc.PublishElection(r.Context(), s.Actor(), b.ID, up)
	var rr *RefusedError
	switch {
	case errors.As(err, &rr):
		refuse(rr.Reasons...)
		return
	case err != nil:
		p.pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/scrutineer/ballots/%d/result?done=election#contest-%s", b.ID, rep.Question), http.StatusSeeOther)
}

// electionPage is the data of templates/result_election.html.
type electionPage struct {
	ElectionID string
	Ballot     *election.Ballot
	E          *ElectionReport
	// V is the report in the reader's language (crypto/report's view:
	// names, the stage table's cells and labels).
	V *report.ElectionView
	// Elected are the elected candidates' names in order of election.
	Elected []string
	Spoilt  int
}

// electionPage is the members' page of a ranked contest's result and the
// scrutineer's s.52 report (s.52(4)–(6): its contents reach the members).
func (p *Pages) electionPage(w http.ResponseWriter, r *http.Request) {
	e, b, ok := p.publishedElection(w, r)
	if !ok {
		return
	}
	v := e.Report.View(p.pages.Lang(w, r))
	p.pages.Render(w, r, http.StatusOK, "result_election", electionPage{ElectionID: b.ElectionID, Ballot: b, E: e, V: v,
		Elected: v.Elect, Spoilt: len(e.Report.Count.Spoilt)})
}

// electionFile serves the signed bytes exactly as uploaded, for anyone
// to check with `scrutineer check-result`.
func (p *Pages) electionFile(sig bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e, _, ok := p.publishedElection(w, r)
		if !ok {
			return
		}
		body, name, ctype := e.JSON, ElectionReportFile, "application/json"
		if sig {
			body, name, ctype = e.Sig, ElectionSignatureFile, "text/plain; charset=utf-8"
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", "attachment; filename="+strconv.Quote(name))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	}
}

func (p *Pages) publishedElection(w http.ResponseWriter, r *http.Request) (*ElectionReport, *election.Ballot, bool) {
	e, b, err := p.svc.PublishedElection(r.Context(), chi.URLParam(r, "election"), chi.URLParam(r, "question"))
	if errors.Is(err, election.ErrNotFound) {
		p.pages.RenderError(w, r, http.StatusNotFound, "result.election_not_published")
		return nil, nil, false
	}
	if err != nil {
		p.pages.Fail(w, r, err)
		return nil, nil, false
	}
	return e, b, true
}
