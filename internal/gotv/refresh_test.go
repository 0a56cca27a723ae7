package gotv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

// testRefresher renders refresh texts from the members' current mobiles,
// with a new link per render (as internal/refresh does).
type testRefresher struct {
	pool    *pgxpool.Pool
	mu      sync.Mutex
	renders int
}

func (r *testRefresher) RefreshNumber(ctx context.Context, memberID int64) (string, error) {
	c, err := register.NewStore(r.pool, registertest.Key).CurrentContacts(ctx, []int64{memberID})
	return c[memberID].Mobile, err
}

func (r *testRefresher) RefreshText(ctx context.Context, campaignID, memberID int64) (string, string, error) {
	to, err := r.RefreshNumber(ctx, memberID)
	r.mu.Lock()
	r.renders++
	n := r.renders
	r.mu.Unlock()
	return to, fmt.Sprintf("Are your details right? %s/r/%d-%d", testPublicURL, memberID, n), err
}

func (r *testRefresher) NoticeText(context.Context, int64) (string, string, error) {
	return "", "", errors.New("no notices in this test")
}

// TestRefreshExactlyOnceAcrossRestart sends a contact-refresh campaign to
// 1,000 members through twilio-go against a fake Twilio at the wire
// (internal/sms/smstest): the worker is stopped mid-send (its context
// cancelled while a provider call is under way: the call is finished and
// recorded), then a second worker crashes between the provider's answer
// and the record (that row is set aside, never resent), then a third
// drains the rest. Every number gets exactly one request at the wire;
// opted-out numbers (STOP) and quiet hours are honoured.
func TestRefreshExactlyOnceAcrossRestart(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	const members = 1000
	b := bigBallot(t, pool, "refresh-once", members)
	_, err := pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) SELECT mobile_index, 'STOP', now() FROM members WHERE id = ANY($1)`,
		b.MemberIDs[:10])
	must(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO gotv_contacts (member_id, time_zone) SELECT unnest($1::bigint[]), 'Asia/Tokyo'`, b.MemberIDs[10:20])
	must(t, err)

	api := smstest.NewTwilio(t)
	sender, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "ACtest", AuthToken: "tok", From: "+447700900000",
		HTTPClient: api.ClientWithTimeout(10 * time.Second)})
	must(t, err)
	clk := &clock{t: londonNoon()}
	rf := &testRefresher{pool: pool}
	newSvc := func() *Service {
		s, err := New(Options{Pool: pool, Sender: sender, SecretKey: electiontest.SecretKey, Refresh: rf, Now: clk.Now,
			Link: func(context.Context, int64, int64) (string, error) { return "", errors.New("no ballot links") },
			Config: Config{PublicURL: testPublicURL, TwilioAuthToken: testToken, RatePerSecond: 1e6, Burst: 1000, Batch: 100,
				PollInterval: 10 * time.Millisecond}})
		must(t, err)
		return s
	}
	const campaign = 7
	s1 := newSvc()
	n, err := s1.EnqueueRefresh(ctx, campaign, b.MemberIDs, clk.Now())
	must(t, err)
	if n != members {
		t.Fatalf("enqueued %d", n)
	}
	if n, err := s1.EnqueueRefresh(ctx, campaign, b.MemberIDs, clk.Now()); err != nil || n != 0 {
		t.Fatalf("enqueue again: %d, %v", n, err)
	}

	// Run 1: stopped while the 300th request is at the provider.
	runCtx, stop := context.WithCancel(ctx)
	var seen atomic.Int64
	api.Fail = func(to string) (int, int) {
		if seen.Add(1) == 300 {
			stop()
			time.Sleep(50 * time.Millisecond) // the worker's context is done before the answer
		}
		return 0, 0
	}
	done := make(chan error, 1)
	go func() { done <- s1.Run(runCtx) }()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("worker did not stop")
	}
	api.Fail = nil
	var stuck int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE refresh_campaign_id = $1 AND state = 'sending' AND send_started_at IS NOT NULL`,
		campaign).Scan(&stuck))
	if stuck != 0 {
		t.Fatalf("%d sends started and not recorded after the stop (the started call must be finished)", stuck)
	}

	// Run 2: a crash between the answer and the record.
	s2 := newSvc()
	var crashedMember atomic.Int64
	s2.afterSend = func(m int64) bool { return crashedMember.CompareAndSwap(0, m) }
	if _, err := s2.Tick(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("Tick = %v", err)
	}

	// Run 3 (after the lease): drains; the crashed row is not resent (no
	// reconciler: it is set aside as unknown).
	clk.Set(clk.Now().Add(3 * time.Minute))
	s3 := newSvc()
	for i := 0; i < 100; i++ {
		n, err := s3.Tick(ctx)
		must(t, err)
		if n == 0 {
			break
		}
	}
	byTo := map[string]int{}
	for _, r := range api.Requests() {
		byTo[r.Form.Get("To")]++
	}
	var optedOut, tokyo []string
	contacts := registertest.Contacts(t, pool, b.MemberIDs...)
	for _, id := range b.MemberIDs {
		m := contacts[id].Mobile
		switch want := byTo[m]; {
		case id <= b.MemberIDs[9]:
			optedOut = append(optedOut, m)
			if want != 0 {
				t.Errorf("opted-out number got %d texts", want)
			}
		case id <= b.MemberIDs[19]:
			tokyo = append(tokyo, m)
			if want != 0 {
				t.Errorf("number in its quiet hours got %d texts", want)
			}
		default:
			if want != 1 {
				t.Errorf("member %d got %d texts, want exactly 1", id, want)
			}
		}
	}
	if len(optedOut) != 10 || len(tokyo) != 10 {
		t.Fatalf("fixture: %d opted out, %d in Tokyo", len(optedOut), len(tokyo))
	}
	if got := len(api.Requests()); got != members-20 {
		t.Fatalf("%d requests at the wire, want %d", got, members-20)
	}
	counts, err := s3.RefreshCounts(ctx, campaign)
	must(t, err)
	if counts["sent"] != members-21 || counts["unknown"] != 1 || counts["skipped"] != 10 || counts["pending"] != 10 {
		t.Fatalf("states: %v", counts)
	}
	var deferred int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_messages WHERE refresh_campaign_id = $1 AND state = 'pending' AND reason = 'quiet_hours'`,
		campaign).Scan(&deferred))
	if deferred != 10 {
		t.Fatalf("%d deferred for quiet hours, want 10", deferred)
	}
	_ = electiontest.SecretKey
}

// noticeRefresher is testRefresher with notices: each goes to oldNumber.
type noticeRefresher struct {
	testRefresher
	oldNumber string
}

func (r *noticeRefresher) NoticeText(context.Context, int64) (string, string, error) {
	return r.oldNumber, "Your mobile number on your union's records was changed.", nil
}

// recordingReconciler finds exactly the attempts made to number, and
// records every number it is asked about.
type recordingReconciler struct {
	mu     sync.Mutex
	number string
	asked  []string
}

func (r *recordingReconciler) Lookup(_ context.Context, a Attempt) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, a.To)
	if a.To == r.number {
		return "SMreconciled", true, nil
	}
	return "", false, nil
}

// TestNoticeReconciledWithTheOldNumber: a notice of a changed mobile goes
// to the OLD number; when its sender crashes between the provider's answer
// and the record, the recovery asks the provider about the old number (to
// which it was sent), finds it and records it sent — it is not checked
// against the member's current number (which would find nothing and mark
// a delivered notice failed).
func TestNoticeReconciledWithTheOldNumber(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := bigBallot(t, pool, "notice-reconcile", 3)
	member := b.MemberIDs[1]
	const oldNumber = "+447700900123"
	current := registertest.Mobile(t, pool, member)
	if current == oldNumber {
		t.Fatal("fixture: the member's current number is the old one")
	}
	api := smstest.NewTwilio(t)
	sender, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "ACtest", AuthToken: "tok", From: "+447700900000",
		HTTPClient: api.ClientWithTimeout(10 * time.Second)})
	must(t, err)
	clk := &clock{t: londonNoon()}
	rf := &noticeRefresher{testRefresher: testRefresher{pool: pool}, oldNumber: oldNumber}
	rec := &recordingReconciler{number: oldNumber}
	newSvc := func() *Service {
		s, err := New(Options{Pool: pool, Sender: sender, SecretKey: electiontest.SecretKey, Refresh: rf, Reconciler: rec, Now: clk.Now,
			Link: func(context.Context, int64, int64) (string, error) { return "", errors.New("no ballot links") },
			Config: Config{PublicURL: testPublicURL, TwilioAuthToken: testToken, RatePerSecond: 1e6, Burst: 1000, Batch: 100,
				PollInterval: 10 * time.Millisecond}})
		must(t, err)
		return s
	}
	s1 := newSvc()
	must(t, s1.EnqueueNotice(ctx, 41, member))
	s1.afterSend = func(int64) bool { return true } // the crash after the provider's answer
	if _, err := s1.Tick(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("Tick = %v", err)
	}
	if got := api.Requests(); len(got) != 1 || got[0].Form.Get("To") != oldNumber {
		t.Fatalf("requests at the wire: %v", got)
	}

	clk.Set(clk.Now().Add(3 * time.Minute)) // past the lease
	s2 := newSvc()
	for range 10 {
		n, err := s2.Tick(ctx)
		must(t, err)
		if n == 0 {
			break
		}
	}
	state, reason, err := s2.NoticeState(ctx, 41)
	must(t, err)
	if state != "sent" || reason != "reconciled" {
		t.Errorf("notice is %s (%s), want sent (reconciled)", state, reason)
	}
	for _, to := range rec.asked {
		if to != oldNumber {
			t.Errorf("the provider was asked about %s, not the old number the notice went to", to)
		}
	}
	if len(rec.asked) == 0 {
		t.Error("the provider was never asked")
	}
	if n := len(api.Requests()); n != 1 {
		t.Errorf("%d requests at the wire, want the one notice", n)
	}
}
