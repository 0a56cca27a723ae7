package gotv

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	twilio "github.com/twilio/twilio-go"
	tclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioReconciler is a [Reconciler] over Twilio's message list: it looks
// for a message to the attempt's number, created after the attempt
// started, whose body has the attempt's SHA-256. Twilio keeps no
// idempotency key for outgoing messages, so this is the evidence available.
// It MUST NOT be used when the account redacts message bodies (every lookup
// would miss and messages would be sent twice); leave Reconciler nil then,
// and unconfirmed rows become 'unknown' instead.
type TwilioReconciler struct {
	rc *twilio.RestClient
}

// NewTwilioReconciler builds a reconciler. hc may be nil (15 s timeout).
func NewTwilioReconciler(accountSID, authToken string, hc *http.Client) (*TwilioReconciler, error) {
	if accountSID == "" || authToken == "" {
		return nil, errors.New("gotv: twilio account SID and auth token are required")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	c := &tclient.Client{Credentials: tclient.NewCredentials(accountSID, authToken), HTTPClient: hc}
	c.SetAccountSid(accountSID)
	return &TwilioReconciler{rc: twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})}, nil
}

// Lookup implements [Reconciler]. twilio-go takes no context.
func (t *TwilioReconciler) Lookup(ctx context.Context, a Attempt) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	if len(a.BodySHA256) != sha256.Size || a.To == "" {
		return "", false, errors.New("reconcile: attempt without number or body hash")
	}
	p := &openapi.ListMessageParams{}
	p.SetTo(a.To)
	p.SetPageSize(100)
	p.SetLimit(200)
	msgs, err := t.rc.Api.ListMessage(p)
	if err != nil {
		return "", false, fmt.Errorf("reconcile: list messages: %w", err)
	}
	for _, m := range msgs {
		if m.Sid == nil || m.Body == nil {
			continue
		}
		if m.DateCreated != nil {
			if created, err := time.Parse(time.RFC1123Z, *m.DateCreated); err == nil && created.Before(a.StartedAt.Add(-2*time.Minute)) {
				continue
			}
		}
		sum := sha256.Sum256([]byte(*m.Body))
		if subtle.ConstantTimeCompare(sum[:], a.BodySHA256) == 1 {
			return *m.Sid, true, nil
		}
	}
	return "", false, nil
}
