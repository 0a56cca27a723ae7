package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	rc  *twilio.RestClient
	cfg TwilioConfig
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
	c := &tclient.Client{Credentials: tclient.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: hc}
	c.SetAccountSid(cfg.AccountSID) // required with a custom Client
	rc := twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	return &Twilio{rc: rc, cfg: cfg}, nil
}

// Send implements [Sender]. Errors wrap one of the package's sentinels.
// twilio-go takes no context: cancellation applies only before the call.
func (t *Twilio) Send(ctx context.Context, m Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
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
	msg, err := t.rc.Api.CreateMessage(p)
	if err != nil {
		return "", mapTwilioError(err)
	}
	if msg == nil || msg.Sid == nil {
		return "", fmt.Errorf("send sms: %w: answer without a message sid", ErrUnavailable)
	}
	return *msg.Sid, nil
}

// mapTwilioError maps a twilio-go error to a sentinel, keeping the code
// (never the recipient) in the message.
func mapTwilioError(err error) error {
	var te *tclient.TwilioRestError
	if !errors.As(err, &te) {
		return fmt.Errorf("send sms: %w: %w", ErrUnavailable, err)
	}
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
