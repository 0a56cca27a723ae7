package page

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// Pages renders server-side HTML pages in the member's language. Every page
// is the shared layout (templates/layout.html) around a page template that
// defines the blocks "title" and "content". Modules add their own page
// templates and message catalogues at start-up ([Pages.AddTemplates],
// [Pages.AddCatalog]) and render with [Pages.Render].
type Pages struct {
	log    *slog.Logger
	assets *assets

	mu    sync.RWMutex
	cat   Catalog
	pages map[string]*template.Template
	base  *template.Template

	// CSRFToken, when set, gives the token that pages put in their forms
	// (available to templates as .CSRF).
	CSRFToken func(*http.Request) string
}

// PageData is what a page template receives.
type PageData struct {
	Lang, OtherLang string
	CSRF            string
	Data            any
}

// New loads the layout, the base catalogue and the static assets.
func New(log *slog.Logger) (*Pages, error) {
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	p := &Pages{log: log, assets: as, cat: Catalog{}, pages: map[string]*template.Template{}}
	for _, l := range Languages {
		p.cat[l] = map[string]string{}
	}
	if err := p.AddCatalog(i18nFS, "i18n"); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"t":     p.T,
		"asset": as.URL,
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"when":  whenFunc,
		// local is a time as an <input type="datetime-local"> value, in
		// Europe/London.
		"local": func(t time.Time) string { return t.In(London).Format("2006-01-02T15:04") },
		// rankingTexts is the data-texts attribute of a ranked contest's
		// fieldset (static/ranking.js).
		"rankingTexts": p.RankingTexts,
	}
	p.base, err = template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("web: layout: %w", err)
	}
	if err := p.AddTemplates(templateFS, "templates/error.html"); err != nil {
		return nil, err
	}
	return p, nil
}

// AddCatalog merges the message files <lang>.json (one per supported
// language) found in dir of fsys. A key defined twice is an error.
func (p *Pages) AddCatalog(fsys fs.FS, dir string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, lang := range Languages {
		b, err := fs.ReadFile(fsys, path.Join(dir, lang+".json"))
		if err != nil {
			return fmt.Errorf("web: catalogue: %w", err)
		}
		m := map[string]string{}
		dec := json.NewDecoder(bytes.NewReader(b))
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("web: catalogue %s/%s.json: %w", dir, lang, err)
		}
		for k, v := range m {
			if _, dup := p.cat[lang][k]; dup {
				return fmt.Errorf("web: catalogue key %q defined twice", k)
			}
			p.cat[lang][k] = v
		}
	}
	return nil
}

// AddTemplates parses page templates (each defining "title" and "content")
// from fsys; a page is named by its file name without ".html".
func (p *Pages) AddTemplates(fsys fs.FS, files ...string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if _, dup := p.pages[name]; dup {
			return fmt.Errorf("web: page %q defined twice", name)
		}
		tp, err := template.Must(p.base.Clone()).ParseFS(fsys, f)
		if err != nil {
			return fmt.Errorf("web: page %s: %w", f, err)
		}
		p.pages[name] = tp
	}
	return nil
}

// AddAsset serves content as the static asset name (fingerprinted and
// cached like the others), e.g. a module's print stylesheet.
func (p *Pages) AddAsset(name string, content []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.assets.byName[name]; dup {
		return fmt.Errorf("web: asset %q defined twice", name)
	}
	p.assets.add(name, content)
	return nil
}

// T returns the text for key in lang (English, then the key, as fallback;
// a test requires every key in every language).
func (p *Pages) T(lang, key string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cat.T(lang, key)
}

// RankingTexts returns, as JSON, the texts of the ranking widget
// (static/ranking.js) in lang: every "ranking.*" message, keyed without
// the prefix. A page puts it in the data-texts attribute of a ranked
// contest's fieldset (crypto/js/README.md, "Ranking widget").
func (p *Pages) RankingTexts(lang string) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	m := map[string]string{}
	for k := range p.cat["en"] {
		if name, ok := strings.CutPrefix(k, "ranking."); ok {
			m[name] = p.cat.T(lang, k)
		}
	}
	b, _ := json.Marshal(m) // a map of strings always encodes
	return string(b)
}

// Catalog returns a copy of the merged message catalogue.
func (p *Pages) Catalog() Catalog {
	p.mu.RLock()
	defer p.mu.RUnlock()
	c := Catalog{}
	for l, m := range p.cat {
		c[l] = map[string]string{}
		for k, v := range m {
			c[l][k] = v
		}
	}
	return c
}

// Lang is the language of the request's page (see pickLanguage).
func (p *Pages) Lang(w http.ResponseWriter, r *http.Request) string { return pickLanguage(w, r) }

// Render writes page with data and status; a template failure becomes a
// generic 500 page (never half a page).
func (p *Pages) Render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	if err := p.write(w, r, status, page, data); err != nil {
		p.Fail(w, r, err)
	}
}

// RenderError writes the error page with the message of catalogue key.
func (p *Pages) RenderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	p.errorPage(w, r, status, Msg{}, M(key))
}

// errorData is the data of templates/error.html.
type errorData struct {
	Title string // "" for the default heading
	Text  Text
}

// errorPage writes the error page with title (zero: the default) and msg
// in the request's language.
func (p *Pages) errorPage(w http.ResponseWriter, r *http.Request, status int, title, msg Msg) {
	lang := pickLanguage(w, r)
	d := errorData{Text: TextOf(p, lang, msg)}
	if title.Key != "" {
		d.Title = title.In(p.T, lang)
	}
	if err := p.write(w, r, status, "error", d); err != nil {
		http.Error(w, http.StatusText(status), status)
	}
}

func (p *Pages) write(w http.ResponseWriter, r *http.Request, status int, page string, data any) error {
	p.mu.RLock()
	tp, ok := p.pages[page]
	p.mu.RUnlock()
	if !ok {
		return fmt.Errorf("web: no page %q", page)
	}
	lang := pickLanguage(w, r)
	other := "cy"
	if lang == "cy" {
		other = "en"
	}
	pd := PageData{Lang: lang, OtherLang: other, Data: data}
	if p.CSRFToken != nil {
		pd.CSRF = p.CSRFToken(r)
	}
	var buf bytes.Buffer
	if err := tp.ExecuteTemplate(&buf, "layout", pd); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// Assets serves the fingerprinted static files (mount it at /static/).
func (p *Pages) Assets() http.Handler { return p.assets }
