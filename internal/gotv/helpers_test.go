package gotv

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	testPublicURL = "https://vote.example"
	testToken     = "test-auth-token"
)

// fakeSender records every message; it is also a Reconciler that knows
// which idempotency keys it accepted.
type fakeSender struct {
	mu     sync.Mutex
	byTo   map[string]int
	byKey  map[string]string
	sentAt map[string]time.Time
	msgs   []sms.Message
	n      int
	clock  func() time.Time
	fail   map[string]error // by number
}

func newFakeSender(clock func() time.Time) *fakeSender {
	return &fakeSender{byTo: map[string]int{}, byKey: map[string]string{}, sentAt: map[string]time.Time{}, clock: clock,
		fail: map[string]error{}}
}

func (f *fakeSender) Send(ctx context.Context, m sms.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[m.To]; err != nil {
		return "", err
	}
	u, err := url.Parse(m.StatusCallback)
	if err != nil || u.Query().Get("k") == "" {
		return "", fmt.Errorf("no idempotency key in callback %q", m.StatusCallback)
	}
	f.n++
	sid := fmt.Sprintf("SM%032d", f.n)
	f.byTo[m.To]++
	f.byKey[u.Query().Get("k")] = sid
	f.sentAt[m.To] = f.clock()
	f.msgs = append(f.msgs, m)
	return sid, nil
}

func (f *fakeSender) Lookup(ctx context.Context, a Attempt) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sid, ok := f.byKey[a.Key]
	return sid, ok, nil
}

func (f *fakeSender) count(to string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byTo[to]
}

func (f *fakeSender) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// londonNoon is tomorrow at 12:00 in London: inside the fixture ballot's
// week-long window and outside quiet hours.
func londonNoon() time.Time {
	l := london()
	n := time.Now().In(l).AddDate(0, 0, 1)
	return time.Date(n.Year(), n.Month(), n.Day(), 12, 0, 0, 0, l)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type svcOpts struct {
	sender     sms.Sender
	rec        Reconciler
	clock      func() time.Time
	log        *slog.Logger
	pages      page.Renderer
	staff      page.StaffFunc
	link       LinkFunc
	cfg        Config
	noDefaults bool
}

func newTestService(t *testing.T, pool *pgxpool.Pool, o svcOpts) *Service {
	t.Helper()
	cfg := o.cfg
	if !o.noDefaults {
		cfg.PublicURL, cfg.TwilioAuthToken = testPublicURL, testToken
		if cfg.RatePerSecond == 0 {
			cfg.RatePerSecond, cfg.Burst = 1e6, 1000
		}
		if cfg.Batch == 0 {
			cfg.Batch = 200
		}
		if cfg.MaxPerBallot == 0 {
			cfg.MaxPerBallot = 3
		}
	}
	link := o.link
	if link == nil {
		link = func(ctx context.Context, ballotID, memberID int64) (string, error) {
			return fmt.Sprintf("%s/i/tok-%d-%d", testPublicURL, ballotID, memberID), nil
		}
	}
	s, err := New(Options{Pool: pool, Sender: o.sender, Link: link, Staff: o.staff, Pages: o.pages, Log: o.log,
		Reconciler: o.rec, Now: o.clock, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// twilioSign is X-Twilio-Signature as Twilio computes it.
func twilioSign(token, fullURL string, form url.Values) string {
	return smstest.Signature(token, fullURL, form)
}

func webhookRequest(path string, form url.Values, sig string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://internal:8080"+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		r.Header.Set("X-Twilio-Signature", sig)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func organiser(unionID int64) page.Staff {
	return page.Staff{ID: 1, UnionID: unionID, Role: "organiser"}
}

var scrutineer = page.Staff{ID: 99, Role: "scrutineer"}
