package sms

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed templates/*.html i18n/*.json
var pageFS embed.FS

// Outbox is the development [Sender]: messages are stored in the table
// sms_outbox and shown on /dev/outbox, which is how `make run` users read
// their codes. It MUST only be wired when EBALLOT_SMS_PROVIDER=dev (config
// refuses dev with an https public URL).
type Outbox struct {
	pool   *pgxpool.Pool
	log    *slog.Logger
	pages  *page.Pages
	emails func(ctx context.Context, limit int) ([]DevEmail, error)
}

// DevEmail is an email of the development mail outbox (internal/mail),
// shown on /dev/outbox beside the texts.
type DevEmail struct {
	ID                int64
	To, Subject, Body string
	CreatedAt         time.Time
}

// ShowEmails makes /dev/outbox list the development emails too (wired by
// internal/app when EBALLOT_MAIL_PROVIDER=dev).
func (o *Outbox) ShowEmails(recent func(ctx context.Context, limit int) ([]DevEmail, error)) {
	o.emails = recent
}

// outboxPage is the data of dev_outbox.
type outboxPage struct {
	SMS        []OutboxMessage
	Emails     []DevEmail
	ShowEmails bool
}

// NewOutbox builds the development outbox. pages may be nil when the page
// is not served (tests of the sender alone).
func NewOutbox(pool *pgxpool.Pool, log *slog.Logger, pages *page.Pages) (*Outbox, error) {
	o := &Outbox{pool: pool, log: log, pages: pages}
	if pages != nil {
		if err := pages.AddTemplates(pageFS, "templates/dev_outbox.html"); err != nil {
			return nil, err
		}
		if err := pages.AddCatalog(pageFS, "i18n"); err != nil {
			return nil, err
		}
	}
	return o, nil
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

// Routes serves GET /dev/outbox (a [web.Module]). Wire it only in
// development.
func (o *Outbox) Routes(r chi.Router) {
	r.Get("/dev/outbox", func(w http.ResponseWriter, r *http.Request) {
		msgs, err := o.Recent(r.Context(), 50)
		if err != nil {
			o.pages.Fail(w, r, err)
			return
		}
		p := outboxPage{SMS: msgs, ShowEmails: o.emails != nil}
		if o.emails != nil {
			if p.Emails, err = o.emails(r.Context(), 50); err != nil {
				o.pages.Fail(w, r, err)
				return
			}
		}
		o.pages.Render(w, r, http.StatusOK, "dev_outbox", p)
	})
}
