package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/sms/smstest"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// site is the whole service as internal/app builds it, on a test server:
// the real router, auth middleware, sessions and CSRF checks.
type site struct {
	t    *testing.T
	pool *pgxpool.Pool
	svc  *Service
	base string
	// clients, when the site trusts the loopback as its proxy
	// (newCrowdSite), counts the browsers made: each comes from its own
	// address (X-Forwarded-For), as members do, so the per-IP rate limits
	// see a crowd, not one client.
	clients *int
	// twilio, if set, is the fake Twilio the site's texts go to (else the
	// development outbox, sms_outbox): sentTexts reads either.
	twilio *smstest.Twilio
}

func newSite(t *testing.T) *site { t.Helper(); return newSiteWith(t, nil) }

// newSiteWith is newSite with a change to the configuration.
func newSiteWith(t *testing.T, tweak func(*config.Config)) *site {
	t.Helper()
	return newSiteHooks(t, tweak, buildHooks{})
}

// newSiteHooks is newSiteWith with build's test seams (a clock).
func newSiteHooks(t *testing.T, tweak func(*config.Config), hooks buildHooks) *site {
	t.Helper()
	s := &site{t: t, pool: pgtest.NewDB(t)}
	srv := httptest.NewUnstartedServer(nil)
	s.base = fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	u, _ := url.Parse(s.base)
	// Online voting needs the e-ballot order in force (s.230(2)): the
	// fixtures' assumed commencement.
	cfg := &config.Config{PublicURL: u, SecretKey: electiontest.SecretKey, SMSProvider: "dev", EVotingCommencement: electiontest.Commencement}
	if tweak != nil {
		tweak(cfg)
	}
	var err error
	s.svc, err = build(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), s.pool, prometheus.NewRegistry(), hooks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svc.Close)
	srv.Config.Handler = s.svc.Web.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// browser is webtest's Browser with the page's CSRF token added to its
// forms.
type browser struct{ *webtest.Browser }

// staff signs a new staff account of role in (union 0: scrutineer) with a
// session row, as internal/auth's passkey sign-in would leave it.
func (s *site) staff(role string, unionID int64) *browser {
	s.t.Helper()
	return s.staffAt(role, unionID, time.Now())
}

// staffAt is staff with the session made at now (a site on a test clock).
func (s *site) staffAt(role string, unionID int64, now time.Time) *browser {
	s.t.Helper()
	ctx := context.Background()
	var union any
	if unionID != 0 {
		union = unionID
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO staff (role, union_id, name) VALUES ($1, $2, 'Staff Person') RETURNING id`, role, union).Scan(&id); err != nil {
		s.t.Fatal(err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	v := base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(v))
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_sessions (id_hash, kind, staff_id, method, created_at, last_seen_at, idle_seconds, expires_at)
		VALUES ($1, 'staff', $2, 'test', $3, $3, 3600, $4)`, h[:], id, now, now.Add(4*time.Hour)); err != nil {
		s.t.Fatal(err)
	}
	b := s.anon()
	b.SetCookie("eb_session", v)
	return b
}

type pageView struct {
	code int
	body string
	h    http.Header
}

func view(p webtest.Page) pageView { return pageView{p.Code, p.Body, p.Header} }

func (b *browser) do(req *http.Request) pageView {
	b.T.Helper()
	return view(b.Do(req))
}

func (b *browser) get(path string) pageView {
	b.T.Helper()
	return view(b.Get(path))
}

// post submits a form with the CSRF token of the last page seen; a 303 is
// followed like a browser would.
func (b *browser) post(path string, v url.Values) pageView {
	b.T.Helper()
	if v.Get("csrf") == "" && b.CSRF != "" {
		v.Set("csrf", b.CSRF)
	}
	p := view(b.PostForm(path, v))
	if p.code == http.StatusSeeOther {
		loc := p.h.Get("Location")
		return b.get(loc)
	}
	return p
}

// contact is a member's current mobile and email, read through the
// register's store (sealed at rest, issue 21).
// number is the member number of member id (sealed at rest: opened by
// the register's store).
func (s *site) number(id int64) string {
	s.t.Helper()
	n, err := s.svc.Register.MemberNumbers(context.Background(), []int64{id})
	if err != nil || n[id] == "" {
		s.t.Fatalf("member %d's number: %q, %v", id, n[id], err)
	}
	return n[id]
}

func (s *site) contact(id int64) register.Contact {
	s.t.Helper()
	c, err := s.svc.Register.CurrentContacts(context.Background(), []int64{id})
	if err != nil {
		s.t.Fatal(err)
	}
	return c[id]
}

// sealAtRest seals what a test wrote in clear into members, as the
// service does on startup.
func (s *site) sealAtRest() {
	s.t.Helper()
	if _, err := s.svc.Register.IndexMembers(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

var (
	wordingFormRE = regexp.MustCompile(`name="regime" value="([a-z0-9]+)"`)
	paperHashRE   = regexp.MustCompile(`name="paper_hash" value="([0-9a-f]{64})"`)
)

// approve does the scrutineer's approvals on the ballot's page, as the
// scrutineer clicks them: the s.229(4) wording where the page asks for it,
// then the voting paper with the hash the page shows.
func (b *browser) approve(id string) {
	b.T.Helper()
	p := b.get("/scrutineer/ballots/" + id)
	if m := wordingFormRE.FindStringSubmatch(p.body); m != nil {
		if q := b.post("/scrutineer/ballots/"+id+"/wording", url.Values{"regime": {m[1]}}); q.code != 200 || !strings.Contains(q.body, "The s.229(4) wording was confirmed.") {
			b.T.Fatalf("confirm the wording: %d %.500s", q.code, q.body)
		}
	}
	m := paperHashRE.FindStringSubmatch(p.body)
	if m == nil {
		b.T.Fatalf("no paper approval on the page: %.1000s", p.body)
	}
	if q := b.post("/scrutineer/ballots/"+id+"/approve-paper", url.Values{"paper_hash": {m[1]}}); q.code != 200 || !strings.Contains(q.body, "The voting paper was approved.") {
		b.T.Fatalf("approve the paper: %d %.500s", q.code, q.body)
	}
}
