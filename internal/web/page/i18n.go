package page

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed i18n/*.json
var i18nFS embed.FS

// Languages are the supported languages, the first being the default.
var Languages = []string{"en", "cy"}

// Catalog maps language → message key → text.
type Catalog map[string]map[string]string

// T returns the text for key in lang, falling back to English, then to the
// key itself (which a test forbids: every key exists in every language).
func (c Catalog) T(lang, key string) string {
	if s, ok := c[lang][key]; ok {
		return s
	}
	if s, ok := c["en"][key]; ok {
		return s
	}
	return key
}

const langCookie = "lang"

// pickLanguage chooses the page language: ?lang= (remembered in a cookie),
// then the cookie, then Accept-Language, then English.
func pickLanguage(w http.ResponseWriter, r *http.Request) string {
	if q := r.URL.Query().Get("lang"); q != "" && supported(q) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: q, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return q
	}
	if ck, err := r.Cookie(langCookie); err == nil && supported(ck.Value) {
		return ck.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if strings.HasPrefix(tag, "cy") {
			return "cy"
		}
		if strings.HasPrefix(tag, "en") {
			return "en"
		}
	}
	return "en"
}

func supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}
