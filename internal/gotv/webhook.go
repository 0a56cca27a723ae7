package gotv

import (
	"net/http"
	"strconv"
	"strings"

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

// statusWebhook applies a Twilio delivery report (POST
// /webhooks/twilio/status). It is idempotent: a report for a status the
// message already has, or an earlier one, changes nothing.
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
	if sid == "" || !ok {
		w.WriteHeader(http.StatusNoContent)
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
	// A report is evidence the provider accepted the message: a row whose
	// send was not recorded (sending/unknown) becomes 'sent'.
	var memberID int64
	err = tx.QueryRow(ctx, `UPDATE gotv_messages SET delivery = $3, delivery_rank = $4, error_code = coalesce($5, error_code),
		provider_id = coalesce(provider_id, $1),
		state = CASE WHEN state IN ('sending', 'unknown') AND send_started_at IS NOT NULL THEN 'sent' ELSE state END,
		sent_at = coalesce(sent_at, $6), claimed_by = CASE WHEN state IN ('sending', 'unknown') THEN NULL ELSE claimed_by END
		WHERE (provider_id = $1 OR (provider_id IS NULL AND $2 <> '' AND idem_key = $2)) AND delivery_rank < $4
		RETURNING member_id`, sid, key, status, rank, code, s.now()).Scan(&memberID)
	if err != nil {
		// No such message, or the report is a replay or older: nothing to do.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if (status == "failed" || status == "undelivered") && code != nil {
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
	var err error
	switch action {
	case "stop":
		kw := word
		if len(kw) > 32 || kw == "" {
			kw = "STOP"
		}
		_, err = s.pool.Exec(ctx, `INSERT INTO gotv_optouts (number, keyword, opted_out_at) SELECT $1, $2, $3
			WHERE $1 ~ '^\+[1-9][0-9]{6,14}$' ON CONFLICT (number) DO NOTHING`, from, kw, s.now())
	case "start":
		_, err = s.pool.Exec(ctx, `DELETE FROM gotv_optouts WHERE number = $1`, from)
	}
	if err != nil {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
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
