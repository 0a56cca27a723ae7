package page

import (
	"fmt"
	"io/fs"
	"net/http"
)

// Staff is a signed-in organiser or scrutineer, as the session knows them.
type Staff struct {
	ID      int64
	UnionID int64  // the organiser's union; 0 for scrutineers
	Role    string // "organiser" or "scrutineer"
}

// Actor is how the staff member appears in the audit log.
func (s Staff) Actor() string { return fmt.Sprintf("%s:%d", s.Role, s.ID) }

// StaffFunc returns the signed-in staff member of a request (from the
// session; internal/auth provides it).
type StaffFunc func(r *http.Request) (Staff, bool)

// Renderer is what a module's pages need of [Pages].
type Renderer interface {
	Render(w http.ResponseWriter, r *http.Request, status int, page string, data any)
	RenderError(w http.ResponseWriter, r *http.Request, status int, key string)
	// Fail answers an error with its status and message ([Pages.Fail]);
	// FailJSON the same as a JSON problem.
	Fail(w http.ResponseWriter, r *http.Request, err error)
	FailJSON(w http.ResponseWriter, r *http.Request, err error)
	// Lang is the page language of the request; T a catalogue text in it.
	Lang(w http.ResponseWriter, r *http.Request) string
	T(lang, key string) string
}

// Registry is what a module needs of [Pages] to add its pages.
type Registry interface {
	AddTemplates(fsys fs.FS, files ...string) error
	AddCatalog(fsys fs.FS, dir string) error
	AddAsset(name string, content []byte) error
}

// StaffOf is the signed-in staff member of the request if they have one of
// roles; otherwise it answers (sign-in redirect, or 403) and returns false.
func StaffOf(w http.ResponseWriter, r *http.Request, staff StaffFunc, pages Renderer, roles ...string) (Staff, bool) {
	s, ok := staff(r)
	if !ok {
		http.Redirect(w, r, "/staff/signin", http.StatusSeeOther)
		return Staff{}, false
	}
	for _, role := range roles {
		if s.Role == role {
			return s, true
		}
	}
	pages.RenderError(w, r, http.StatusForbidden, "error.forbidden")
	return Staff{}, false
}
