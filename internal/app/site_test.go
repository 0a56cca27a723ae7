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
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// site is the whole service as internal/app builds it, on a test server:
// the real router, auth middleware, sessions and CSRF checks.
type site struct {
	t    *testing.T
	pool *pgxpool.Pool
	svc  *Service
	base string
}

func newSite(t *testing.T) *site { t.Helper(); return newSiteWith(t, nil) }

// newSiteWith is newSite with a change to the configuration.
func newSiteWith(t *testing.T, tweak func(*config.Config)) *site {
	t.Helper()
	s := &site{t: t, pool: pgtest.NewDB(t)}
	srv := httptest.NewUnstartedServer(nil)
	s.base = fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	u, _ := url.Parse(s.base)
	cfg := &config.Config{PublicURL: u, SecretKey: electiontest.SecretKey, SMSProvider: "dev"}
	if tweak != nil {
		tweak(cfg)
	}
	var err error
	s.svc, err = Build(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), s.pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svc.Close)
	srv.Config.Handler = s.svc.Web.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// browser keeps cookies, does not follow redirects, and sends the page's
// CSRF token and the Origin a browser sends with its forms.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// staff signs a new staff account of role in (union 0: scrutineer) with a
// session row, as internal/auth's passkey sign-in would leave it.
func (s *site) staff(role string, unionID int64) *browser {
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
	now := time.Now()
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_sessions (id_hash, kind, staff_id, method, created_at, last_seen_at, idle_seconds, expires_at)
		VALUES ($1, 'staff', $2, 'test', $3, $3, 3600, $4)`, h[:], id, now, now.Add(4*time.Hour)); err != nil {
		s.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(s.base)
	jar.SetCookies(u, []*http.Cookie{{Name: "eb_session", Value: v, Path: "/"}})
	return &browser{t: s.t, base: s.base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type pageView struct {
	code int
	body string
	h    http.Header
}

func (b *browser) do(req *http.Request) pageView {
	b.t.Helper()
	if req.Method == http.MethodPost {
		req.Header.Set("Origin", b.base)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if tok := webtest.CSRF(string(body)); tok != "" {
		b.csrf = tok
	}
	return pageView{res.StatusCode, string(body), res.Header}
}

func (b *browser) get(path string) pageView {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post submits a form with the CSRF token of the last page seen; a 303 is
// followed like a browser would.
func (b *browser) post(path string, v url.Values) pageView {
	b.t.Helper()
	if v.Get("csrf") == "" && b.csrf != "" {
		v.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := b.do(req)
	if p.code == http.StatusSeeOther {
		loc := p.h.Get("Location")
		return b.get(loc)
	}
	return p
}
