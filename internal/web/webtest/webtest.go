// Package webtest is the test kit of pages: the staff member of a request
// from test headers (standing in for internal/auth's session), a client
// that keeps cookies and follows redirects like a browser (Client, for
// handler tests), one that does not and sends a browser's Origin and CSRF
// token (Browser, for tests of the whole site), and the CSRF token of a
// page.
package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/unionvote/eballot/internal/web/page"
)

// Headers that carry the staff member in tests.
const (
	RoleHeader  = "X-Test-Role"
	UnionHeader = "X-Test-Union"
	IDHeader    = "X-Test-Staff" // the staff id (default 1)
)

// Staff is a page.StaffFunc for handler tests: the staff member (id 1,
// or the id of the IDHeader) whose role and union the request's test
// headers name; none without a role.
func Staff(r *http.Request) (page.Staff, bool) {
	role := r.Header.Get(RoleHeader)
	if role == "" {
		return page.Staff{}, false
	}
	u, _ := strconv.ParseInt(r.Header.Get(UnionHeader), 10, 64)
	id := int64(1)
	if v, err := strconv.ParseInt(r.Header.Get(IDHeader), 10, 64); err == nil && v > 0 {
		id = v
	}
	return page.Staff{ID: id, UnionID: u, Role: role}, true
}

// Client is a browser for handler tests: it keeps cookies, follows
// redirects sending the same headers, and sends the staff headers of Role
// and Union ("" role: a member of the public).
type Client struct {
	T     testing.TB
	Base  string // the server's URL
	Role  string
	Union int64
	ID    int64 // the staff id (0: the default, 1)
	HTTP  *http.Client
}

// NewClient returns a Client of base (an httptest server's URL).
func NewClient(t testing.TB, base, role string, union int64) *Client {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		req.Header = via[0].Header.Clone()
		return nil
	}}
	return &Client{T: t, Base: base, Role: role, Union: union, HTTP: hc}
}

// Do sends a request and returns the final status and body.
func (c *Client) Do(method, path, ctype string, body io.Reader) (int, string) {
	c.T.Helper()
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		c.T.Fatal(err)
	}
	if c.Role != "" {
		req.Header.Set(RoleHeader, c.Role)
		req.Header.Set(UnionHeader, strconv.FormatInt(c.Union, 10))
		if c.ID != 0 {
			req.Header.Set(IDHeader, strconv.FormatInt(c.ID, 10))
		}
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Get fetches path.
func (c *Client) Get(path string) (int, string) { return c.Do("GET", path, "", nil) }

// Post submits a form.
func (c *Client) Post(path string, v url.Values) (int, string) {
	return c.Do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

var csrfRE = regexp.MustCompile(`(?:name="csrf" value|data-csrf)="([^"]+)"`)

// CSRF is the CSRF token a page carries (its forms' csrf field or the
// data-csrf attribute its script reads), "" if none.
func CSRF(html string) string {
	if m := csrfRE.FindStringSubmatch(html); m != nil {
		return m[1]
	}
	return ""
}
