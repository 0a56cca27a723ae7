package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retries, as the phone does (internal/web/page/static/vote.js keeps the
// ballot, the blinded tracker and the authorisation, and sends the same
// step again): a step whose request failed on the network, timed out or
// was answered 5xx (503 "unavailable" above all) or 429 is sent again with
// the same saved state until it succeeds or -retry-for has passed since
// the vote started. The service makes that safe: the same blinded message
// of the same member is answered with the signature already issued
// (internal/issuance: "repeated"), and the same entry cast again with its
// existing receipt (internal/ledger: ErrUnavailable "a cast submitted again
// is safe").
const (
	backoffFirst = 200 * time.Millisecond
	backoffMax   = 5 * time.Second
	// retryAfterMax caps a server's Retry-After.
	retryAfterMax = 30 * time.Second
)

// retryable says whether sending the same request again may succeed.
func retryable(err error) bool {
	var he *httpError
	var se *stepError
	switch {
	case errors.As(err, &he):
		return he.status >= 500 || he.status == http.StatusTooManyRequests
	case errors.As(err, &se):
		return false
	case errors.Is(err, context.Canceled):
		return false
	}
	return true // network errors and timeouts of one request
}

// parseRetryAfter reads a Retry-After in seconds (the service sends
// seconds; a date is ignored).
func parseRetryAfter(h string) time.Duration {
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, retryAfterMax)
}

// retrier runs the steps of one vote with retries until deadline; stop
// (the run's context) ends the retries early.
type retrier struct {
	stop     context.Context
	deadline time.Time
	st       *stats
}

// do runs f until it succeeds, fails for good, or the deadline passes; it
// returns f's last error.
func (r *retrier) do(ctx context.Context, step string, f func() error) error {
	backoff := backoffFirst
	for {
		err := f()
		if err == nil || !retryable(err) {
			return err
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		var he *httpError
		if errors.As(err, &he) && he.retryAfter > 0 {
			wait = he.retryAfter
		}
		backoff = min(2*backoff, backoffMax)
		if time.Now().Add(wait).After(r.deadline) || r.stop.Err() != nil {
			return err
		}
		r.st.retried(step, err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		case <-r.stop.Done():
			t.Stop()
			return err
		}
	}
}
