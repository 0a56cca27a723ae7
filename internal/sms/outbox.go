package sms

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Outbox is the development [Sender]: messages are stored in the table
// sms_outbox and shown on /dev/outbox (internal/devoutbox), which is how
// `make run` users read their codes. It MUST only be wired when
// EBALLOT_SMS_PROVIDER=dev (config refuses dev with an https public URL).
type Outbox struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// NewOutbox builds the development outbox.
func NewOutbox(pool *pgxpool.Pool, log *slog.Logger) *Outbox {
	return &Outbox{pool: pool, log: log}
}

// Send implements [Sender]: it stores the message and logs its id only,
// never the body or the number.
func (o *Outbox) Send(ctx context.Context, m Message) (string, error) {
	var id int64
	if err := o.pool.QueryRow(ctx, `INSERT INTO sms_outbox (to_number, body) VALUES ($1, $2) RETURNING id`,
		m.To, m.Body).Scan(&id); err != nil {
		// Not stored, so not "sent": ErrUnavailable, so that callers retry
		// or say so instead of answering as if the message went out.
		return "", fmt.Errorf("store sms: %w: %w", ErrUnavailable, err)
	}
	pid := "dev-" + strconv.FormatInt(id, 10)
	o.log.InfoContext(ctx, "sms stored in the development outbox (read it on /dev/outbox)", "provider_id", pid, "body_len", len(m.Body))
	return pid, nil
}

// OutboxMessage is one stored message.
type OutboxMessage struct {
	ID        int64
	To, Body  string
	CreatedAt time.Time
}

// Recent returns the newest messages first, at most limit.
func (o *Outbox) Recent(ctx context.Context, limit int) ([]OutboxMessage, error) {
	rows, err := o.pool.Query(ctx, `SELECT id, to_number, body, created_at FROM sms_outbox ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		var m OutboxMessage
		if err := rows.Scan(&m.ID, &m.To, &m.Body, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
