package audit

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestChainAndTamper(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				return Append(ctx, tx, "staff:1", "ballot.configure", nil, map[string]int{"n": i})
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	n, err := Verify(ctx, pool)
	if err != nil || n != 20 {
		t.Fatalf("verify: %d %v", n, err)
	}
	// The table refuses changes...
	if _, err := pool.Exec(ctx, "UPDATE audit_log SET actor = 'x' WHERE seq = 3"); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update allowed: %v", err)
	}
	if _, err := pool.Exec(ctx, "DELETE FROM audit_log WHERE seq = 3"); err == nil {
		t.Fatal("delete allowed")
	}
	// ...and a superuser who disables the triggers is caught, by entry.
	for _, tc := range []struct{ sql, want string }{
		{"UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 7", "entry 7 was changed"},
		{"DELETE FROM audit_log WHERE seq = 12", "entry 12 missing"},
	} {
		if _, err := pool.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER USER; "+tc.sql+"; ALTER TABLE audit_log ENABLE TRIGGER USER"); err != nil {
			t.Fatal(err)
		}
		_, err := Verify(ctx, pool)
		if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: got %v, want %q", tc.sql, err, tc.want)
		}
		// repair for the next case
		if _, err := pool.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER USER; TRUNCATE audit_log; ALTER TABLE audit_log ENABLE TRIGGER USER"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 15; i++ {
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return Append(ctx, tx, "system", "x", nil, map[string]int{"n": i}) }); err != nil {
				t.Fatal(err)
			}
		}
	}
}
