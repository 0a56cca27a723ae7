// Package vote serves the member's voting journey: the voting paper with
// its statutory content (TULRCA s.229), the review step, and the pages where
// the phone encrypts, gets its blind authorisation, casts without cookies
// and keeps its receipt; plus the public "check my ballot" page.
//
// The server never sees a member's choices: the review happens in the
// browser and only the encrypted ballot leaves the phone, over a request
// that carries no cookie. This package knows who the member is, so it MUST
// NOT import internal/ledger (docs/architecture.md).
package vote

import (
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed i18n
var catalog embed.FS

// Templates returns the page templates and the message catalogue, for
// web.Pages.AddTemplates / AddCatalog.
func Templates() (tmpl embed.FS, files []string, cat embed.FS, dir string) {
	return templates, []string{"templates/vote_paper.html", "templates/vote_check.html", "templates/vote_audit.html"}, catalog, "i18n"
}

// Deps are the module's dependencies.
type Deps struct {
	Ballots  *election.Store
	Register *register.Store
	Issuance *issuance.Service
	Pages    page.Renderer
	// Member returns the signed-in member (internal/auth's session).
	Member func(r *http.Request) (int64, bool)
	// CSRF returns the request's CSRF token, sent by the page's script in
	// the X-CSRF-Token header.
	CSRF func(r *http.Request) string
	// SignIn is where a signed-out member is sent (e.g. "/signin").
	SignIn string
	Log    *slog.Logger
}

// Module serves the voting pages.
type Module struct{ d Deps }

// New returns the module.
func New(d Deps) *Module { return &Module{d: d} }

// Routes registers the pages.
func (m *Module) Routes(r chi.Router) {
	r.Get("/vote/{election}", m.paper)
	r.Post("/vote/{election}/not-me", m.notMe)
	r.Get("/check/{election}", m.check)
	r.Get("/check/{election}/audit", m.check)
}

// Paper is what the voting paper page shows.
type Paper struct {
	ElectionID string
	Title      string
	// PaperLang is the language of the paper's texts: the page's language
	// when the signed manifest has the paper in it (a bilingual ballot,
	// docs/protocol.md §3.1), English otherwise.
	PaperLang    string
	Kind         string
	ManifestHash string
	// HasRanked: the manifest has a ranked question, so its ballots are
	// version 2 (docs/protocol.md §4.2) and the page loads the ranked
	// bundle (dist/eballot-ranked.min.js) instead of the yes/no one.
	HasRanked bool
	ClosesAt  time.Time
	// OpensAt is the notified opening; NotYet is set before it (a ballot
	// whose opening is scheduled: the page says when voting opens).
	OpensAt     time.Time
	NotYet      bool
	ClosedAt    time.Time // when voting stopped (the close shown once it has)
	Texts       map[string]string
	Questions   []Question
	Style       int
	StyleName   string
	PaperNumber int
	Mark        issuance.Mark
	Open        bool
	CSRF        string
	NotMeDone   bool
}

// Question is a question of the paper as the template renders it.
type Question struct {
	Index   int
	ID      string
	Text    string
	Min     int
	Max     int
	Options []Option
	// Ranked: a union election's STV contest (manifest version 2): Min
	// to Max preferences, Seats to fill, counted by Rule.
	Ranked bool
	Seats  int
	Rule   string
	// Prefs are the preference numbers a candidate may be given, 1..Max.
	Prefs []int
}

// Option is an answer, or a candidate.
type Option struct {
	Index int
	ID    string
	Label string
	// Address: the candidate has an election address (s.48), on the
	// ballot's addresses page at #<question id>-<option id>.
	Address bool
}

var errNotOnRegister = errors.New("vote: not on this ballot's register")

func (m *Module) load(ctx context.Context, electionID string, memberID int64, lang string) (*Paper, error) {
	b, err := m.d.Ballots.Opened(ctx, electionID)
	if errors.Is(err, election.ErrNotFound) {
		return nil, errNotOnRegister
	}
	if err != nil {
		return nil, fmt.Errorf("voting paper: %w", err)
	}
	entry, err := m.d.Register.Entry(ctx, nil, b.ID, memberID)
	if errors.Is(err, register.ErrNotOnRegister) {
		return nil, errNotOnRegister
	}
	if err != nil {
		return nil, fmt.Errorf("voting paper: %w", err)
	}
	raw, mh, status, style := b.Manifest, b.ManifestHash, b.Status, entry.Style
	// The frozen manifest (docs/protocol.md §3), validated when the ballot
	// opened; the browser re-checks it in full against its hash.
	var mf manifest.Manifest
	if err := json.Unmarshal(raw, &mf); err != nil {
		return nil, fmt.Errorf("voting paper: manifest: %w", err)
	}
	closes, err := time.Parse(manifest.TimeFormat, mf.ClosesAt)
	if err != nil {
		return nil, fmt.Errorf("voting paper: manifest: %w", err)
	}
	opens, err := time.Parse(manifest.TimeFormat, mf.OpensAt)
	if err != nil {
		return nil, fmt.Errorf("voting paper: manifest: %w", err)
	}
	now := time.Now()
	stopped := closes // the close a late member is shown: the actual one
	if b.ClosedAt != nil {
		stopped = *b.ClosedAt
	}
	// The texts in the member's language come from the signed manifest.
	pp := mf.Paper(lang)
	p := &Paper{ElectionID: electionID, Title: pp.Title, PaperLang: pp.Lang, Kind: mf.Kind, ManifestHash: hex.EncodeToString(mh),
		ClosesAt: closes, OpensAt: opens, Texts: pp.Texts, Style: -1, Open: status == "open" && now.Before(closes),
		NotYet: status == "scheduled", ClosedAt: stopped}
	p.PaperNumber = entry.PaperNumber
	for i, s := range mf.Styles {
		if s.ID == style {
			p.Style, p.StyleName = i, s.Name
		}
	}
	if p.Style < 0 {
		return nil, fmt.Errorf("voting paper: style %q not in the manifest", style)
	}
	for qi, q := range pp.Questions {
		vq := Question{Index: qi, ID: q.ID, Text: q.Text, Min: q.Min, Max: q.Max, Ranked: q.Ranked(), Seats: q.Seats, Rule: q.Rule}
		p.HasRanked = p.HasRanked || vq.Ranked
		for n := 1; vq.Ranked && n <= q.Max; n++ {
			vq.Prefs = append(vq.Prefs, n)
		}
		for oi, o := range q.Options {
			// Address hashes are in the manifest's own options only
			// (a translation's carry none).
			addr := mf.Questions[qi].Options[oi].Address != ""
			vq.Options = append(vq.Options, Option{Index: oi, ID: o.ID, Label: o.Label, Address: addr})
		}
		p.Questions = append(p.Questions, vq)
	}
	if p.Mark, err = m.d.Issuance.MarkFor(ctx, electionID, memberID); err != nil {
		return nil, err
	}
	return p, nil
}

func (m *Module) paper(w http.ResponseWriter, r *http.Request) {
	memberID, ok := m.d.Member(r)
	if !ok {
		http.Redirect(w, r, m.d.SignIn, http.StatusSeeOther)
		return
	}
	p, err := m.load(r.Context(), chi.URLParam(r, "election"), memberID, m.d.Pages.Lang(w, r))
	if errors.Is(err, errNotOnRegister) {
		m.d.Pages.RenderError(w, r, http.StatusNotFound, "vote.not_on_register")
		return
	}
	if err != nil {
		m.d.Pages.Fail(w, r, err)
		return
	}
	p.CSRF = m.d.CSRF(r)
	p.NotMeDone = r.URL.Query().Get("reported") == "1"
	m.d.Pages.Render(w, r, http.StatusOK, "vote_paper", p)
}

// notMe records "this wasn't me" for an authorisation in the member's name.
func (m *Module) notMe(w http.ResponseWriter, r *http.Request) {
	memberID, ok := m.d.Member(r)
	if !ok {
		http.Redirect(w, r, m.d.SignIn, http.StatusSeeOther)
		return
	}
	e := chi.URLParam(r, "election")
	note := strings.TrimSpace(r.PostFormValue("note"))
	if err := m.d.Issuance.ReportNotMe(r.Context(), e, memberID, note); err != nil {
		if errors.Is(err, issuance.ErrNotEntitled) {
			m.d.Pages.RenderError(w, r, http.StatusNotFound, "vote.not_on_register")
			return
		}
		m.d.Pages.Fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/vote/"+e+"?reported=1", http.StatusSeeOther)
}

// check serves the public pages that need no sign-in: "check my vote"
// (a receipt or tracker against the ledger) and the Benaloh audit verifier.
func (m *Module) check(w http.ResponseWriter, r *http.Request) {
	e := chi.URLParam(r, "election")
	b, err := m.d.Ballots.Opened(r.Context(), e)
	if errors.Is(err, election.ErrNotFound) {
		m.d.Pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		m.d.Pages.Fail(w, r, err)
		return
	}
	page := "vote_check"
	if strings.HasSuffix(r.URL.Path, "/audit") {
		page = "vote_audit"
	}
	m.d.Pages.Render(w, r, http.StatusOK, page, map[string]string{"ElectionID": e, "Title": b.Title})
}
