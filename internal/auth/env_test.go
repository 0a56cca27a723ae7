package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"

	"github.com/descope/virtualwebauthn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/mail/mailtest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
	"github.com/unionvote/eballot/internal/web"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t        testing.TB
	pool     *pgxpool.Pool
	svc      *auth.Service
	handler  http.Handler
	srv      *httptest.Server
	base     string // public URL (http://localhost:port)
	host     string // localhost
	clk      *clock
	fake     *smstest.Twilio
	smtp     *mailtest.Server // the SMTP server invitation emails go to
	logs     *syncBuf
	ballotID int64
	unionID  int64
	members  []int64
	mobiles  []string
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newEnv starts the real router (internal/web) with the auth module, real
// PostgreSQL, the real twilio-go client against a local fake, and a clock
// the test moves. Three members are on the register of one open ballot.
func newEnv(t testing.TB, limits *auth.Limits) *env {
	t.Helper()
	return newEnvWith(t, limits, nil)
}

// newEnvWith is newEnv with a last say on the service's options.
func newEnvWith(t testing.TB, limits *auth.Limits, opts func(*auth.Options)) *env {
	t.Helper()
	e := &env{t: t, pool: pgtest.NewDB(t), clk: &clock{t: time.Now().UTC().Truncate(time.Hour).Add(time.Minute)}, fake: smstest.NewTwilio(t), logs: &syncBuf{}}
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	e.host = "localhost"
	e.base = "http://localhost:" + port
	pub, _ := url.Parse(e.base)

	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "AC00000000000000000000000000000001", AuthToken: "tok0123456789abcdef",
		MessagingServiceSID: "MG0001", HTTPClient: e.fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	e.smtp = mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, User: "mailer", Password: "mail-pass-0123"})
	mailer, err := mail.NewSMTP(mail.SMTPConfig{Host: "localhost", Port: e.smtp.Port, Username: "mailer", Password: "mail-pass-0123",
		From: "Union e-ballot <ballots@vote.example>", TLSConfig: &tls.Config{RootCAs: e.smtp.RootCAs()}})
	if err != nil {
		t.Fatal(err)
	}
	o := auth.Options{Pool: e.pool, Log: log, Pages: pages, SMS: tw, Mail: mailer, PublicURL: pub,
		SecretKey: []byte("0123456789abcdef0123456789abcdef"), Now: e.clk.Now, Limits: limits}
	if opts != nil {
		opts(&o)
	}
	e.svc, err = auth.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Options{Log: log, Pages: pages, DB: e.pool, Registry: prometheus.NewRegistry(),
		Middleware: []func(http.Handler) http.Handler{e.svc.Middleware}, Modules: []web.Module{e.svc}})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = srv.Handler()
	e.srv = httptest.NewUnstartedServer(e.handler)
	e.srv.Listener = ln
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	q := func(sql string, args ...any) int64 {
		var id int64
		if err := e.pool.QueryRow(ctx, sql, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return id
	}
	e.unionID = q(`INSERT INTO unions (slug, name) VALUES ('acme', 'ACME Workers') RETURNING id`)
	now := e.clk.Now()
	e.ballotID = q(`INSERT INTO ballots (union_id, election_id, title, kind, status, opens_at, closes_at) VALUES ($1, 'strike-1', 'Strike ballot', 'industrial_action', 'open', $2, $3) RETURNING id`,
		e.unionID, now.Add(-time.Hour), now.Add(7*24*time.Hour))
	for i := 0; i < 3; i++ {
		mob := fmt.Sprintf("+4477009001%02d", i)
		id := q(`INSERT INTO members (union_id, member_number, name, mobile) VALUES ($1, $2, $3, $4) RETURNING id`, e.unionID, fmt.Sprintf("N%d", i), fmt.Sprintf("Member %d", i), mob)
		q(`INSERT INTO register_entries (ballot_id, member_id, style) VALUES ($1, $2, 'all') RETURNING member_id`, e.ballotID, id)
		e.members = append(e.members, id)
		e.mobiles = append(e.mobiles, mob)
	}
	e.sealMembers()
	rep, err := e.svc.IssueInvitations(ctx, e.ballotID)
	if err != nil || rep.SMSSent != 3 {
		t.Fatalf("issue invitations: %+v %v", rep, err)
	}
	return e
}

// sealMembers seals the names (and indexes the numbers) of members
// written straight into the table, as the service does on startup.
func (e *env) sealMembers() {
	e.t.Helper()
	if _, err := register.NewStore(e.pool, []byte("0123456789abcdef0123456789abcdef")).IndexMembers(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

var linkRE = regexp.MustCompile(`http://localhost:\d+/i/[A-Za-z0-9_-]{43}`)
var codeRE = regexp.MustCompile(`^(\d{6}) is your union e-ballot code`)

// inviteLink is the personal link texted to member i.
func (e *env) inviteLink(i int) string {
	e.t.Helper()
	for _, r := range e.fake.Requests() {
		if r.Form.Get("To") == e.mobiles[i] {
			if l := linkRE.FindString(r.Form.Get("Body")); l != "" {
				return l
			}
		}
	}
	e.t.Fatalf("no invitation texted to member %d", i)
	return ""
}

// lastCode is the last code texted to member i ("" if none).
func (e *env) lastCode(i int) string {
	m := codeRE.FindStringSubmatch(e.fake.LastBodyTo(e.mobiles[i]))
	if m == nil {
		return ""
	}
	return m[1]
}

func (e *env) codesSent(i int) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Form.Get("To") == e.mobiles[i] && codeRE.MatchString(r.Form.Get("Body")) {
			n++
		}
	}
	return n
}

// browser is webtest's Browser on the test service (cookies kept,
// redirects not followed, the Origin a browser sends).
type browser struct {
	*webtest.Browser
	t testing.TB
	e *env
}

func (e *env) browser() *browser {
	return &browser{Browser: webtest.NewBrowser(e.t, e.base, 10*time.Second), t: e.t, e: e}
}

type resp struct {
	code int
	body string
	h    http.Header
}

func view(p webtest.Page) resp { return resp{p.Code, p.Body, p.Header} }

func (b *browser) do(req *http.Request) resp {
	b.t.Helper()
	return view(b.Do(req))
}

func (b *browser) get(path string) resp {
	b.t.Helper()
	return view(b.Get(path))
}

func (b *browser) postForm(path string, v url.Values) resp {
	b.t.Helper()
	return view(b.PostForm(path, v))
}

func (b *browser) postJSON(path, csrf, body string) resp {
	b.t.Helper()
	hdr := map[string]string{}
	if csrf != "" {
		hdr["X-CSRF-Token"] = csrf
	}
	return view(b.Send(http.MethodPost, path, "application/json", strings.NewReader(body), hdr))
}

func csrfOf(t testing.TB, html string) string {
	t.Helper()
	tok := webtest.CSRF(html)
	if tok == "" {
		t.Fatalf("no CSRF token in page: %.400s", html)
	}
	return tok
}

func want(t testing.TB, r resp, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: status %d, want %d; body %.500s", what, r.code, code, r.body)
	}
}

// signInSMS runs the invitation + code flow for member i.
func (b *browser) signInSMS(i int) {
	b.t.Helper()
	link := b.e.inviteLink(i)
	r := b.get(link)
	want(b.t, r, 200, "invitation landing")
	r = b.postForm(link, url.Values{"csrf": {csrfOf(b.t, r.body)}})
	want(b.t, r, 303, "send code")
	r = b.get("/auth/code")
	want(b.t, r, 200, "code page")
	r = b.postForm("/auth/code", url.Values{"csrf": {csrfOf(b.t, r.body)}, "code": {b.e.lastCode(i)}})
	want(b.t, r, 303, "verify code")
}

// authenticator is a virtual passkey holder for one user.
type authenticator struct {
	rp   virtualwebauthn.RelyingParty
	auth virtualwebauthn.Authenticator
	cred virtualwebauthn.Credential
}

func (e *env) rp() virtualwebauthn.RelyingParty {
	return virtualwebauthn.RelyingParty{Name: "Union e-ballot", ID: e.host, Origin: e.base}
}

// registerPasskey runs the registration ceremony over HTTP from the page
// at pagePath with the begin/finish endpoints under prefix.
func (b *browser) registerPasskey(pagePath, prefix string) (*authenticator, resp) {
	b.t.Helper()
	r := b.get(pagePath)
	want(b.t, r, 200, "passkey page")
	csrf := csrfOf(b.t, r.body)
	r = b.postJSON(prefix+"/begin", csrf, "{}")
	want(b.t, r, 200, "register begin")
	ao, err := virtualwebauthn.ParseAttestationOptions(r.body)
	if err != nil {
		b.t.Fatal(err)
	}
	a := &authenticator{rp: b.e.rp(), cred: newCredential(b.t)}
	a.auth = virtualwebauthn.NewAuthenticatorWithOptions(virtualwebauthn.AuthenticatorOptions{UserHandle: []byte(ao.UserID)})
	body := virtualwebauthn.CreateAttestationResponse(a.rp, a.auth, a.cred, *ao)
	r = b.postJSON(prefix+"/finish", csrf, body)
	a.auth.AddCredential(a.cred)
	return a, r
}

// assertion begins a passkey sign-in from pagePath and returns the signed
// response and the CSRF token.
func (b *browser) assertion(a *authenticator, pagePath, prefix string) (string, string) {
	b.t.Helper()
	r := b.get(pagePath)
	want(b.t, r, 200, "sign-in page")
	csrf := csrfOf(b.t, r.body)
	r = b.postJSON(prefix+"/begin", csrf, "{}")
	want(b.t, r, 200, "login begin")
	po, err := virtualwebauthn.ParseAssertionOptions(r.body)
	if err != nil {
		b.t.Fatal(err)
	}
	return virtualwebauthn.CreateAssertionResponse(a.rp, a.auth, a.cred, *po), csrf
}

func redirectOf(t testing.TB, r resp) string {
	t.Helper()
	var v struct{ Redirect string }
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("finish answer %q: %v", r.body, err)
	}
	return v.Redirect
}

func (e *env) events(event string) []auth.Event {
	evs, err := e.svc.Events(context.Background(), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []auth.Event
	for _, ev := range evs {
		if ev.Event == event {
			out = append(out, ev)
		}
	}
	return out
}

// newCredential is a virtual EC2 credential whose public key coordinates
// are both 32 bytes: virtualwebauthn encodes X and Y with big.Int.Bytes(),
// so a coordinate with a leading zero byte (about 1 key in 128) gives a
// malformed COSE key that go-webauthn rightly rejects.
func newCredential(t testing.TB) virtualwebauthn.Credential {
	t.Helper()
	for {
		c := virtualwebauthn.NewCredential(virtualwebauthn.KeyTypeEC2)
		k, err := x509.ParsePKCS8PrivateKey(c.Key.Data)
		if err != nil {
			t.Fatal(err)
		}
		ec := k.(*ecdsa.PrivateKey)
		if len(ec.X.Bytes()) == 32 && len(ec.Y.Bytes()) == 32 {
			return c
		}
	}
}
