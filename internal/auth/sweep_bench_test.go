package auth_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/web/page"
)

// oneQuerySweep is the invitation sweep's query as it was before each
// table was read through its owner's store (one join of ballots, the
// register and invitations), kept here as the baseline of
// BenchmarkPendingInvitations.
const oneQuerySweep = `SELECT b.id FROM ballots b WHERE b.status = 'open' AND b.closes_at > $1 AND (
	EXISTS (SELECT 1 FROM register_entries re WHERE re.ballot_id = b.id AND NOT EXISTS (
		SELECT 1 FROM auth_invitations i WHERE i.ballot_id = b.id AND i.member_id = re.member_id AND i.revoked_at IS NULL))
	OR EXISTS (SELECT 1 FROM auth_invitations i WHERE i.ballot_id = b.id AND i.revoked_at IS NULL AND (
		(i.sms_sent_at IS NULL AND i.sms_error IN ('unavailable', 'error') AND i.sms_attempts < 3
			AND (i.sms_claimed_at IS NULL OR i.sms_claimed_at < $2))
		OR (i.email_sent_at IS NULL AND i.email_error IN ('unavailable', 'error', 'auth') AND i.email_attempts < 3
			AND (i.email_claimed_at IS NULL OR i.email_claimed_at < $2)))))
	ORDER BY b.id`

// The minute's invitation sweep over open ballots whose members all hold
// an invitation (the steady state: nothing to do), 3 ballots × 20,000
// members: PendingInvitations (three owners' reads) against the one join
// it replaced.
func BenchmarkPendingInvitations(b *testing.B) {
	pool := pgtest.NewDB(b)
	ctx := context.Background()
	const ballots, members = 3, 20000
	var unionID int64
	if err := pool.QueryRow(ctx, `INSERT INTO unions (slug, name) VALUES ('acme', 'ACME') RETURNING id`).Scan(&unionID); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO members (union_id, member_number, name, mobile)
		SELECT $1, 'N' || g, 'Member ' || g, '+447700' || lpad(g::text, 6, '0') FROM generate_series(1, $2) g`, unionID, members); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for i := 0; i < ballots; i++ {
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO ballots (union_id, election_id, title, kind, status, opens_at, closes_at)
			VALUES ($1, 'e' || $2::int, 'Ballot', 'industrial_action', 'open', $3, $4) RETURNING id`,
			unionID, i, now.Add(-time.Hour), now.Add(24*time.Hour)).Scan(&id); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style) SELECT $1, id, 'all' FROM members`, id); err != nil {
			b.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO auth_invitations (token_hash, ballot_id, member_id, generation, created_at, expires_at, sms_sent_at)
			SELECT sha256(int8send($1 * 1000000 + id)), $1, id, 1, $2, $3, $2 FROM members`, id, now, now.Add(24*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := url.Parse("https://vote.example")
	svc, err := auth.New(auth.Options{Pool: pool, Log: log, Pages: pages, PublicURL: pub, SecretKey: make([]byte, 32)})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("owners", func(b *testing.B) {
		for b.Loop() {
			ids, err := svc.PendingInvitations(ctx)
			if err != nil || len(ids) != 0 {
				b.Fatalf("%v %v", ids, err)
			}
		}
	})
	b.Run("one_join", func(b *testing.B) {
		for b.Loop() {
			rows, err := pool.Query(ctx, oneQuerySweep, now, now.Add(-10*time.Minute))
			if err != nil {
				b.Fatal(err)
			}
			rows.Close()
		}
	})
}
