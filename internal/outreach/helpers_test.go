package outreach_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/outreach"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
	"github.com/unionvote/eballot/internal/web/page"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	publicURL = "https://vote.example"
	authToken = "testauthtoken0123"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
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

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// londonNoon is tomorrow at 12:00 in London: inside the fixture ballot's
// week-long window and outside quiet hours.
func londonNoon() time.Time {
	l, _ := time.LoadLocation("Europe/London")
	n := time.Now().In(l).AddDate(0, 0, 1)
	return time.Date(n.Year(), n.Month(), n.Day(), 12, 0, 0, 0, l)
}

// world is a ballot with members in three branches and two workplaces,
// the real gotv outbox sending through twilio-go to a fake Twilio (the
// wire), and outreach over the real stores.
type world struct {
	pool    *pgxpool.Pool
	b       *electiontest.Ballot
	clock   *clock
	twilio  *smstest.Twilio
	gotv    *gotv.Service
	out     *outreach.Service
	auth    *auth.Service
	iss     *issuance.Service
	pages   *page.Pages
	hooks   http.Handler // gotv's webhooks
	org     page.Staff
	scrut   page.Staff
	log     *syncBuffer
	branchs map[int64]string
	mobiles map[int64]string
	wps     map[int64]string
	// signedIn: the staff member of a request, by its X-Test-Staff header
	// (the outreach pages' StaffFunc; auth's sessions are exercised by the
	// browser test in internal/e2e).
	signedIn map[string]page.Staff
}

// branches: member i is in North, South or East (i mod 3).
var branches = []string{"North", "South", "East"}

func newWorld(t testing.TB, members int, cfg gotv.Config) *world {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewDB(t)
	w := &world{pool: pool, clock: &clock{t: londonNoon()}, twilio: smstest.NewTwilio(t), log: &syncBuffer{},
		branchs: map[int64]string{}, mobiles: map[int64]string{}, wps: map[int64]string{}}
	w.b = electiontest.New(t, pool, electiontest.Options{ElectionID: "p2p", Members: members, Open: true,
		Member: func(i int) (string, string, string) {
			return fmt.Sprintf("Name%d Surname%d", i+1, i+1), fmt.Sprintf("+4477009%05d", i+1), ""
		}})
	for i, id := range w.b.MemberIDs {
		br := branches[i%3]
		_, err := pool.Exec(ctx, `UPDATE members SET branch = $2 WHERE id = $1`, id, br)
		must(t, err)
		w.branchs[id] = br
		w.mobiles[id] = fmt.Sprintf("+4477009%05d", i+1)
		w.wps[id] = electiontest.IAConfig().Workplaces[i%2].Name
	}
	log := slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	w.pages, err = page.New(log)
	must(t, err)
	tfs, files, cfs, dir := gotv.Templates()
	must(t, w.pages.AddTemplates(tfs, files...))
	must(t, w.pages.AddCatalog(cfs, dir))
	tfs, files, cfs, dir = outreach.Templates()
	must(t, w.pages.AddTemplates(tfs, files...))
	must(t, w.pages.AddCatalog(cfs, dir))
	pub, _ := url.Parse(publicURL)
	sender, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "ACtest", AuthToken: authToken, From: "+447700900000",
		HTTPClient: w.twilio.Client()})
	must(t, err)
	w.auth, err = auth.New(auth.Options{Pool: pool, Log: log, Pages: w.pages, SMS: sender, PublicURL: pub, SecretKey: electiontest.SecretKey})
	must(t, err)
	cfg.PublicURL, cfg.TwilioAuthToken = publicURL, authToken
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond, cfg.Burst = 1e6, 1000
	}
	var out *outreach.Service
	w.gotv, err = gotv.New(gotv.Options{Pool: pool, Sender: sender, Pages: w.pages, Log: log, Now: w.clock.Now, Config: cfg,
		Link: func(ctx context.Context, ballotID, memberID int64) (string, error) {
			return fmt.Sprintf("%s/i/tok-%d", publicURL, memberID), nil
		},
		Mobiles: func(ctx context.Context, ballotID int64, ids []int64) (map[int64]string, error) {
			m, err := w.b.Register.Contacts(ctx, ballotID, ids)
			if err != nil {
				return nil, err
			}
			o := map[int64]string{}
			for id, c := range m {
				o[id] = c.Mobile
			}
			return o, nil
		},
		Replies: func(ctx context.Context, from, body string, at time.Time) error {
			return out.HandleReply(ctx, from, body, at)
		},
	})
	must(t, err)
	w.iss = issuance.New(pool, electiontest.SecretKey)
	w.signedIn = map[string]page.Staff{}
	out, err = outreach.New(outreach.Options{Pool: pool, Texter: w.gotv, Register: w.b.Register, Ballots: w.b.Store,
		Staff: func(r *http.Request) (page.Staff, bool) {
			st, ok := w.signedIn[r.Header.Get("X-Test-Staff")]
			return st, ok
		},
		Marked: w.iss.Marked, Pages: w.pages, Log: log, Now: w.clock.Now, Key: electiontest.SecretKey,
		Invite: func(ctx context.Context, unionID int64, name, mobile string) (int64, string, error) {
			st, link, err := w.auth.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleVolunteer, UnionID: unionID, Name: name, Mobile: mobile})
			return st.ID, link, err
		}})
	must(t, err)
	w.out = out
	r := chi.NewRouter()
	w.gotv.Routes(r)
	w.hooks = r
	w.org = page.Staff{ID: 1, UnionID: w.b.UnionID, Role: "organiser"}
	w.scrut = page.Staff{ID: 2, Role: "scrutineer"}
	return w
}

// volunteer invites a volunteer and returns them as signed in.
func (w *world) volunteer(t testing.TB, campaign int64, name, kind, scope string, n int) page.Staff {
	t.Helper()
	link, err := w.out.InviteVolunteer(context.Background(), w.org, campaign, outreach.VolunteerInput{Name: name,
		Mobile: fmt.Sprintf("+4477008%05d", n), ScopeKind: kind, Scope: scope})
	must(t, err)
	if !strings.HasPrefix(link, publicURL+"/staff/enrol/") {
		t.Fatalf("enrolment link %q", link)
	}
	var id int64
	must(t, w.pool.QueryRow(context.Background(), `SELECT id FROM staff WHERE role = 'volunteer' AND name = $1`, name).Scan(&id))
	return page.Staff{ID: id, UnionID: w.b.UnionID, Role: "volunteer"}
}

// reply posts an inbound text to gotv's signed webhook, as Twilio would.
func (w *world) reply(t *testing.T, from, body string) {
	t.Helper()
	form := url.Values{"From": {from}, "To": {"+447700900000"}, "Body": {body}, "MessageSid": {"SMin" + from}}
	req := httptest.NewRequest(http.MethodPost, "http://internal:8080/webhooks/twilio/inbound", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSign(authToken, publicURL+"/webhooks/twilio/inbound", form))
	rec := httptest.NewRecorder()
	w.hooks.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("inbound webhook: %d %s", rec.Code, rec.Body)
	}
}

// sentTo counts the texts the fake Twilio accepted for a number.
func (w *world) sentTo(to string) int {
	n := 0
	for _, r := range w.twilio.Requests() {
		if r.Form.Get("To") == to {
			n++
		}
	}
	return n
}

// twilioSign is X-Twilio-Signature as Twilio computes it.
func twilioSign(token, fullURL string, form url.Values) string {
	return smstest.Signature(token, fullURL, form)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
