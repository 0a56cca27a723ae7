package packs

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/packs.html
var templates embed.FS

//go:embed i18n
var catalog embed.FS

// RegisterPages adds the page and its catalogue (keys "packs.…").
func RegisterPages(p page.Registry) error {
	if err := p.AddTemplates(templates, "templates/packs.html"); err != nil {
		return err
	}
	return p.AddCatalog(catalog, "i18n")
}

// Options are the module's dependencies.
type Options struct {
	Pool     *pgxpool.Pool // for the audit log only
	Store    *election.Store
	Register *register.Store
	Code     CodeFunc
	URL      string // the printed short URL (internal/auth PackURL)
	Pages    page.Renderer
	Staff    page.StaffFunc
	Log      *slog.Logger
}

// Pages serves the scrutineer's postal packs page and its two files.
type Pages struct{ o Options }

// NewPages returns the module.
func NewPages(o Options) *Pages { return &Pages{o: o} }

// Routes registers the page.
func (p *Pages) Routes(r chi.Router) {
	r.Get("/scrutineer/ballots/{id}/packs", p.show)
	r.Post("/scrutineer/ballots/{id}/packs", p.download)
}

// pageData is the data of templates/packs.html.
type pageData struct {
	B             *election.AdminBallot
	Open          bool // the register is frozen and numbered: packs can be made
	Packs         int  // how many packs the ballot's setting makes
	Everyone      bool // a hybrid ballot sent to everyone (the ballot's setting)
	ReturnAddress string
	Error         string
}

func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, b *election.AdminBallot, d pageData) {
	d.B, d.Everyone = b, b.Config.PaperToEveryone
	if b.Status != "draft" {
		rs, err := p.o.Register.PackRecipients(r.Context(), b.ID, d.Everyone)
		if err != nil {
			p.o.Pages.Fail(w, r, err)
			return
		}
		d.Open, d.Packs = true, len(rs)
	}
	p.o.Pages.Render(w, r, status, "packs", d)
}

func (p *Pages) show(w http.ResponseWriter, r *http.Request) {
	_, b, ok := election.StaffBallot(w, r, p.o.Staff, p.o.Store, p.o.Pages, "scrutineer")
	if !ok {
		return
	}
	p.render(w, r, http.StatusOK, b, pageData{})
}

// download makes the PDF or the CSV of the packs asked for.
func (p *Pages) download(w http.ResponseWriter, r *http.Request) {
	s, b, ok := election.StaffBallot(w, r, p.o.Staff, p.o.Store, p.o.Pages, "scrutineer")
	if !ok {
		return
	}
	lang := p.o.Pages.Lang(w, r)
	// Who gets a pack is the ballot's setting, chosen by the organiser
	// while it was a draft and frozen at the opening.
	d := pageData{Everyone: b.Config.PaperToEveryone,
		ReturnAddress: strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("return_address"), "\r", ""))}
	format := r.PostFormValue("format")
	refuse := func(key string, args ...any) {
		d.Error = p.o.Pages.T(lang, key)
		if len(args) > 0 {
			d.Error = fmt.Sprintf(d.Error, args...)
		}
		p.render(w, r, http.StatusUnprocessableEntity, b, d)
	}
	switch {
	case b.Status == "draft":
		refuse("packs.err_draft") // paper numbers are given when the register is frozen (s.229(1A)(c))
		return
	case format != "pdf" && format != "csv":
		refuse("packs.err_format")
		return
	case format == "pdf" && d.ReturnAddress == "":
		refuse("packs.err_return_missing") // s.229(1A)(b)
		return
	case utf8.RuneCountInString(d.ReturnAddress) > MaxReturnAddress || strings.Count(d.ReturnAddress, "\n") > 5:
		refuse("packs.err_return_long", MaxReturnAddress)
		return
	}
	if _, err := encode(strings.ReplaceAll(d.ReturnAddress, "\n", " ")); err != nil {
		var ec CharacterError
		errors.As(err, &ec)
		refuse("packs.err_character", string(ec.R))
		return
	}
	ctx := r.Context()
	opened, err := p.o.Store.Opened(ctx, b.ElectionID)
	if err != nil {
		p.o.Pages.Fail(w, r, err)
		return
	}
	// The frozen manifest (docs/protocol.md §3), validated when the ballot
	// opened, as the voting page reads it.
	m := &manifest.Manifest{}
	if err := json.Unmarshal(opened.Manifest, m); err != nil {
		p.o.Pages.Fail(w, r, fmt.Errorf("packs: manifest: %w", err))
		return
	}
	rs, err := p.o.Register.PackRecipients(ctx, b.ID, d.Everyone)
	if err != nil {
		p.o.Pages.Fail(w, r, err)
		return
	}
	packs, err := Build(ctx, m, b.ID, rs, p.o.Code)
	if err != nil {
		p.o.Pages.Fail(w, r, err)
		return
	}
	pb := Ballot{ID: b.ID, ElectionID: b.ElectionID, Manifest: m, URL: p.o.URL, ReturnAddress: d.ReturnAddress}
	var file []byte
	if format == "pdf" {
		if file, err = PDF(pb, packs, p.o.Pages.T); err != nil {
			var ec CharacterError
			if errors.As(err, &ec) {
				refuse("packs.err_character", string(ec.R))
				return
			}
			p.o.Pages.Fail(w, r, err)
			return
		}
	} else {
		var sb strings.Builder
		if err := WriteCSV(&sb, pb, packs); err != nil {
			p.o.Pages.Fail(w, r, err)
			return
		}
		file = []byte(sb.String())
	}
	// The files hold members' codes and addresses: who made which, audited.
	if err := pgx.BeginFunc(ctx, p.o.Pool, func(tx pgx.Tx) error {
		return audit.Append(ctx, tx, s.Actor(), "packs."+format, &b.ID,
			map[string]any{"packs": len(packs), "everyone": d.Everyone})
	}); err != nil {
		p.o.Pages.Fail(w, r, err)
		return
	}
	p.o.Log.Info("postal packs made", "ballot", b.ID, "format", format, "packs", len(packs))
	ctype := "application/pdf"
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="packs-%s.%s"`, b.ElectionID, format))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(file)
}
