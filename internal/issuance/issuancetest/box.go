// Package issuancetest opens workplace boxes for tests that work below
// HTTP (the pages make the officer's account through internal/auth).
package issuancetest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/issuance"
)

// OpenBox opens box for the workplace ballot style of electionID, run by
// a new presiding officer account, and returns it.
func OpenBox(t testing.TB, pool *pgxpool.Pool, svc *issuance.Service, electionID, box, style string) issuance.Box {
	t.Helper()
	ctx := context.Background()
	id, err := svc.OpenBox(ctx, "scrutineer:test", electionID, issuance.BoxInput{Box: box, Style: style, Place: "Canteen",
		Officer: func(ctx context.Context) (int64, error) {
			var id int64
			err := pool.QueryRow(ctx, `INSERT INTO staff (role, name) VALUES ('presiding_officer', 'Presiding Officer') RETURNING id`).Scan(&id)
			return id, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.OfficerBox(ctx, 0, id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
