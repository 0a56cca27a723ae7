package election

import (
	"embed"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/web/page"
)

//go:embed templates/home.html
var homeTemplate embed.FS

// HomePage is the site's home page: the public list of ballots.
type HomePage struct {
	store  *Store
	pages  page.Renderer
	drafts bool
}

// NewHomePage returns the home page module; with drafts set (development
// only) ballots being set up are listed too. Its template is added by
// [RegisterPages].
func NewHomePage(store *Store, pages page.Renderer, drafts bool) *HomePage {
	return &HomePage{store: store, pages: pages, drafts: drafts}
}

// Routes registers GET /, and a union election's candidates' addresses
// (addresses_http.go).
func (h *HomePage) Routes(r chi.Router) {
	r.Get("/", h.home)
	r.Get("/ballots/{election}/addresses", h.addresses)
	r.Get("/ballots/{election}/addresses/{contest}/{candidate}/photo", h.addressPhoto)
}

func (h *HomePage) home(w http.ResponseWriter, r *http.Request) {
	ballots, err := h.store.PublicBallots(r.Context(), h.drafts)
	if err != nil {
		h.pages.Fail(w, r, err)
		return
	}
	h.pages.Render(w, r, http.StatusOK, "home", ballots)
}
