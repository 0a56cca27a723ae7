package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Browser is a cookie-keeping client for tests of a whole site (the real
// router, sessions and CSRF checks). Unlike [Client] it does not follow
// redirects; it sends the Origin a browser sends with any request but GET
// and HEAD, and remembers the CSRF token of the last page it read.
type Browser struct {
	T      testing.TB
	Base   string       // the site's URL: paths not starting with "http" are under it
	HTTP   *http.Client // its jar holds the session cookie
	Origin string       // sent on every request but GET and HEAD ("": none)
	CSRF   string       // the token of the last page read that carried one
}

// Page is a response as a Browser read it.
type Page struct {
	Code   int
	Body   string
	Header http.Header
}

// NewBrowser returns a Browser of base, with an empty cookie jar, sending
// base as its Origin; timeout bounds each request.
func NewBrowser(t testing.TB, base string, timeout time.Duration) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{T: t, Base: base, Origin: base, HTTP: &http.Client{Jar: jar, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// URL is path under the site, or path itself if it is a whole URL.
func (b *Browser) URL(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.Base + path
}

// Do sends req and reads the whole response.
func (b *Browser) Do(req *http.Request) Page {
	b.T.Helper()
	if b.Origin != "" && req.Method != http.MethodGet && req.Method != http.MethodHead {
		req.Header.Set("Origin", b.Origin)
	}
	res, err := b.HTTP.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if tok := CSRF(string(body)); tok != "" {
		b.CSRF = tok
	}
	return Page{res.StatusCode, string(body), res.Header}
}

// Get fetches path.
func (b *Browser) Get(path string) Page {
	b.T.Helper()
	return b.Send(http.MethodGet, path, "", nil, nil)
}

// Send sends a request of method to path with a body of type ctype ("":
// none) and the headers hdr.
func (b *Browser) Send(method, path, ctype string, body io.Reader, hdr map[string]string) Page {
	b.T.Helper()
	req, err := http.NewRequest(method, b.URL(path), body)
	if err != nil {
		b.T.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return b.Do(req)
}

// PostForm submits the form v to path (its csrf field as given).
func (b *Browser) PostForm(path string, v url.Values) Page {
	b.T.Helper()
	return b.Send(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), nil)
}

// Cookie is the value of the site's cookie name, "" if none.
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.Base)
	for _, c := range b.HTTP.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// SetCookie gives the browser the site's cookie name (a session made
// directly in the database, say).
func (b *Browser) SetCookie(name, value string) {
	u, _ := url.Parse(b.Base)
	b.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}
