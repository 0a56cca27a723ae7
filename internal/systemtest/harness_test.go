// Package systemtest holds the failure and security tests of the whole
// service (issue 11): the real router built by internal/app over a real
// PostgreSQL (internal/pgtest), driven over HTTP as browsers, phones and
// attackers would. Nothing is mocked.
package systemtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/web/webtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// syncBuf collects the service's logs.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
func (s *syncBuf) Reset()                      { s.mu.Lock(); defer s.mu.Unlock(); s.b.Reset() }

// ledgerAdapter hands ballots from the election module to the real ledger
// (what internal/app wires in production).
type ledgerAdapter struct{ l *ledger.Ledger }

func (a ledgerAdapter) LogKey(ctx context.Context, id string) (string, error) {
	return a.l.NewLogKey(ctx, id)
}
func (a ledgerAdapter) OpenElection(ctx context.Context, m []byte) error {
	_, err := a.l.Open(ctx, m, ledger.Window{})
	return err
}
func (a ledgerAdapter) CloseElection(ctx context.Context, id string, at time.Time) error {
	_, err := a.l.CloseAt(ctx, id, at)
	return err
}

// system is the whole service (internal/app.Build, the production wiring,
// development SMS outbox) on a test server, with an open ballot.
type system struct {
	t       testing.TB
	pool    *pgxpool.Pool
	dbURL   string
	svc     *app.Service
	handler http.Handler
	srv     *httptest.Server
	base    string
	logs    *syncBuf
	ballot  *electiontest.Ballot
}

// newSystem starts the service with one open ballot of members members.
func newSystem(t testing.TB, members int, opts ...func(*electiontest.Options)) *system {
	t.Helper()
	return newSystemWith(t, members, nil, opts...)
}

// newSystemWith is newSystem with the configuration changed by conf.
func newSystemWith(t testing.TB, members int, conf func(*config.Config), opts ...func(*electiontest.Options)) *system {
	t.Helper()
	s := &system{t: t, logs: &syncBuf{}}
	s.pool, s.dbURL = pgtest.NewDBURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.base = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	pub, _ := url.Parse(s.base)
	cfg := &config.Config{PublicURL: pub, SecretKey: electiontest.SecretKey, SMSProvider: "dev"}
	if conf != nil {
		conf(cfg)
	}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.svc, err = app.Build(cfg, log, s.pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svc.Close)
	s.handler = s.svc.Web.Handler()
	s.srv = httptest.NewUnstartedServer(s.handler)
	s.srv.Listener = ln
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	o := electiontest.Options{ElectionID: "sys-ballot", Members: members, Ledger: ledgerAdapter{s.svc.Ledger}, Open: true}
	for _, f := range opts {
		f(&o)
	}
	s.ballot = electiontest.New(t, s.pool, o)
	return s
}

// routes lists every METHOD and pattern of the built router.
func (s *system) routes() [][2]string {
	var out [][2]string
	err := chi.Walk(s.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, [2]string{method, route})
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

var paramRE = regexp.MustCompile(`\{[a-z]+\}`)

// fill replaces the route's parameters with values (by name), "1" otherwise.
func fill(route string, values map[string]string) string {
	route = strings.TrimSuffix(route, "/*") // static
	return paramRE.ReplaceAllStringFunc(route, func(p string) string {
		if v, ok := values[p[1:len(p)-1]]; ok {
			return v
		}
		return "1"
	})
}

func (s *system) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

func (s *system) queryInt(sql string, args ...any) int64 {
	s.t.Helper()
	var n int64
	if err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// client is webtest's Browser (cookies kept, redirects not followed, the
// Origin of a same-origin POST, the CSRF token of the last page).
type client struct{ *webtest.Browser }

func (s *system) client() *client { return &client{webtest.NewBrowser(s.t, s.base, 20*time.Second)} }

type resp struct {
	code int
	body string
	h    http.Header
}

func view(p webtest.Page) resp { return resp{p.Code, p.Body, p.Header} }

func (c *client) do(req *http.Request) resp {
	c.T.Helper()
	return view(c.Do(req))
}

func (c *client) get(path string) resp {
	c.T.Helper()
	return view(c.Get(path))
}

func (c *client) send(method, path, ctype string, body io.Reader, hdr map[string]string) resp {
	c.T.Helper()
	return view(c.Send(method, path, ctype, body, hdr))
}

func (c *client) postForm(path string, v url.Values) resp {
	c.T.Helper()
	return view(c.PostForm(path, v))
}

// setSession gives the client a session cookie for a session row made
// directly in the database (the sign-in flows themselves are tested in
// internal/auth and in TestNoPIIInLogs).
func (s *system) setSession(c *client, kind string, memberID, staffID, ballotID int64) {
	s.t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	v := base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(v))
	now := time.Now()
	nz := func(id int64) any {
		if id == 0 {
			return nil
		}
		return id
	}
	s.exec(`INSERT INTO auth_sessions (id_hash, kind, member_id, staff_id, ballot_id, method, created_at, last_seen_at, idle_seconds, expires_at)
		VALUES ($1, $2, $3, $4, $5, 'test', $6, $6, 3600, $7)`, h[:], kind, nz(memberID), nz(staffID), nz(ballotID), now, now.Add(4*time.Hour))
	c.SetCookie("eb_session", v)
}

// member is a browser signed in as member i of the fixture ballot.
func (s *system) member(i int) *client {
	c := s.client()
	s.setSession(c, "member", s.ballot.MemberIDs[i], 0, s.ballot.ID)
	return c
}

// staff creates a staff account (union 0 = scrutineer) and a browser
// signed in as it.
func (s *system) staff(role string, unionID int64) *client {
	s.t.Helper()
	var u any
	if unionID != 0 {
		u = unionID
	}
	id := s.queryInt(`INSERT INTO staff (role, union_id, name) VALUES ($1, $2, 'Staff Person') RETURNING id`, role, u)
	c := s.client()
	s.setSession(c, "staff", 0, id, 0)
	return c
}

// phone is what the voting page's JavaScript does, in Go: encrypt, blind,
// authorise over the member's session, cast without cookies.
type phone struct {
	el      *ballot.Election
	m       *manifest.Manifest
	style   int
	ballot  []byte
	tracker [32]byte
	blinded []byte
	state   *blind.BlindState
	auth    []byte
}

// newPhone prepares member i's ballot (choice 0 = yes on every question).
func (s *system) newPhone(i, choice int) *phone {
	s.t.Helper()
	ctx := context.Background()
	mj, _, err := s.svc.Ledger.Manifest(ctx, s.ballot.ElectionID)
	if err != nil {
		s.t.Fatal(err)
	}
	m, err := manifest.Parse(mj)
	if err != nil {
		s.t.Fatal(err)
	}
	el, err := ballot.NewElection(m)
	if err != nil {
		s.t.Fatal(err)
	}
	var styleID string
	if err := s.pool.QueryRow(ctx, `SELECT style FROM register_entries WHERE ballot_id = $1 AND member_id = $2`,
		s.ballot.ID, s.ballot.MemberIDs[i]).Scan(&styleID); err != nil {
		s.t.Fatal(err)
	}
	p := &phone{el: el, m: m, style: -1}
	for j, st := range m.Styles {
		if st.ID == styleID {
			p.style = j
		}
	}
	if p.style < 0 {
		s.t.Fatalf("style %q not in the manifest", styleID)
	}
	var choices [][]int
	for _, q := range m.Questions {
		row := make([]int, len(q.Options))
		row[choice%len(row)] = 1
		choices = append(choices, row)
	}
	b, _, err := el.Encrypt(rand.Reader, p.style, choices)
	if err != nil {
		s.t.Fatal(err)
	}
	if p.ballot, err = b.MarshalBinary(); err != nil {
		s.t.Fatal(err)
	}
	p.tracker = ballot.TrackerOf(el.ManifestHash(), p.ballot)
	der, err := base64.StdEncoding.DecodeString(m.Styles[p.style].IssuerKey)
	if err != nil {
		s.t.Fatal(err)
	}
	pk, err := blind.ParsePublicKey(der)
	if err != nil {
		s.t.Fatal(err)
	}
	prepared, err := blind.Prepare(rand.Reader, p.tracker[:])
	if err != nil {
		s.t.Fatal(err)
	}
	if p.blinded, p.state, err = blind.Blind(rand.Reader, pk, prepared); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// authoriseBody is the JSON the page posts to /vote/{e}/authorise.
func (p *phone) authoriseBody() string {
	return fmt.Sprintf(`{"blinded":%q}`, base64.StdEncoding.EncodeToString(p.blinded))
}

// finish turns the authorise answer into the authorisation.
func (p *phone) finish(body []byte) error {
	var a struct {
		BlindSignature string `json:"blind_signature"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(a.BlindSignature)
	if err != nil {
		return err
	}
	auth, err := p.state.Finalize(sig)
	if err != nil {
		return err
	}
	p.auth = auth[:]
	return nil
}

func (p *phone) castBody() string {
	return fmt.Sprintf(`{"ballot":%q,"authorisation":%q}`,
		base64.StdEncoding.EncodeToString(p.ballot), base64.StdEncoding.EncodeToString(p.auth))
}

// checkReceipts verifies every receipt against its own checkpoint and,
// with a consistency proof, against the ledger's latest checkpoint, and
// runs the ledger's full audit. The entry each receipt is checked against
// is rebuilt from what the phone sent, not read from the server.
func checkReceipts(t testing.TB, l *ledger.Ledger, electionID string, phones []*phone, rcs []*receipt.Receipt) {
	t.Helper()
	ctx := context.Background()
	mj, _, err := l.Manifest(ctx, electionID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(mj)
	if err != nil {
		t.Fatal(err)
	}
	final, err := l.LatestCheckpoint(ctx, electionID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for i, rc := range rcs {
		if rc == nil {
			continue
		}
		if seen[rc.Index] {
			t.Fatalf("two receipts for index %d", rc.Index)
		}
		seen[rc.Index] = true
		entry, err := receipt.EntryBytes(phones[i].tracker[:], phones[i].auth, phones[i].ballot)
		if err != nil {
			t.Fatal(err)
		}
		c, err := receipt.VerifyReceipt(rc, m.LogKey, entry)
		if err != nil {
			t.Fatalf("receipt %d: %v", i, err)
		}
		p, err := l.ConsistencyProof(ctx, electionID, c.Size, final.Size)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := receipt.VerifyReceiptAgainst(rc, m.LogKey, entry, final.Signed, p); err != nil {
			t.Fatalf("receipt %d against the final checkpoint: %v", i, err)
		}
	}
	rep, err := l.Audit(ctx, electionID, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); err != nil || rep.Size != final.Size {
		t.Fatalf("ledger audit: size %d (final %d): %v", rep.Size, final.Size, err)
	}
}
