package gotv

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// postWebhook posts a correctly signed webhook and returns the status.
func postWebhook(t *testing.T, s *Service, path string, fields map[string]string) int {
	t.Helper()
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
	must(t, pool.QueryRow(ctx, `SELECT g.id, g.provider_id, g.idem_key, m.mobile FROM gotv_messages g JOIN members m ON m.id = g.member_id
		ORDER BY g.id LIMIT 1`).Scan(&id, &sid, &key, &to))
	delivery := func() (string, int) {
		var d string
		var r int
		must(t, pool.QueryRow(ctx, `SELECT delivery, delivery_rank FROM gotv_messages WHERE id = $1`, id).Scan(&d, &r))
		return d, r
	}
	statusPath := "/webhooks/twilio/status?k=" + key
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

	t.Run("failed number flagged", func(t *testing.T) {
		var id2 int64
		var sid2, key2 string
		must(t, pool.QueryRow(ctx, `SELECT id, provider_id, idem_key FROM gotv_messages WHERE id <> $1 ORDER BY id LIMIT 1`, id).
			Scan(&id2, &sid2, &key2))
		p := "/webhooks/twilio/status?k=" + key2
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
			must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_optouts WHERE number = $1`, num).Scan(&n))
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
			{map[string]string{"From": to, "Body": "QUIT"}, true}, // replay
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
