package refresh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/sealed"
	"github.com/unionvote/eballot/internal/web/page"
)

// Lawful basis (docs/contact-refresh.md): a refresh message is a service
// message about the member's record, sent only where the member has not
// opted out — by the button on their page (refresh_optouts) or by STOP to
// any of the union's texts (gotv's list, by number).

// OptOut records the member's "send me no more messages asking me to
// check my details" (idempotent). Audited ("refresh.optout"), without
// any contact value.
func (s *Service) OptOut(ctx context.Context, l *link) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO refresh_optouts (member_id, union_id, source, opted_out_at) VALUES ($1, $2, 'member', $3)
			ON CONFLICT (member_id) DO NOTHING`, l.MemberID, l.UnionID, s.now())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return audit.Append(ctx, tx, actor(l), "refresh.optout", nil, map[string]any{"union": l.UnionID, "member": l.MemberID})
	})
	if err != nil {
		return fmt.Errorf("refresh opt-out: %w", err)
	}
	return nil
}

// reachable keeps the targets who have not opted out: not on the
// refresh opt-out list and, for a member with a mobile, that mobile not
// STOPped.
func (s *Service) reachable(ctx context.Context, ts []register.Target) ([]register.Target, error) {
	ids := make([]int64, 0, len(ts))
	var numbers []string
	for _, t := range ts {
		ids = append(ids, t.MemberID)
		if t.Mobile != "" {
			numbers = append(numbers, t.Mobile)
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT member_id FROM refresh_optouts WHERE member_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("refresh opt-outs: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("refresh opt-outs: %w", err)
	}
	opted := map[int64]bool{}
	for _, id := range out {
		opted[id] = true
	}
	stopped, err := s.outbox.StoppedNumbers(ctx, numbers)
	if err != nil {
		return nil, err
	}
	keep := ts[:0:0]
	for _, t := range ts {
		if !opted[t.MemberID] && (t.Mobile == "" || !stopped[t.Mobile]) {
			keep = append(keep, t)
		}
	}
	return keep, nil
}

// optedOut reports whether the member opted out of refresh messages
// (their page's button; STOP is checked by the outbox on the number).
func (s *Service) optedOut(ctx context.Context, memberID int64) (bool, error) {
	var at time.Time
	err := s.pool.QueryRow(ctx, `SELECT opted_out_at FROM refresh_optouts WHERE member_id = $1`, memberID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("refresh opt-out: %w", err)
	}
	return true, nil
}

// errOptedOut is gotv's: the outbox skips the text as "opted_out".
var errOptedOut = gotv.ErrOptedOut

// ---- The notice of a replaced mobile, through the outbox ----

// queueNotice keeps the old mobile, sealed (migration 0033), and the
// member's language and puts the notice in gotv's outbox, where STOP on
// that number, quiet hours and the daily cap apply and it is sent exactly
// once (docs/contact-refresh.md "The notice of a change").
func (s *Service) queueNotice(ctx context.Context, memberID int64, oldMobile, lang string) error {
	// The time is kept to the microsecond, as PostgreSQL keeps it, so that
	// the additional data is the same when the notice is read back.
	at := s.now().Truncate(time.Microsecond)
	ct, err := sealed.Seal(s.key, []byte(oldMobile), noticeAD(memberID, at))
	if err != nil {
		return fmt.Errorf("keep notice: %w", err)
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO refresh_notices (member_id, to_sealed, language, changed_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		memberID, ct, lang, at).Scan(&id); err != nil {
		return fmt.Errorf("keep notice: %w", err)
	}
	return s.outbox.EnqueueNotice(ctx, id, memberID)
}

// noticeAD binds a sealed old mobile to its member and its change: moved
// to another member's notice, it does not open.
func noticeAD(memberID int64, at time.Time) string {
	return fmt.Sprintf("refresh_notice:%d:%d", memberID, at.UnixMicro())
}

// NoticeText is the notice noticeID for gotv's outbox: the old number and
// the text in the member's language (gotv.Refresher).
func (s *Service) NoticeText(ctx context.Context, noticeID int64) (string, string, error) {
	var memberID int64
	var clear *string
	var ct []byte
	var lang string
	var at time.Time
	if err := s.pool.QueryRow(ctx, `SELECT member_id, to_number, to_sealed, language, changed_at FROM refresh_notices WHERE id = $1`, noticeID).
		Scan(&memberID, &clear, &ct, &lang, &at); err != nil {
		return "", "", fmt.Errorf("notice text: %w", err)
	}
	var to string
	if clear != nil { // written before migration 0033 and not yet sealed
		to = *clear
	} else {
		b, err := sealed.Open(s.key, ct, noticeAD(memberID, at))
		if err != nil {
			return "", "", fmt.Errorf("notice text: %w", err)
		}
		to = string(b)
	}
	return to, page.M("refresh.notice.mobile", page.Day(at.In(page.London))).In(s.pages.T, lang), nil
}

// SealNotices seals the old mobiles of notices written in clear before
// migration 0033 (the key is not in the database, so the migration
// cannot) and returns how many it sealed; on an up-to-date database it
// finds none. The service runs it before serving (internal/app
// IndexAtRest).
func (s *Service) SealNotices(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, member_id, to_number, changed_at FROM refresh_notices WHERE to_number IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("seal notices: %w", err)
	}
	type row struct {
		id, member int64
		to         string
		at         time.Time
	}
	todo, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.member, &x.to, &x.at)
		return x, err
	})
	if err != nil {
		return 0, fmt.Errorf("seal notices: %w", err)
	}
	for _, x := range todo {
		ct, err := sealed.Seal(s.key, []byte(x.to), noticeAD(x.member, x.at))
		if err != nil {
			return 0, fmt.Errorf("seal notices: %w", err)
		}
		if _, err := s.pool.Exec(ctx, `UPDATE refresh_notices SET to_sealed = $2, to_number = NULL WHERE id = $1 AND to_number IS NOT NULL`, x.id, ct); err != nil {
			return 0, fmt.Errorf("seal notices: %w", err)
		}
	}
	return len(todo), nil
}

// ---- Page ----

func (s *Service) optOut(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r, true)
	if !ok {
		return
	}
	if err := s.OptOut(r.Context(), l); err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	s.pages.Render(w, r, http.StatusOK, "refresh_done", doneData{Token: chi.URLParam(r, "token"), OptedOut: true})
}
