// Package smstest is a local fake of the Twilio Messages API for tests:
// an httptest server that records requests and answers with Twilio-shaped
// JSON, and an *http.Client that routes twilio-go's requests to it.
package smstest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// Request is one recorded Messages.json request.
type Request struct {
	Path, User, Password string
	Form                 url.Values
}

// Twilio is the fake server.
type Twilio struct {
	Server *httptest.Server
	mu     sync.Mutex
	reqs   []Request
	// Fail, when set, returns (status, twilio error code) for a request.
	Fail func(to string) (int, int)
}

// NewTwilio starts the fake; it stops when the test ends.
func NewTwilio(t testing.TB) *Twilio {
	f := &Twilio{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Server.Close)
	return f
}

func (f *Twilio) serve(w http.ResponseWriter, r *http.Request) {
	u, p, _ := r.BasicAuth()
	_ = r.ParseForm()
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Path: r.URL.Path, User: u, Password: p, Form: r.PostForm})
	n := len(f.reqs)
	fail := f.Fail
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if fail != nil {
		if status, code := fail(r.PostForm.Get("To")); status != 0 {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"code": %d, "message": "error %d", "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`, code, code, code, status)
			return
		}
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"sid": "SM%032d", "status": "queued", "to": %q, "body": %q}`, n, r.PostForm.Get("To"), r.PostForm.Get("Body"))
}

// Requests returns the recorded requests.
func (f *Twilio) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Last returns the last request to number to ("" if none).
func (f *Twilio) LastBodyTo(to string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.reqs) - 1; i >= 0; i-- {
		if f.reqs[i].Form.Get("To") == to {
			return f.reqs[i].Form.Get("Body")
		}
	}
	return ""
}

type rewrite struct{ u *url.URL }

func (r rewrite) RoundTrip(q *http.Request) (*http.Response, error) {
	q = q.Clone(q.Context())
	q.URL.Scheme, q.URL.Host = r.u.Scheme, r.u.Host
	return http.DefaultTransport.RoundTrip(q)
}

// Client is an *http.Client that sends every request to the fake.
func (f *Twilio) Client() *http.Client {
	u, _ := url.Parse(f.Server.URL)
	return &http.Client{Transport: rewrite{u}}
}
