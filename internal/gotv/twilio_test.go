package gotv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sms"
)

// rewrite sends twilio-go's requests (hard-coded https://api.twilio.com)
// to a local server.
type rewrite struct{ u *url.URL }

func (r rewrite) RoundTrip(q *http.Request) (*http.Response, error) {
	q.URL.Scheme, q.URL.Host = r.u.Scheme, r.u.Host
	return http.DefaultTransport.RoundTrip(q)
}

// fakeTwilio is a minimal Twilio Messages API.
type fakeTwilio struct {
	mu    sync.Mutex
	sent  []url.Values
	byTo  map[string]int
	block map[string]bool // numbers that answer 21610
	now   func() time.Time
}

func (f *fakeTwilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "ACtest" || p != "tok" || r.URL.Path != "/2010-04-01/Accounts/ACtest/Messages.json" {
		http.Error(w, `{"code":20003,"status":401}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case http.MethodPost:
		_ = r.ParseForm()
		to := r.PostForm.Get("To")
		if f.block[to] {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`)
			return
		}
		f.sent = append(f.sent, r.PostForm)
		f.byTo[to]++
		w.WriteHeader(201)
		_ = json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032d", len(f.sent)), "status": "queued", "to": to})
	case http.MethodGet:
		to := r.URL.Query().Get("To")
		var list []map[string]any
		for i, m := range f.sent {
			if m.Get("To") == to {
				list = append(list, map[string]any{"sid": fmt.Sprintf("SM%032d", i+1), "to": to, "body": m.Get("Body"),
					"date_created": f.now().UTC().Format(time.RFC1123Z), "status": "sent"})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": list, "next_page_uri": nil, "page": 0, "page_size": 100})
	}
}

// TestTwilioSender drives internal/sms's twilio-go sender and the
// twilio-go reconciler against a local server: the status callback carries
// the row's key, a crash between send and record is reconciled from
// Twilio's message list (not resent), and 21610 marks the number opted out.
func TestTwilioSender(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-twilio", Members: 12, Open: true})
	clk := &clock{t: londonNoon()}
	api := &fakeTwilio{byTo: map[string]int{}, block: map[string]bool{}, now: clk.Now}
	srv := httptest.NewServer(api)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	hc := &http.Client{Transport: rewrite{u}, Timeout: 5 * time.Second}
	sender, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "ACtest", AuthToken: "tok", From: "+447700900000", HTTPClient: hc})
	must(t, err)
	rec, err := NewTwilioReconciler("ACtest", "tok", hc)
	must(t, err)
	blocked := mobileOf(t, pool, b.MemberIDs[5])
	api.block[blocked] = true

	s := newTestService(t, pool, svcOpts{sender: sender, rec: rec, clock: clk.Now})
	startCampaign(t, s, pool, b, "Hi {first_name}, vote: {link}")
	var crashed int64
	s.afterSend = func(m int64) bool { crashed = m; return true }
	if _, err := s.Tick(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("Tick = %v", err)
	}
	s.afterSend = nil
	clk.Set(clk.Now().Add(3 * time.Minute))
	drain(t, s)

	var state string
	must(t, pool.QueryRow(ctx, `SELECT state || '/' || reason FROM gotv_messages WHERE member_id = $1`, crashed).Scan(&state))
	if state != "sent/reconciled" {
		t.Fatalf("crashed row: %s", state)
	}
	if len(api.sent) != 11 {
		t.Fatalf("Twilio got %d messages, want 11", len(api.sent))
	}
	for to, n := range api.byTo {
		if n != 1 {
			t.Fatalf("%d messages to one number", n)
		}
		_ = to
	}
	for _, m := range api.sent {
		cb, err := url.Parse(m.Get("StatusCallback"))
		if err != nil || !strings.HasPrefix(m.Get("StatusCallback"), testPublicURL+"/webhooks/twilio/status?k=") || len(cb.Query().Get("k")) != 32 || cb.Query().Get("t") == "" {
			t.Fatalf("status callback %q", m.Get("StatusCallback"))
		}
		if m.Get("From") != "+447700900000" || !strings.HasPrefix(m.Get("Body"), "Hi Member, vote: https://vote.example/i/") {
			t.Fatalf("form: %v", m)
		}
	}
	must(t, pool.QueryRow(ctx, `SELECT state || '/' || reason FROM gotv_messages WHERE member_id = $1`, b.MemberIDs[5]).Scan(&state))
	if state != "failed/opted_out" {
		t.Fatalf("21610 row: %s", state)
	}
	var opted int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM gotv_optouts WHERE number_index = $1`, s.numberIndex(blocked)).Scan(&opted))
	if opted != 1 {
		t.Fatal("21610 did not record the opt-out")
	}
}
