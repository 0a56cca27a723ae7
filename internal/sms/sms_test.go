package sms_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	sid   = "AC00000000000000000000000000000001"
	token = "secretauthtoken1234"
)

func TestTwilioSend(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     sms.TwilioConfig
		msgCB   string
		wantKey string
		wantVal string
		wantCB  string
	}{
		{"messaging service, default callback", sms.TwilioConfig{MessagingServiceSID: "MG123", StatusCallback: "https://vote.example/webhooks/twilio/status"}, "", "MessagingServiceSid", "MG123", "https://vote.example/webhooks/twilio/status"},
		{"from number, per-message callback", sms.TwilioConfig{From: "+447700900000"}, "https://vote.example/cb", "From", "+447700900000", "https://vote.example/cb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := smstest.NewTwilio(t)
			cfg := tc.cfg
			cfg.AccountSID, cfg.AuthToken, cfg.HTTPClient = sid, token, fake.Client()
			tw, err := sms.NewTwilio(cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := tw.Send(context.Background(), sms.Message{To: "+447700900123", Body: "123456 is your code", StatusCallback: tc.msgCB})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(id, "SM") {
				t.Fatalf("sid %q", id)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			q := reqs[0]
			if q.Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" || q.User != sid || q.Password != token {
				t.Fatalf("request %s as %s:%s", q.Path, q.User, q.Password)
			}
			if q.Form.Get("To") != "+447700900123" || q.Form.Get("Body") != "123456 is your code" || q.Form.Get(tc.wantKey) != tc.wantVal || q.Form.Get("StatusCallback") != tc.wantCB {
				t.Fatalf("form %v", q.Form)
			}
		})
	}
}

func TestTwilioErrors(t *testing.T) {
	fake := smstest.NewTwilio(t)
	codes := map[string][2]int{
		"+447700900001": {400, 21610},
		"+447700900002": {400, 21211},
		"+447700900003": {400, 30007},
		"+447700900004": {503, 20503},
		"+447700900005": {429, 20429},
	}
	fake.Fail = func(to string) (int, int) { c := codes[to]; return c[0], c[1] }
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: sid, AuthToken: token, MessagingServiceSID: "MG1", HTTPClient: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for to, want := range map[string]error{
		"+447700900001": sms.ErrOptedOut, "+447700900002": sms.ErrInvalidNumber, "+447700900003": sms.ErrRejected,
		"+447700900004": sms.ErrUnavailable, "+447700900005": sms.ErrUnavailable,
	} {
		_, err := tw.Send(context.Background(), sms.Message{To: to, Body: "secret body 999999"})
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", to, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), to) || strings.Contains(err.Error(), "999999")) {
			t.Errorf("error leaks number or body: %v", err)
		}
	}
	// Unreachable server.
	fake.Server.Close()
	if _, err := tw.Send(context.Background(), sms.Message{To: "+447700900009", Body: "x"}); !errors.Is(err, sms.ErrUnavailable) {
		t.Fatalf("closed server: %v", err)
	}
}

// The development outbox stores a text and logs neither its body nor its
// number (the page showing it is internal/devoutbox's).
func TestOutbox(t *testing.T) {
	pool := pgtest.NewDB(t)
	var logs strings.Builder
	o := sms.NewOutbox(pool, slog.New(slog.NewTextHandler(&logs, nil)))
	var s sms.Sender = o
	if _, err := s.Send(context.Background(), sms.Message{To: "+447700900123", Body: "424242 is your code"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "424242") || strings.Contains(logs.String(), "+447700900123") {
		t.Fatalf("log leaks body or number: %s", logs.String())
	}
	msgs, err := o.Recent(context.Background(), 10)
	if err != nil || len(msgs) != 1 || msgs[0].To != "+447700900123" || msgs[0].Body != "424242 is your code" {
		t.Fatalf("recent: %+v %v", msgs, err)
	}
}

// A request that reached Twilio but got no usable answer (a timeout, a
// dropped connection, an unreadable success) is ErrUncertain: the message
// may have been taken. Refusals and failures before the request was sent
// are not.
func TestTwilioUncertain(t *testing.T) {
	t.Parallel()
	fake := smstest.NewTwilio(t)
	const (
		hang   = "+447700900011"
		drop   = "+447700900012"
		garble = "+447700900013"
		busy   = "+447700900014"
		fine   = "+447700900015"
	)
	fake.Hang = func(to string) bool { return to == hang }
	fake.Drop = func(to string) bool { return to == drop }
	fake.Garble = func(to string) bool { return to == garble }
	fake.Fail = func(to string) (int, int) {
		if to == busy {
			return 503, 20503
		}
		return 0, 0
	}
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: sid, AuthToken: token, MessagingServiceSID: "MG1", HTTPClient: fake.ClientWithTimeout(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	send := func(ctx context.Context, to string) error {
		_, err := tw.Send(ctx, sms.Message{To: to, Body: "secret body 999999"})
		if err != nil && (strings.Contains(err.Error(), to) || strings.Contains(err.Error(), "999999") || strings.Contains(err.Error(), sid)) {
			t.Errorf("error leaks number, body or account: %v", err)
		}
		return err
	}
	requestsTo := func(to string) int {
		n := 0
		for _, r := range fake.Requests() {
			if r.Form.Get("To") == to {
				n++
			}
		}
		return n
	}
	for _, to := range []string{hang, drop, garble} {
		start := time.Now()
		err := send(context.Background(), to)
		if !errors.Is(err, sms.ErrUncertain) || !errors.Is(err, sms.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUncertain (also matching ErrUnavailable)", to, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s despite the 300 ms client timeout", to, d)
		}
		if n := requestsTo(to); n != 1 {
			t.Errorf("%s: Twilio got %d requests, want 1 (never retried by the sender)", to, n)
		}
	}
	// The caller's context ends while Twilio holds the request: uncertain,
	// and Send returns at once.
	slow, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: sid, AuthToken: token, MessagingServiceSID: "MG1", HTTPClient: fake.ClientWithTimeout(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	start := time.Now()
	_, err = slow.Send(ctx, sms.Message{To: hang, Body: "x"})
	cancel()
	if !errors.Is(err, sms.ErrUncertain) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled while waiting for the answer: %v after %s", err, time.Since(start))
	}
	// Definite answers and failures before sending are not uncertain.
	if err := send(context.Background(), busy); !errors.Is(err, sms.ErrUnavailable) || errors.Is(err, sms.ErrUncertain) {
		t.Errorf("503: %v", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := send(done, fine); !errors.Is(err, sms.ErrUnavailable) || errors.Is(err, sms.ErrUncertain) || requestsTo(fine) != 0 {
		t.Errorf("context ended before sending: %v, %d requests", err, requestsTo(fine))
	}
	if err := send(context.Background(), fine); err != nil {
		t.Fatalf("a normal send after the failures: %v", err)
	}
	fake.Release()
	fake.Server.Close()
	if err := send(context.Background(), fine); !errors.Is(err, sms.ErrUnavailable) || errors.Is(err, sms.ErrUncertain) {
		t.Errorf("no server: %v", err)
	}
}

func TestParts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want int
	}{
		{"", 1},
		{strings.Repeat("a", 160), 1},
		{strings.Repeat("a", 161), 2},
		{strings.Repeat("a", 306), 2},
		{strings.Repeat("a", 307), 3},
		{strings.Repeat("€", 80), 1},              // extension characters count double
		{strings.Repeat("€", 81), 2},              // 162 septets
		{strings.Repeat("ŵ", 70), 1},              // Welsh w-circumflex: UCS-2
		{strings.Repeat("ŵ", 71), 2},              // 67 per part
		{"a" + strings.Repeat("x", 100) + "â", 2}, // one â makes the whole text UCS-2
		{strings.Repeat("é", 160), 1},             // é is in the GSM alphabet
	} {
		if got := sms.Parts(tc.body); got != tc.want {
			t.Errorf("Parts(%q…) = %d, want %d", tc.body[:min(len(tc.body), 12)], got, tc.want)
		}
	}
}
