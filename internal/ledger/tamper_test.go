package ledger

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/internal/pgtest"
)

func castN(t *testing.T, l *Ledger, casts []*testCast) {
	t.Helper()
	for i, c := range casts {
		if _, _, err := l.Cast(context.Background(), testElection, c.ballot, c.auth); err != nil {
			t.Fatalf("cast %d: %v", i, err)
		}
	}
}

// problemAt reports whether the audit named entry index.
func problemAt(rep *AuditReport, index int64) bool {
	for _, p := range rep.Problems {
		if p.Index == index {
			return true
		}
	}
	return false
}

func TestTamperDetected(t *testing.T) {
	ctx := context.Background()
	t.Run("entry", func(t *testing.T) {
		l, f, pool := newOpenLedger(t)
		castN(t, l, f.castsN(t, 20))
		// The trigger refuses even the superuser.
		if _, err := pool.Exec(ctx, `UPDATE ledger_entries SET entry = entry WHERE idx = 7`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("update with the trigger on: %v", err)
		}
		mustExec(t, pool, `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only`)
		// Flip one bit of the ballot's last byte (a proof scalar).
		mustExec(t, pool, `UPDATE ledger_entries SET entry = overlay(entry placing set_byte(substring(entry from length(entry) for 1), 0,
			get_byte(substring(entry from length(entry) for 1), 0) # 1) from length(entry) for 1) WHERE idx = 7`)
		mustExec(t, pool, `ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only`)
		rep, err := l.Audit(ctx, testElection, true)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Err() == nil || !problemAt(rep, 7) {
			t.Fatalf("tampered entry 7 not named: %+v", rep.Problems)
		}
		for _, p := range rep.Problems {
			if p.Index >= 0 && p.Index != 7 {
				t.Errorf("unexpected problem: %s", p)
			}
		}
		t.Logf("found: %v", rep.Err())
	})
	t.Run("hash", func(t *testing.T) {
		l, f, pool := newOpenLedger(t)
		castN(t, l, f.castsN(t, 20))
		// The level-1 hash over entries 4 and 5 is stored when entry 5 is appended.
		mustExec(t, pool, `ALTER TABLE ledger_hashes DISABLE TRIGGER ledger_hashes_append_only`)
		mustExec(t, pool, `UPDATE ledger_hashes SET hash = sha256(hash) WHERE idx = $1`, tlog.StoredHashIndex(1, 2))
		mustExec(t, pool, `ALTER TABLE ledger_hashes ENABLE TRIGGER ledger_hashes_append_only`)
		rep, err := l.Audit(ctx, testElection, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Err() == nil || !problemAt(rep, 5) {
			t.Fatalf("tampered hash of entry 5 not named: %+v", rep.Problems)
		}
	})
	t.Run("checkpoint", func(t *testing.T) {
		l, f, pool := newOpenLedger(t)
		castN(t, l, f.castsN(t, 5))
		mustExec(t, pool, `ALTER TABLE ledger_checkpoints DISABLE TRIGGER ledger_checkpoints_append_only`)
		mustExec(t, pool, `UPDATE ledger_checkpoints SET root = sha256(root) WHERE size = 5`)
		mustExec(t, pool, `ALTER TABLE ledger_checkpoints ENABLE TRIGGER ledger_checkpoints_append_only`)
		rep, err := l.Audit(ctx, testElection, false)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Err() == nil || rep.Problems[0].Size != 5 {
			t.Fatalf("tampered checkpoint not named: %+v", rep.Problems)
		}
	})
}

func mustExec(t *testing.T, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, sql string, args ...any) {
	t.Helper()
	if _, err := q.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestServiceRoleAppendOnly checks the eballot_service group role: it may
// read and append, never change or remove, even with the triggers off.
func TestServiceRoleAppendOnly(t *testing.T) {
	l, f, pool := newOpenLedger(t)
	castN(t, l, f.castsN(t, 3))
	ctx := context.Background()
	for _, trig := range []bool{true, false} {
		if !trig {
			mustExec(t, pool, `ALTER TABLE ledger_entries DISABLE TRIGGER USER`)
			mustExec(t, pool, `ALTER TABLE ledger_hashes DISABLE TRIGGER USER`)
		}
		for _, stmt := range []string{
			`UPDATE ledger_entries SET style = style WHERE idx = 0`,
			`DELETE FROM ledger_entries WHERE idx = 2`,
			`TRUNCATE ledger_entries CASCADE`,
			`UPDATE ledger_hashes SET hash = hash`,
			`DELETE FROM ledger_checkpoints`,
			`TRUNCATE ledger_hashes`,
		} {
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `SET LOCAL ROLE eballot_service`); err != nil {
					t.Fatalf("set role: %v", err)
				}
				var n int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&n); err != nil || n != 3 {
					t.Fatalf("select as eballot_service: %d %v", n, err)
				}
				_, err := tx.Exec(ctx, stmt)
				return err
			})
			if err == nil {
				t.Errorf("%s as eballot_service (triggers %v): allowed", stmt, trig)
			}
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("entries after the attempts: %d %v", n, err)
	}
}

// TestRunAsServiceRole runs a ledger as a login role in the eballot_service
// group, as docs/export-format.md tells operators to: opening, casting,
// reading and closing all work with SELECT and INSERT only.
func TestRunAsServiceRole(t *testing.T) {
	ctx := context.Background()
	pool, url := pgtest.NewDBURL(t)
	mustExec(t, pool, `DO $$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledger_app_test') THEN
			CREATE ROLE ledger_app_test LOGIN IN ROLE eballot_service;
		END IF;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END $$`)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.User = "ledger_app_test"
	app, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	l := newTestLedger(t, app)
	f := openTestElection(t, l)
	casts := f.castsN(t, 3)
	castN(t, l, casts)
	if _, _, err := l.Cast(ctx, testElection, casts[0].ballot, casts[0].auth); err != nil {
		t.Fatalf("resubmission as the service role: %v", err)
	}
	cp, err := l.Close(ctx, testElection)
	if err != nil || cp.Size != 3 {
		t.Fatalf("close as the service role: %v", err)
	}
	if rep, err := l.Audit(ctx, testElection, true); err != nil || rep.Err() != nil {
		t.Fatalf("audit as the service role: %v %v", err, rep.Err())
	}
	var user string
	if err := app.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != "ledger_app_test" {
		t.Fatalf("connected as %q", user)
	}
}
