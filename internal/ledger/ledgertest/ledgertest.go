// Package ledgertest is the test kit of the ledger's users: a real ledger
// on a test database, stopped when the test ends.
package ledgertest

import (
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/ledger"
)

// New starts a ledger on pool (a pgtest database) with the service's
// secretKey, logging nowhere, and stops it when t ends.
func New(t testing.TB, pool *pgxpool.Pool, secretKey []byte) *ledger.Ledger {
	t.Helper()
	led, err := ledger.New(ledger.Options{Pool: pool, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: secretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(led.Stop)
	return led
}
