package election

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/manifest"
)

// The candidates' election addresses page (TULRCA s.48): once a union
// election has opened, every member (and anyone with the link: the page
// is the same for everyone, s.48(2)(b)) reads the same addresses, in the
// order and with the names of the signed manifest, each with its
// address_hash (docs/protocol.md §3.2) one tap away. The voting paper
// links to it.

// addressesData is what the page shows.
type addressesData struct {
	ElectionID, Title string
	PaperLang         string
	Contests          []addressContest
}

type addressContest struct {
	ID, Title  string
	Candidates []addressCandidate
}

type addressCandidate struct {
	ID, Name string
	// Text is the address in the page's language, TextLang its language
	// (English when there is no Welsh); Other the other language's text.
	Text, TextLang   string
	Other, OtherLang string
	Address          *ElectionAddress
}

func (h *HomePage) addresses(w http.ResponseWriter, r *http.Request) {
	eid := chi.URLParam(r, "election")
	o, err := h.store.Opened(r.Context(), eid)
	if errors.Is(err, ErrNotFound) {
		h.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	var m manifest.Manifest
	if err := json.Unmarshal(o.Manifest, &m); err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	if m.Kind != "union_election" {
		h.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	addrs, err := h.store.Addresses(r.Context(), nil, 0, eid)
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	lang := h.pages.Lang(w, r)
	paper := m.Paper(lang)
	d := addressesData{ElectionID: eid, Title: paper.Title, PaperLang: paper.Lang}
	for _, q := range paper.Questions {
		c := addressContest{ID: q.ID, Title: q.Text}
		for _, op := range q.Options {
			cand := addressCandidate{ID: op.ID, Name: op.Label}
			if a, ok := addrs[[2]string{q.ID, op.ID}]; ok {
				cand.Address = &a
				cand.Text, cand.TextLang, cand.Other, cand.OtherLang = a.TextEn, "en", a.TextCy, "cy"
				if (lang == "cy" && a.TextCy != "") || a.TextEn == "" {
					cand.Text, cand.TextLang, cand.Other, cand.OtherLang = a.TextCy, "cy", a.TextEn, "en"
				}
			}
			c.Candidates = append(c.Candidates, cand)
		}
		d.Contests = append(d.Contests, c)
	}
	h.pages.Render(w, r, http.StatusOK, "addresses", d)
}

// addressPhoto serves an opened ballot's photo. Frozen at the opening,
// so with ?v= its address hash (as the page links it) it is cached for
// a year and never revalidated; without, it is revalidated each time.
func (h *HomePage) addressPhoto(w http.ResponseWriter, r *http.Request) {
	ph, hash, err := h.store.AddressPhoto(r.Context(), 0, chi.URLParam(r, "election"), chi.URLParam(r, "contest"), chi.URLParam(r, "candidate"))
	if errors.Is(err, ErrNotFound) {
		h.pages.RenderError(w, r, http.StatusNotFound, "error.notfound")
		return
	}
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	etag := `"` + hash + `"`
	w.Header().Set("ETag", etag)
	if r.URL.Query().Get("v") == hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, no-cache")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	servePhoto(w, ph)
}
