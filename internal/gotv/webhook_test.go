package gotv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register/registertest"
	"github.com/unionvote/eballot/internal/sealed"
)

var inboundSids atomic.Int64

// postWebhook posts a correctly signed webhook and returns the status. An
// inbound message without MessageSid gets a new one (every real message
// has its own).
func postWebhook(t *testing.T, s *Service, path string, fields map[string]string) int {
	t.Helper()
	if _, ok := fields["MessageSid"]; !ok && strings.HasPrefix(path, "/webhooks/twilio/inbound") {
		fields["MessageSid"] = fmt.Sprintf("SMin%032d", inboundSids.Add(1))
	}
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	return serve(s, webhookRequest(path, form, twilioSign(testToken, testPublicURL+path, form))).Code
}

func serve(s *Service, r *http.Request) *httptest.ResponseRecorder {
	rt := chi.NewRouter()
	s.Routes(rt)
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	return w
}

func TestWebhooks(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-hooks", Members: 10, Open: true})
	clk := &clock{t: londonNoon()}
	fake := newFakeSender(clk.Now)
	s := newTestService(t, pool, svcOpts{sender: fake, clock: clk.Now})
	startCampaign(t, s, pool, b, "Vote: {link}")
	drain(t, s)
	var id int64
	var sid, key, to string
	var member int64
	must(t, pool.QueryRow(ctx, `SELECT g.id, g.provider_id, g.idem_key, g.member_id FROM gotv_messages g
		ORDER BY g.id LIMIT 1`).Scan(&id, &sid, &key, &member))
	to = registertest.Mobile(t, pool, member)
	delivery := func() (string, int) {
		var d string
		var r int
		must(t, pool.QueryRow(ctx, `SELECT delivery, delivery_rank FROM gotv_messages WHERE id = $1`, id).Scan(&d, &r))
		return d, r
	}
	sentAt := "&t=" + strconv.FormatInt(clk.Now().Unix(), 10)
	statusPath := "/webhooks/twilio/status?k=" + key + sentAt
	form := url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}, "To": {to}}

	t.Run("bad or missing signature", func(t *testing.T) {
		for _, sig := range []string{"", "bm9wZQ==", twilioSign("wrong-token", testPublicURL+statusPath, form),
			twilioSign(testToken, "http://internal:8080"+statusPath, form), // r.URL, not the public URL
		} {
			w := serve(s, webhookRequest(statusPath, form, sig))
			if w.Code != http.StatusForbidden {
				t.Fatalf("signature %q: %d, want 403", sig, w.Code)
			}
		}
		// a tampered parameter
		sig := twilioSign(testToken, testPublicURL+statusPath, form)
		tampered := url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "To": {to}, "ErrorCode": {"30003"}}
		if w := serve(s, webhookRequest(statusPath, tampered, sig)); w.Code != http.StatusForbidden {
			t.Fatalf("tampered: %d", w.Code)
		}
		stop := url.Values{"From": {to}, "Body": {"STOP"}}
		if w := serve(s, webhookRequest("/webhooks/twilio/inbound", stop, "")); w.Code != http.StatusForbidden {
			t.Fatalf("inbound unsigned: %d", w.Code)
		}
		if d, r := delivery(); d != "" || r != 0 {
			t.Fatalf("state changed: %s %d", d, r)
		}
		var n int
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_optouts`).Scan(&n))
		if n != 0 {
			t.Fatal("unsigned STOP opted out")
		}
	})

	t.Run("forward only and idempotent", func(t *testing.T) {
		for _, st := range []string{"sent", "delivered", "delivered", "sent", "queued"} {
			if c := postWebhook(t, s, statusPath, map[string]string{"MessageSid": sid, "MessageStatus": st, "To": to}); c != 204 {
				t.Fatalf("%s: %d", st, c)
			}
			if d, _ := delivery(); st == "delivered" && d != "delivered" {
				t.Fatalf("after %s: %s", st, d)
			}
		}
		if d, r := delivery(); d != "delivered" || r != deliveryRank["delivered"] {
			t.Fatalf("out of order moved status back: %s", d)
		}
		// A failure after delivery does not overwrite it either.
		postWebhook(t, s, statusPath, map[string]string{"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30003"})
		if d, _ := delivery(); d != "delivered" {
			t.Fatalf("terminal status overwritten: %s", d)
		}
	})

	t.Run("replayed or stale report", func(t *testing.T) {
		var id3 int64
		var sid3, key3 string
		must(t, pool.QueryRow(ctx, `SELECT id, provider_id, idem_key FROM gotv_messages WHERE id <> $1 ORDER BY id DESC LIMIT 1`, id).
			Scan(&id3, &sid3, &key3))
		flagged := func() int {
			var n int
			must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_contact_issues ci JOIN gotv_messages g ON g.member_id = ci.member_id WHERE g.id = $1`, id3).Scan(&n))
			return n
		}
		// Stale (older than the window) or future send times: refused.
		for _, at := range []time.Time{clk.Now().Add(-DefaultReplayWindow - time.Hour), clk.Now().Add(time.Hour)} {
			p := "/webhooks/twilio/status?k=" + key3 + "&t=" + strconv.FormatInt(at.Unix(), 10)
			if c := postWebhook(t, s, p, map[string]string{"MessageSid": sid3, "MessageStatus": "failed", "ErrorCode": "30005"}); c != http.StatusForbidden {
				t.Fatalf("report sent at %s: %d, want 403", at, c)
			}
		}
		if flagged() != 0 {
			t.Fatal("a stale report flagged the number")
		}
		// Processed once: the member clears the flag (a new number), the
		// failure report is replayed: nothing happens.
		p := "/webhooks/twilio/status?k=" + key3 + sentAt
		fail := map[string]string{"MessageSid": sid3, "MessageStatus": "failed", "ErrorCode": "30005"}
		postWebhook(t, s, p, fail)
		if flagged() != 1 {
			t.Fatal("the failure report did not flag the number")
		}
		_, err := pool.Exec(ctx, `DELETE FROM gotv_contact_issues`)
		must(t, err)
		_, err = pool.Exec(ctx, `UPDATE gotv_messages SET delivery = '', delivery_rank = 0 WHERE id = $1`, id3)
		must(t, err)
		if c := postWebhook(t, s, p, fail); c != 204 {
			t.Fatalf("replay: %d", c)
		}
		if flagged() != 0 {
			t.Fatal("a replayed report was processed again")
		}
		// Forgotten after the window (then refused as stale anyway).
		clk.Set(clk.Now().Add(DefaultReplayWindow + time.Hour))
		must(t, s.PruneWebhookEvents(ctx))
		var n int
		must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_webhook_events`).Scan(&n))
		if n != 0 {
			t.Fatalf("%d webhook events kept after the window", n)
		}
		if c := postWebhook(t, s, p, fail); c != http.StatusForbidden || flagged() != 0 {
			t.Fatalf("report after the window: %d", c)
		}
		clk.Set(clk.Now().Add(-DefaultReplayWindow - time.Hour))
	})

	t.Run("failed number flagged", func(t *testing.T) {
		var id2 int64
		var sid2, key2 string
		must(t, pool.QueryRow(ctx, `SELECT id, provider_id, idem_key FROM gotv_messages WHERE id <> $1 ORDER BY id LIMIT 1`, id).
			Scan(&id2, &sid2, &key2))
		p := "/webhooks/twilio/status?k=" + key2 + sentAt
		postWebhook(t, s, p, map[string]string{"MessageSid": sid2, "MessageStatus": "undelivered", "ErrorCode": "30003"})
		postWebhook(t, s, p, map[string]string{"MessageSid": sid2, "MessageStatus": "undelivered", "ErrorCode": "30003"})
		issues, err := s.ContactIssues(ctx, b.ID)
		must(t, err)
		if issues[30003] != 1 {
			t.Fatalf("contact issues: %v", issues)
		}
	})

	t.Run("STOP and START", func(t *testing.T) {
		opted := func(num string) bool {
			var n int
			must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_optouts WHERE number_index = $1`, s.numberIndex(num)).Scan(&n))
			return n == 1
		}
		for _, tc := range []struct {
			fields map[string]string
			want   bool
		}{
			{map[string]string{"From": to, "Body": " stop "}, true},
			{map[string]string{"From": to, "Body": "START"}, false},
			{map[string]string{"From": to, "Body": "Unsubscribe"}, true},
			{map[string]string{"From": to, "Body": "start"}, false},
			{map[string]string{"From": to, "Body": "please stop texting", "OptOutType": "STOP"}, true},
			{map[string]string{"From": to, "Body": "x", "OptOutType": "START"}, false},
			{map[string]string{"From": to, "Body": "STOP now"}, false}, // not a keyword: no change
			{map[string]string{"From": to, "Body": "quit"}, true},
			{map[string]string{"From": to, "Body": "QUIT"}, true}, // the same word again, a new message
		} {
			if c := postWebhook(t, s, "/webhooks/twilio/inbound", tc.fields); c != 200 {
				t.Fatalf("inbound: %d", c)
			}
			if got := opted(to); got != tc.want {
				t.Fatalf("after %v: opted out = %v", tc.fields, got)
			}
		}
		for _, kw := range stopKeywords {
			postWebhook(t, s, "/webhooks/twilio/inbound", map[string]string{"From": "+447700999999", "Body": kw})
			if !opted("+447700999999") {
				t.Fatalf("%s did not opt out", kw)
			}
			postWebhook(t, s, "/webhooks/twilio/inbound", map[string]string{"From": "+447700999999", "Body": "START"})
		}
		// START also ends an opt-out recorded under the mobile's key
		// (before the purposes were separated, optouts.go).
		const old = "+447700999997"
		_, err := pool.Exec(ctx, `INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) VALUES ($1, 'STOP', now())`,
			sealed.Index(sealed.DeriveKey(electiontest.SecretKey, sealed.PurposeMobile), old))
		must(t, err)
		if o, err := s.optedOut(ctx, nil, []string{old}); err != nil || !o[old] {
			t.Fatalf("an opt-out under the mobile's key not counted: %v, %v", o, err)
		}
		postWebhook(t, s, "/webhooks/twilio/inbound", map[string]string{"From": old, "Body": "START"})
		if o, err := s.optedOut(ctx, nil, []string{old}); err != nil || o[old] {
			t.Fatalf("START left an opt-out under the mobile's key: %v, %v", o, err)
		}
		// A replayed webhook (the same message id, correctly signed) is
		// processed once: START then the STOP replayed leaves the member
		// opted in.
		stopMsg := map[string]string{"From": "+447700999998", "Body": "STOP", "MessageSid": "SMreplayed0000000000000000000000"}
		postWebhook(t, s, "/webhooks/twilio/inbound", stopMsg)
		if !opted("+447700999998") {
			t.Fatal("STOP did not opt out")
		}
		postWebhook(t, s, "/webhooks/twilio/inbound", map[string]string{"From": "+447700999998", "Body": "START"})
		if c := postWebhook(t, s, "/webhooks/twilio/inbound", stopMsg); c != 200 {
			t.Fatalf("replayed STOP: %d", c)
		}
		if opted("+447700999998") {
			t.Fatal("a replayed STOP opted the member out again")
		}
		// An opted-out member gets nothing from a new campaign.
		postWebhook(t, s, "/webhooks/twilio/inbound", map[string]string{"From": to, "Body": "STOP"})
		before := fake.count(to)
		clk.Set(clk.Now().Add(48 * time.Hour))
		id, err := s.CreateCampaign(ctx, organiser(b.UnionID), b.ID, CampaignInput{Name: "again", Steps: []StepInput{{Template: "{link}"}}})
		must(t, err)
		must(t, s.Schedule(ctx, organiser(b.UnionID), id))
		drain(t, s)
		if fake.count(to) != before {
			t.Fatal("opted-out member was sent a reminder")
		}
	})
}
