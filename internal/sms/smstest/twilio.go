// Package smstest is a local fake of the Twilio Messages API for tests:
// an httptest server that records requests and answers with Twilio-shaped
// JSON, and an *http.Client that routes twilio-go's requests to it.
package smstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
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
	// Hang, when set and true for a recipient, records the request and
	// then gives no answer until the client goes away or the server stops
	// (a provider that took the message but whose answer never comes: the
	// client's timeout fires after the request was sent).
	Hang func(to string) bool
	// Drop, when set and true for a recipient, records the request and
	// closes the connection without answering.
	Drop func(to string) bool
	// Garble, when set and true for a recipient, answers 201 with a body
	// that is not JSON (the message was taken; the answer is unreadable).
	Garble func(to string) bool

	stop chan struct{}
}

// NewTwilio starts the fake; it stops when the test ends.
func NewTwilio(t testing.TB) *Twilio {
	f := &Twilio{stop: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		f.Release()
		f.Server.Close()
	})
	return f
}

func (f *Twilio) serve(w http.ResponseWriter, r *http.Request) {
	u, p, _ := r.BasicAuth()
	_ = r.ParseForm()
	f.mu.Lock()
	f.reqs = append(f.reqs, Request{Path: r.URL.Path, User: u, Password: p, Form: r.PostForm})
	n := len(f.reqs)
	fail, hang, drop, garble := f.Fail, f.Hang, f.Drop, f.Garble
	f.mu.Unlock()
	to := r.PostForm.Get("To")
	switch {
	case hang != nil && hang(to):
		select {
		case <-r.Context().Done():
		case <-f.stop:
		}
		return
	case drop != nil && drop(to):
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	case garble != nil && garble(to):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid": "SM`)
		return
	}
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

// Release ends every hanging request (Hang), and makes later ones end at
// once without an answer; it runs when the test ends.
func (f *Twilio) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
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

// ClientWithTimeout is [Twilio.Client] with an overall timeout per request
// (as sms.NewTwilio's default client has, 15 s).
func (f *Twilio) ClientWithTimeout(d time.Duration) *http.Client {
	c := f.Client()
	c.Timeout = d
	return c
}

// Signature computes the X-Twilio-Signature Twilio sends with a webhook
// (base64 HMAC-SHA1, under the account's auth token, of the full public
// URL followed by the form's keys in sorted order, each with its value),
// independently of twilio-go, for tests that post webhooks as Twilio would.
func Signature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form.Get(k))
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
