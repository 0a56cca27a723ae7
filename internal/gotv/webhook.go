package gotv

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	tclient "github.com/twilio/twilio-go/client"
)

// deliveryRank orders Twilio message statuses: a delivery report only
// moves a message forward (callbacks may arrive out of order or twice).
var deliveryRank = map[string]int{
	"accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
	"delivered": 5, "undelivered": 5, "failed": 5, "canceled": 5, "read": 6,
}

// Keywords of the inbound webhook (the whole message, case-insensitive),
// matching Twilio's default opt-out and opt-in handling.
var (
	stopKeywords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
	startKeywords = []string{"START", "UNSTOP", "YES"}
)

const maxWebhookBody = 64 << 10

// verify checks X-Twilio-Signature against the public URL Twilio called
// (EBALLOT_PUBLIC_URL + path + query; never r.Host, which a proxy changes)
// and returns the form. Without a configured auth token nothing verifies.
func (s *Service) verify(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.TwilioAuthToken == "" || s.cfg.PublicURL == "" {
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
	if err := r.ParseForm(); err != nil {
		return false
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" {
		return false
	}
	params := map[string]string{}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	rv := tclient.NewRequestValidator(s.cfg.TwilioAuthToken)
	return rv.Validate(s.cfg.PublicURL+r.URL.RequestURI(), params, sig)
}

// firstTime records a webhook event in tx and reports whether it is the
// first time it is seen: a replay (the same event again within the
// replay window) returns false and must change nothing.
func firstTime(ctx context.Context, tx pgx.Tx, now time.Time, parts ...string) (bool, error) {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p)) + ":" + p))
	}
	tag, err := tx.Exec(ctx, `INSERT INTO gotv_webhook_events (event_id, received_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`,
		h.Sum(nil), now)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// PruneWebhookEvents forgets the webhook events older than the replay
// window (run with the worker, at most every few minutes).
func (s *Service) PruneWebhookEvents(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM gotv_webhook_events WHERE received_at < $1`, s.now().Add(-s.cfg.ReplayWindow))
	return err
}

// fresh checks the send time t (Unix seconds, from our own signed callback
// URL) of a delivery report: within the replay window, not in the future
// (a minute of clock skew allowed).
func (s *Service) fresh(t string) bool {
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return false
	}
	at, now := time.Unix(sec, 0), s.now()
	return !at.Before(now.Add(-s.cfg.ReplayWindow)) && !at.After(now.Add(time.Minute))
}

// statusWebhook applies a Twilio delivery report (POST
// /webhooks/twilio/status). It is processed once: the same report again
// (message id and status) within the replay window changes nothing, and a
// report whose send time (t, in the signed URL) is older than the window
// or in the future is refused (403). A report without t (not for a
// reminder: sign-in codes' reports) changes nothing.
func (s *Service) statusWebhook(w http.ResponseWriter, r *http.Request) {
	if !s.verify(w, r) {
		s.log.WarnContext(r.Context(), "gotv webhook signature invalid", "hook", "status")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	sid := r.PostForm.Get("MessageSid")
	status := strings.ToLower(r.PostForm.Get("MessageStatus"))
	key := r.URL.Query().Get("k")
	rank, ok := deliveryRank[status]
	t := r.URL.Query().Get("t")
	if sid == "" || !ok || t == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !s.fresh(t) {
		s.log.WarnContext(r.Context(), "gotv webhook refused: stale or future send time", "hook", "status")
		http.Error(w, "forbidden: stale report", http.StatusForbidden)
		return
	}
	var code *int
	if c, err := strconv.Atoi(r.PostForm.Get("ErrorCode")); err == nil && c != 0 {
		code = &c
	}
	ctx := r.Context()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	defer tx.Rollback(ctx)
	if first, err := firstTime(ctx, tx, s.now(), "status", sid, status); err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	} else if !first {
		w.WriteHeader(http.StatusNoContent) // a replay: processed already
		return
	}
	// A report is evidence the provider accepted the message: a row whose
	// send was not recorded (sending/unknown) becomes 'sent'.
	var memberID int64
	err = tx.QueryRow(ctx, `UPDATE gotv_messages SET delivery = $3, delivery_rank = $4, error_code = coalesce($5, error_code),
		provider_id = coalesce(provider_id, $1),
		state = CASE WHEN state IN ('sending', 'unknown') AND send_started_at IS NOT NULL THEN 'sent' ELSE state END,
		sent_at = coalesce(sent_at, $6), claimed_by = CASE WHEN state IN ('sending', 'unknown') THEN NULL ELSE claimed_by END
		WHERE (provider_id = $1 OR (provider_id IS NULL AND $2 <> '' AND idem_key = $2)) AND delivery_rank < $4
		RETURNING coalesce(member_id, 0)`, sid, key, status, rank, code, s.now()).Scan(&memberID)
	if err != nil {
		// No such message, or the report is older than the status: nothing
		// to do (the event stays recorded: it was processed).
		if err := tx.Commit(ctx); err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if (status == "failed" || status == "undelivered") && code != nil && memberID != 0 {
		if err := flagContact(ctx, tx, memberID, *code, s.now()); err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	if err := tx.Commit(ctx); err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	s.m.delivery.WithLabelValues(status).Inc()
	if status == "failed" || status == "undelivered" {
		s.m.failed.WithLabelValues("delivery").Inc()
	}
	w.WriteHeader(http.StatusNoContent)
}

// inboundWebhook handles replies (POST /webhooks/twilio/inbound): STOP and
// its equivalents opt the number out, START opts it back in; then every
// message goes to Options.Replies (volunteers' conversations). With Twilio's
// Advanced Opt-Out the OptOutType field says which; otherwise the whole
// body is matched against the keywords.
func (s *Service) inboundWebhook(w http.ResponseWriter, r *http.Request) {
	if !s.verify(w, r) {
		s.log.WarnContext(r.Context(), "gotv webhook signature invalid", "hook", "inbound")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	from := r.PostForm.Get("From")
	word := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("Body")))
	action := ""
	switch strings.ToUpper(r.PostForm.Get("OptOutType")) {
	case "STOP":
		action = "stop"
	case "START":
		action = "start"
	}
	if action == "" {
		for _, k := range stopKeywords {
			if word == k {
				action = "stop"
			}
		}
		for _, k := range startKeywords {
			if word == k {
				action = "start"
			}
		}
	}
	ctx := r.Context()
	sid := r.PostForm.Get("MessageSid")
	if action != "" && sid != "" {
		applied, err := s.optOutOnce(ctx, sid, action, from, word)
		if err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		if !applied {
			action = "" // a replay: processed already
		}
	} else {
		action = "" // no message id: cannot be processed once
	}
	if action != "" {
		s.log.InfoContext(ctx, "gotv opt-out change", "action", action)
	}
	if s.replies != nil && from != "" {
		if err := s.replies(ctx, from, r.PostForm.Get("Body"), s.now()); err != nil {
			s.log.ErrorContext(ctx, "gotv reply not routed", "err", err)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
}

// optOutOnce applies a STOP or START reply (message sid) unless it was
// processed before; it reports whether it did.
func (s *Service) optOutOnce(ctx context.Context, sid, action, from, word string) (bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	first, err := firstTime(ctx, tx, s.now(), "inbound", sid)
	if err != nil || !first {
		return false, err
	}
	switch action {
	case "stop":
		kw := word
		if len(kw) > 32 || kw == "" {
			kw = "STOP"
		}
		if e164RE.MatchString(from) {
			_, err = tx.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, $2, $3)
				ON CONFLICT (number_index) DO NOTHING`, s.numberIndex(from), kw, s.now())
		}
	case "start":
		_, err = tx.Exec(ctx, `DELETE FROM gotv_optouts WHERE number_index = ANY($1)`, s.numberIndexes(from))
	}
	if err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}
