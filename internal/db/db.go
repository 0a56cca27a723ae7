// Package db opens the PostgreSQL pool and applies the embedded migrations.
package db

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/unionvote/eballot/migrations"
)

// VersionTable is the table where tern records the schema version.
const VersionTable = "schema_version"

// Open connects a pool to url and checks that the database answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can echo the URL, password included: keep only
		// a generic message.
		return nil, fmt.Errorf("DATABASE_URL is not a valid PostgreSQL URL or DSN")
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default, max(4, cores), starves a vote burst: issuance
		// holds a connection while it blind-signs (the signature and the
		// marked-register row commit together) and the ledger's group
		// commit needs its own. Connections open lazily, so an idle
		// service still holds few.
		cfg.MaxConns = int32(max(16, 4*runtime.GOMAXPROCS(0)))
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	return pool, nil
}

// Migrate applies every migration not yet applied. Concurrent callers are
// safe: tern takes an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), VersionTable)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Version reports the applied schema version and the latest one known to
// this binary.
func Version(ctx context.Context, pool *pgxpool.Pool) (current, latest int32, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), VersionTable)
	if err != nil {
		return 0, 0, err
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return 0, 0, err
	}
	current, err = m.GetCurrentVersion(ctx)
	return current, int32(len(m.Migrations)), err
}
