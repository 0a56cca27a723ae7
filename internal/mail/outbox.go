package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Outbox is the development [Sender]: messages are checked and built like
// real ones ([Build]), then stored in the table mail_outbox and shown on
// /dev/outbox next to the text messages. It MUST only be wired when
// EBALLOT_MAIL_PROVIDER=dev (config refuses dev with an https public URL).
type Outbox struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	from *mail.Address
	rand io.Reader
	now  func() time.Time
}

// NewOutbox builds the development outbox; from is the sender shown.
func NewOutbox(pool *pgxpool.Pool, log *slog.Logger, from string) (*Outbox, error) {
	f, err := ParseFrom(from)
	if err != nil {
		return nil, fmt.Errorf("mail outbox: From: %w", err)
	}
	return &Outbox{pool: pool, log: log, from: f, now: time.Now}, nil
}

// Send implements [Sender]: it builds the message (so a message the SMTP
// sender would refuse is refused here too), stores it, and logs its id
// only, never the address, subject or body.
func (o *Outbox) Send(ctx context.Context, m Message) (string, error) {
	id, err := NewMessageID(o.rand, o.from)
	if err != nil {
		return "", err
	}
	raw, err := Build(o.from, m, o.now(), id)
	if err != nil {
		return "", err
	}
	var n int64
	if err := o.pool.QueryRow(ctx, `INSERT INTO mail_outbox (message_id, to_addr, subject, body, raw) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		id, m.To, m.Subject, m.Text, raw).Scan(&n); err != nil {
		return "", fmt.Errorf("store mail: %w", err)
	}
	o.log.InfoContext(ctx, "email stored in the development outbox (read it on /dev/outbox)", "outbox_id", n, "body_len", len(m.Text))
	return id, nil
}

// Stored is one message in the development outbox.
type Stored struct {
	ID                int64
	MessageID         string
	To, Subject, Body string
	Raw               []byte // as it would go on the wire
	CreatedAt         time.Time
}

// Recent returns the newest messages first, at most limit.
func (o *Outbox) Recent(ctx context.Context, limit int) ([]Stored, error) {
	rows, err := o.pool.Query(ctx, `SELECT id, message_id, to_addr, subject, body, raw, created_at FROM mail_outbox ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read mail outbox: %w", err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var m Stored
		if err := rows.Scan(&m.ID, &m.MessageID, &m.To, &m.Subject, &m.Body, &m.Raw, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("read mail outbox: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
