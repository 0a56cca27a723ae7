package app

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/mail/mailtest"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

// TestInvitationSweep: serve's invitation sender finds a ballot just opened
// and texts every member their link once; a text the provider could not
// take for now (503) is retried on later sweeps until it goes or has been
// tried maxAutoAttempts times; a number refused for good (invalid) is
// never retried automatically; with nothing left to do the sweep does not
// touch the ballot.
func TestInvitationSweep(t *testing.T) {
	fake := smstest.NewTwilio(t)
	const (
		ok      = "+447700900200"
		invalid = "+447700900201"
		later   = "+447700900202" // unavailable twice, then sent
		never   = "+447700900203" // always unavailable
	)
	var laterTries atomic.Int32
	fake.Fail = func(to string) (int, int) {
		switch to {
		case invalid:
			return 400, 21211
		case later:
			if laterTries.Add(1) <= 2 {
				return 503, 0
			}
		case never:
			return 503, 0
		}
		return 0, 0
	}
	smtp := mailtest.Start(t, mailtest.Options{Mode: mailtest.Plain})
	s := newSiteTwilio(t, fake, smtp, &lockedBuf{})
	ctx := context.Background()
	mobiles := []string{ok, invalid, later, never}
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "sweep", Members: len(mobiles), Open: true,
		Member: func(i int) (string, string, string) { return "Member " + string(rune('A'+i)), mobiles[i], "" }})
	sent := func(to string) int {
		n := 0
		for _, r := range fake.Requests() {
			if r.Form.Get("To") == to {
				n++
			}
		}
		return n
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pending := func() []int64 {
		ids, err := s.svc.Auth.PendingInvitations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}

	if ids := pending(); !slices.Contains(ids, b.ID) {
		t.Fatalf("a ballot just opened is not pending: %v", ids)
	}
	for sweep := 1; sweep <= 8; sweep++ {
		InvitationsOnce(ctx, s.svc.Auth, s.pool, log)
	}
	if n := sent(ok); n != 1 {
		t.Errorf("member with a good number: %d texts, want 1", n)
	}
	if n := sent(invalid); n != 1 {
		t.Errorf("invalid number: %d tries, want 1 (never retried)", n)
	}
	if n := sent(later); n != 3 {
		t.Errorf("temporarily unavailable: %d tries, want 3 (sent on the third)", n)
	}
	if n := sent(never); n != 5 {
		t.Errorf("always unavailable: %d tries, want 5 (maxAutoAttempts)", n)
	}
	var textedLater bool
	if err := s.pool.QueryRow(ctx, `SELECT sms_sent_at IS NOT NULL FROM auth_invitations WHERE ballot_id = $1 AND member_id = $2`,
		b.ID, b.MemberIDs[2]).Scan(&textedLater); err != nil || !textedLater {
		t.Errorf("the retried text is not recorded as sent: %v %v", textedLater, err)
	}
	if ids := pending(); slices.Contains(ids, b.ID) {
		t.Errorf("nothing left to send, yet the ballot is pending")
	}
	before := len(fake.Requests())
	if n := InvitationsOnce(ctx, s.svc.Auth, s.pool, log); n != 0 || len(fake.Requests()) != before {
		t.Errorf("an idle sweep worked on %d ballots and sent %d texts", n, len(fake.Requests())-before)
	}
}
