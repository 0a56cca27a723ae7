package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/sms"
)

// smsRecorder is a text provider that counts, per number, the calls and
// the messages it accepted. down numbers answer "provider unavailable"
// (nothing sent), lost numbers a transport error that is none of the sms
// sentinels (the message may or may not have gone: uncertain).
type smsRecorder struct {
	mu             sync.Mutex
	calls, taken   map[string]int
	down, lost     map[string]bool
	delay          time.Duration
	downNow        atomic.Bool
	realProvider   sms.Sender
	passThroughFor func(to string) bool
}

func (r *smsRecorder) Send(ctx context.Context, m sms.Message) (string, error) {
	if r.passThroughFor != nil && r.passThroughFor(m.To) {
		return r.realProvider.Send(ctx, m)
	}
	time.Sleep(r.delay) // a provider round trip: concurrent runs overlap
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[m.To]++
	switch {
	case r.down[m.To] && r.downNow.Load():
		return "", fmt.Errorf("send sms: %w (twilio status 503 code 0)", sms.ErrUnavailable)
	case r.lost[m.To]:
		return "", errors.New("send sms: connection reset after the request was written")
	}
	r.taken[m.To]++
	return fmt.Sprintf("SM%d", r.calls[m.To]), nil
}

func (r *smsRecorder) count(to string) (calls, taken int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[to], r.taken[to]
}

// Concurrent IssueInvitations runs (two replicas, a retried job) text each
// member once; a text the provider did not take is retried by the next
// run; one whose outcome is uncertain is never sent again.
func TestInvitationTextsAtMostOnce(t *testing.T) {
	t.Parallel()
	rec := &smsRecorder{calls: map[string]int{}, taken: map[string]int{}, down: map[string]bool{}, lost: map[string]bool{},
		delay: 20 * time.Millisecond}
	rec.downNow.Store(true)
	const n = 10
	var contacts [][2]string
	for i := 0; i < n; i++ {
		contacts = append(contacts, [2]string{fmt.Sprintf("+4477009004%02d", i), ""})
	}
	downNo, lostNo := contacts[3][0], contacts[7][0]
	rec.down[downNo], rec.lost[lostNo] = true, true
	mine := map[string]bool{}
	for _, c := range contacts {
		mine[c[0]] = true
	}
	e := newEnvWith(t, nil, func(o *auth.Options) {
		// The fixture's own ballot is texted through the fake Twilio.
		rec.realProvider, rec.passThroughFor = o.SMS, func(to string) bool { return !mine[to] }
		o.SMS = rec
		o.Mail = nil
	})
	ctx := context.Background()
	ballot, ids := e.emailBallot("pay-sms", contacts)

	var wg sync.WaitGroup
	var total auth.IssueReport
	var mu sync.Mutex
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := e.svc.IssueInvitations(ctx, ballot)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total.SMSSent += rep.SMSSent
			total.SMSFailed += rep.SMSFailed
			total.SMSUncertain += rep.SMSUncertain
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, c := range contacts {
		calls, taken := rec.count(c[0])
		switch c[0] {
		case downNo:
			if calls < 1 || taken != 0 {
				t.Errorf("provider down for %s: %d calls, %d taken", c[0], calls, taken)
			}
		case lostNo:
			if calls != 1 || taken != 0 {
				t.Errorf("uncertain %s: %d calls, %d taken", c[0], calls, taken)
			}
		default:
			if calls != 1 || taken != 1 {
				t.Errorf("%s texted %d times (%d taken) by three concurrent runs, want once", c[0], calls, taken)
			}
		}
	}
	if total.SMSSent != n-2 || total.SMSUncertain != 1 || total.SMSFailed < 1 {
		t.Fatalf("concurrent runs: %+v", total)
	}
	if t.Failed() {
		return
	}

	// The provider is back: the next run texts only the member whose text
	// was not taken; the uncertain one is not sent again.
	rec.downNow.Store(false)
	downCalls, _ := rec.count(downNo)
	rep, err := e.svc.IssueInvitations(ctx, ballot)
	if err != nil || rep.SMSSent != 1 || rep.SMSFailed != 0 || rep.SMSUncertain != 0 || rep.Issued != 0 {
		t.Fatalf("retry run: %+v %v", rep, err)
	}
	if calls, taken := rec.count(downNo); calls != downCalls+1 || taken != 1 {
		t.Fatalf("retried text to %s: %d calls, %d taken", downNo, calls, taken)
	}
	if calls, _ := rec.count(lostNo); calls != 1 {
		t.Fatalf("uncertain text sent again: %d calls", calls)
	}
	if rep, err := e.svc.IssueInvitations(ctx, ballot); err != nil || rep.SMSSent+rep.SMSFailed+rep.SMSUncertain != 0 {
		t.Fatalf("last run: %+v %v", rep, err)
	}
	// Every invitation is recorded as texted and none is left claimed; the
	// uncertain one was tried exactly once.
	var unsent, claimed, lostAttempts int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE sms_sent_at IS NULL), count(*) FILTER (WHERE sms_claimed_at IS NOT NULL),
		coalesce(sum(sms_attempts) FILTER (WHERE member_id = $2), 0) FROM auth_invitations WHERE ballot_id = $1`, ballot, ids[7]).
		Scan(&unsent, &claimed, &lostAttempts); err != nil {
		t.Fatal(err)
	}
	if unsent != 0 || claimed != 0 || lostAttempts != 1 {
		t.Fatalf("invitations: %d not texted, %d still claimed, %d attempts for the uncertain one", unsent, claimed, lostAttempts)
	}
	// The log names neither the numbers nor the links.
	for _, c := range contacts {
		if strings.Contains(e.logs.String(), c[0]) {
			t.Fatalf("logs hold %s", c[0])
		}
	}
}
