package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"syscall"
	"time"

	twilio "github.com/twilio/twilio-go"
	tclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioConfig configures [NewTwilio]. AuthToken MUST NOT be logged.
type TwilioConfig struct {
	AccountSID          string
	AuthToken           string
	MessagingServiceSID string // MG…; preferred over From when set
	From                string // E.164 sender when no messaging service
	// StatusCallback is the default delivery-report URL for messages that
	// do not set their own (e.g. https://vote.example/webhooks/twilio/status).
	StatusCallback string
	// HTTPClient, if set, carries the requests (tests point it at a local
	// server with a rewriting RoundTripper: twilio-go has no base-URL
	// option). Defaults to a client with a 15 s timeout.
	HTTPClient *http.Client
}

// Twilio sends messages with Twilio Programmable Messaging.
type Twilio struct {
	cfg TwilioConfig
	hc  *http.Client
}

// NewTwilio builds a Twilio sender.
func NewTwilio(cfg TwilioConfig) (*Twilio, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, errors.New("sms: twilio account SID and auth token are required")
	}
	if cfg.MessagingServiceSID == "" && cfg.From == "" {
		return nil, errors.New("sms: twilio needs a messaging service SID or a From number")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Twilio{cfg: cfg, hc: hc}, nil
}

// Send implements [Sender]. Errors wrap one of the package's sentinels:
// ErrUncertain (which also matches ErrUnavailable) once the request has
// been written to the connection and no definite answer came back (a
// timeout, a broken connection, ctx ending, a success status with an
// unreadable body); ErrUnavailable when nothing reached Twilio (no
// connection, TLS failure, ctx ended before the request was written) or
// it answered 429 or 5xx; ErrOptedOut, ErrInvalidNumber or ErrRejected
// for its other refusals.
//
// twilio-go takes no context: each call gets its own client whose
// transport carries ctx (so cancelling ctx aborts the request) and records
// whether the request was written and which status came back.
func (t *Twilio) Send(ctx context.Context, m Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("send sms: %w: %w", ErrUnavailable, err)
	}
	tr := &tracker{ctx: ctx, base: t.hc.Transport}
	if tr.base == nil {
		tr.base = http.DefaultTransport
	}
	defer tr.done()
	hc := *t.hc // Timeout, CheckRedirect and Jar as configured
	hc.Transport = tr
	c := &tclient.Client{Credentials: tclient.NewCredentials(t.cfg.AccountSID, t.cfg.AuthToken), HTTPClient: &hc}
	c.SetAccountSid(t.cfg.AccountSID) // required with a custom Client
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})

	p := &openapi.CreateMessageParams{}
	p.SetTo(m.To)
	if t.cfg.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(t.cfg.MessagingServiceSID)
	} else {
		p.SetFrom(t.cfg.From)
	}
	p.SetBody(m.Body)
	if cb := m.StatusCallback; cb != "" {
		p.SetStatusCallback(cb)
	} else if t.cfg.StatusCallback != "" {
		p.SetStatusCallback(t.cfg.StatusCallback)
	}
	msg, err := rc.Api.CreateMessage(p)
	if err != nil {
		return "", tr.mapError(err)
	}
	if msg == nil || msg.Sid == nil {
		// A success status without a message sid: Twilio took it.
		return "", fmt.Errorf("send sms: %w: %w: answer without a message sid", ErrUncertain, ErrUnavailable)
	}
	return *msg.Sid, nil
}

// tracker is the transport of one Send: it runs the requests under the
// caller's context (and the http.Client's deadline) and records whether a
// request was written in full and the status of the last answer.
type tracker struct {
	ctx  context.Context
	base http.RoundTripper

	mu       sync.Mutex
	written  bool
	status   int
	cleanups []func()
}

func (t *tracker) RoundTrip(req *http.Request) (*http.Response, error) {
	// The caller's ctx, cancelled also when the request's own context
	// (the http.Client's timeout) ends.
	ctx, cancel := context.WithCancelCause(t.ctx)
	stop := context.AfterFunc(req.Context(), func() { cancel(context.Cause(req.Context())) })
	t.mu.Lock()
	t.cleanups = append(t.cleanups, func() { stop(); cancel(nil) })
	t.mu.Unlock()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				t.mu.Lock()
				t.written = true
				t.mu.Unlock()
			}
		},
	})
	res, err := t.base.RoundTrip(req.WithContext(ctx))
	if res != nil {
		t.mu.Lock()
		t.status = res.StatusCode
		t.mu.Unlock()
	}
	return res, err
}

// done releases the contexts once the answer has been read.
func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.cleanups {
		f()
	}
}

// mapError maps a twilio-go error to a sentinel, keeping the status and
// code (never the recipient or the body) in the message.
func (t *tracker) mapError(err error) error {
	t.mu.Lock()
	written, status := t.written, t.status
	t.mu.Unlock()
	var te *tclient.TwilioRestError
	switch {
	case errors.As(err, &te):
		return mapTwilioError(te)
	case status >= 400:
		// An error status whose body could not be read: still a definite
		// answer.
		return mapTwilioError(&tclient.TwilioRestError{Status: status})
	case written || status != 0:
		// The request went out in full (or a success status came back)
		// but no usable answer did: Twilio may have taken the message.
		return fmt.Errorf("send sms: %w: %w (%s)", ErrUncertain, ErrUnavailable, errKind(err))
	}
	return fmt.Errorf("send sms: %w: %w", ErrUnavailable, stripURL(err))
}

// stripURL drops the request URL (it holds the account SID) from a
// transport error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errKind names a transport failure without its text (a *url.Error
// repeats the URL, which holds the account SID).
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "connection closed"
	}
	return "no usable answer"
}

// mapTwilioError maps a Twilio error answer to a sentinel, keeping the
// code (never the recipient) in the message.
func mapTwilioError(te *tclient.TwilioRestError) error {
	var kind error
	switch {
	case te.Code == 21610:
		kind = ErrOptedOut
	case te.Code == 21211 || te.Code == 21614 || te.Code == 21612 || te.Code == 21408 || te.Code == 21606:
		kind = ErrInvalidNumber
	case te.Status == http.StatusTooManyRequests || te.Status >= 500 || te.Status == 0:
		kind = ErrUnavailable
	default:
		kind = ErrRejected
	}
	return fmt.Errorf("send sms: %w (twilio status %d code %d)", kind, te.Status, te.Code)
}
