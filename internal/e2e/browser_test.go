// Package e2e drives the whole service in a real browser: Debian's
// Chromium, headless, with Chrome's virtual WebAuthn authenticator.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/web/page"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/register"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const electionID = election.DemoElectionID

// site is a running ballotd with the demo ballot open.
type site struct {
	base     string
	pool     *pgxpool.Pool
	auth     *auth.Service
	ballotID int64
	cfg      *config.Config
	demoDir  string // the demo trustees' shares and the demo scrutineer key
}

func startSite(t *testing.T) *site { return startSiteWith(t, nil, nil) }

// startSiteWith is startSite with more environment variables (extra wins)
// and, if tweak is set, a change to the loaded configuration.
func startSiteWith(t *testing.T, extra map[string]string, tweak func(*config.Config)) *site {
	t.Helper()
	pool, url := pgtest.NewDBURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := map[string]string{
		"DATABASE_URL":         url,
		"EBALLOT_ADDR":         fmt.Sprintf("127.0.0.1:%d", port),
		"EBALLOT_PUBLIC_URL":   fmt.Sprintf("http://localhost:%d", port),
		"EBALLOT_SECRET_KEY":   "0000000000000000000000000000000000000000000000000000000000000042",
		"EBALLOT_METRICS_ADDR": "127.0.0.1:0",
		// The demo is voted online: the e-ballot order in force (s.230(2)).
		"EBALLOT_EVOTING_COMMENCEMENT": "2026-02-19", // electiontest.Commencement
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	_ = os.MkdirAll(artifactsDir(), 0o755)
	logf, err := os.Create(filepath.Join(artifactsDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	log := slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	demoDir := t.TempDir()
	res, err := app.LoadDemo(ctx, cfg, log, demoDir)
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, log, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() { cancel(); <-done })
	as, err := auth.New(auth.Options{Pool: pool, Log: log, Pages: mustPages(t, log), PublicURL: cfg.PublicURL, SecretKey: cfg.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return &site{base: cfg.PublicURL.String(), pool: pool, auth: as, ballotID: res.BallotID, cfg: cfg, demoDir: demoDir}
}

// invitation returns the personal voting link of demo member n (1-based).
// mobile is a member's current mobile, read through the register's store
// (sealed at rest, issue 21).
func (s *site) mobile(t *testing.T, memberID int64) string {
	t.Helper()
	c, err := register.NewStore(s.pool, s.cfg.SecretKey).CurrentContacts(context.Background(), []int64{memberID})
	if err != nil {
		t.Fatal(err)
	}
	return c[memberID].Mobile
}

func (s *site) invitation(t *testing.T, n int) (string, string) {
	id := s.memberID(t, n)
	mobile := s.mobile(t, id)
	u, err := s.auth.InvitationURL(context.Background(), s.ballotID, id)
	if err != nil {
		t.Fatal(err)
	}
	return u, mobile
}

// latestCode reads the newest one-time code sent to mobile from the
// development outbox (what a `make run` user reads on /dev/outbox).
func (s *site) latestCode(t *testing.T, mobile string) string {
	var body string
	if err := s.pool.QueryRow(context.Background(), `SELECT body FROM sms_outbox WHERE to_number = $1 ORDER BY id DESC LIMIT 1`, mobile).Scan(&body); err != nil {
		t.Fatalf("no SMS to the member: %v", err)
	}
	m := regexp.MustCompile(`\b\d{6}\b`).FindString(body)
	if m == "" {
		t.Fatalf("no code in the SMS")
	}
	return m
}

// browser is one phone: its own profile and its own virtual authenticator.
type browser struct {
	ctx       context.Context
	t         *testing.T
	artifacts string
}

func chromiumPath(t testing.TB) string {
	for _, p := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	// Never skip: a run without the browser tests must not report green.
	t.Fatal("chromium is not installed: run scripts/chromium.sh (make test does) or apt-get install chromium")
	return ""
}

func newBrowser(t *testing.T, name string) *browser {
	t.Helper()
	// The profile is removed after chromium exits (cleanups run last
	// first), retried: under load its helper processes may still write to
	// it for a moment (t.TempDir would fail the test on that).
	profile, err := os.MkdirTemp("", "e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(360, 740),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// The first Run starts the browser and ties it to its context: start it
	// on the long-lived one, so per-step time limits do not close it.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := filepath.Join(artifactsDir(), name)
	_ = os.MkdirAll(dir, 0o755)
	b := &browser{ctx: ctx, t: t, artifacts: dir}
	b.run(
		emulation.SetDeviceMetricsOverride(360, 740, 2, true),
		chromedp.ActionFunc(func(ctx context.Context) error { return webauthn.Enable().Do(ctx) }),
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := webauthn.AddVirtualAuthenticator(&webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
				HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			}).Do(ctx)
			return err
		}),
	)
	return b
}

// artifactsDir keeps screenshots after the test (EBALLOT_TEST_ARTIFACTS,
// default ./test-artifacts at the repository root, ignored by git).
func artifactsDir() string {
	if d := os.Getenv("EBALLOT_TEST_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "test-artifacts", "e2e")
}

// run runs actions with a per-step time limit, and on failure reports
// where the page was and what it showed.
func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, html, failure string
		dctx, dcancel := context.WithTimeout(b.ctx, 10*time.Second)
		defer dcancel()
		_ = chromedp.Run(dctx, chromedp.Location(&loc), chromedp.Evaluate(`document.body ? document.body.innerText : ""`, &html),
			// vote.js keeps the last error's message here (no vote content).
			chromedp.Evaluate(`[...document.querySelectorAll('[data-failure]')].map((e) => e.dataset.failure).join('; ')`, &failure))
		b.t.Fatalf("browser: %v\nat %s\nfailure: %s\n%s", err, loc, failure, html)
	}
}

func (b *browser) shot(name string) {
	var png []byte
	b.run(chromedp.FullScreenshot(&png, 100)) // quality 100: PNG
	_ = os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644)
}

// axe runs axe-core on the current page and fails on any serious or
// critical violation of WCAG 2.x A/AA (incl. 2.2).
func (b *browser) axe(page string) {
	b.t.Helper()
	src, err := os.ReadFile("node_modules/axe-core/axe.min.js")
	if err != nil {
		b.t.Fatalf("axe-core missing (make test runs npm ci in internal/e2e): %v", err)
	}
	var res struct {
		Violations []struct {
			ID, Impact, Help string
			Nodes            []struct{ Target []string }
		}
	}
	b.run(
		chromedp.Evaluate(string(src), nil),
		chromedp.Evaluate(`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}})`, &res,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe on %s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

func (b *browser) location() string {
	var loc string
	b.run(chromedp.Location(&loc))
	return loc
}

func (b *browser) waitPath(path string) {
	b.t.Helper()
	b.waitFor(path, func(loc string) bool { return strings.Contains(loc, path) })
}

// navWait bounds a wait for the browser to reach a page: generous, because
// a CI machine running every package's tests at once can stall Chromium for
// many seconds.
const navWait = 60 * time.Second

// signInBySMS opens the invitation, asks for a code, reads it from the
// development outbox and enters it.
func (b *browser) signInBySMS(s *site, member int) {
	link, mobile := s.invitation(b.t, member)
	b.run(chromedp.Navigate(link), chromedp.WaitVisible(`form button[type=submit]`, chromedp.ByQuery))
	b.axe("invitation")
	b.shot("01-invitation")
	b.run(chromedp.Click(`form button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#code`, chromedp.ByID))
	b.axe("code")
	b.shot("02-code")
	code := s.latestCode(b.t, mobile)
	b.run(chromedp.SendKeys(`#code`, code, chromedp.ByID), chromedp.Submit(`#code`, chromedp.ByID))
	b.waitPath("/auth/passkey")
}

func (b *browser) addPasskey() {
	b.axe("passkey offer")
	b.shot("03-passkey-offer")
	b.run(chromedp.Click(`button[data-passkey=create][data-ready]`, chromedp.ByQuery))
	b.waitPath("/me")
	b.run(chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
	b.axe("member page")
	b.shot("03b-member-page")
}

// vote fills the paper (strike: Yes, ASOS: No), reviews and confirms.
func (b *browser) fillAndReview() {
	b.run(chromedp.Navigate(b.origin()+"/vote/"+electionID), chromedp.WaitVisible(`#paper`, chromedp.ByID))
	b.axe("voting paper")
	b.shot("04-paper")
	b.run(
		chromedp.Click(`#q0o0`, chromedp.ByID),
		chromedp.Click(`#q1o1`, chromedp.ByID),
		chromedp.Click(`#paper button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#review`, chromedp.ByID),
	)
	b.axe("review")
	b.shot("05-review")
}

func (b *browser) origin() string {
	loc := b.location()
	i := strings.Index(loc[len("http://"):], "/")
	return loc[:len("http://")+i]
}

func (b *browser) receiptCode() string {
	var code string
	b.run(chromedp.WaitVisible(`#receipt`, chromedp.ByID), chromedp.Text(`#receipt-code`, &code, chromedp.ByID))
	if !regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(code) {
		b.t.Fatalf("receipt code %q", code)
	}
	return code
}

func (b *browser) checkReceipt(code string) {
	b.run(
		chromedp.Navigate(b.origin()+"/check/"+electionID), chromedp.WaitVisible(`#tracker`, chromedp.ByID),
		chromedp.SendKeys(`#tracker`, code, chromedp.ByID),
		chromedp.Click(`#check-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#check-ok`, chromedp.ByID),
	)
	b.axe("check my vote")
	b.shot("07-check")
}

// TestVoterJourney: member 1 signs in by SMS code, adds a passkey, votes,
// gets a receipt and checks it; member 2 signs in with a passkey and votes
// through a network failure between authorisation and cast; the ledger
// then holds exactly two ballots.
func TestVoterJourney(t *testing.T) {
	t.Parallel() // each test has its own site, database and browsers
	s := startSite(t)

	a := newBrowser(t, "member-1")
	a.signInBySMS(s, 1)
	a.addPasskey()
	a.fillAndReview()
	// Benaloh audit: test the encryption, check the test on the public
	// verifier page, then come back and cast a fresh encryption.
	a.run(chromedp.Click(`#review details summary`, chromedp.ByQuery), chromedp.Click(`#audit`, chromedp.ByID),
		chromedp.WaitVisible(`#audit-ok`, chromedp.ByID))
	a.axe("audit result")
	var held string
	a.run(chromedp.Navigate(s.base+"/check/"+electionID+"/audit"), chromedp.WaitVisible(`#audit-ok`, chromedp.ByID),
		chromedp.Text(`#audit-choices`, &held, chromedp.ByID))
	if !regexp.MustCompile(`a strike\?\s*Yes`).MatchString(held) || !regexp.MustCompile(`short of a strike\?\s*No`).MatchString(held) {
		t.Fatalf("the audit verifier shows %q, want strike Yes and action short of a strike No", held)
	}
	a.axe("audit verifier")
	a.shot("05b-audit-verifier")
	a.fillAndReview()
	a.run(chromedp.Click(`#confirm`, chromedp.ByID))
	code := a.receiptCode()
	a.axe("receipt")
	a.shot("06-receipt")
	a.checkReceipt(code)
	// Back on the paper: the member has voted and this phone shows the receipt.
	a.run(chromedp.Navigate(s.base+"/vote/"+electionID), chromedp.WaitVisible(`#receipt`, chromedp.ByID))

	b := newBrowser(t, "member-2")
	b.signInBySMS(s, 2)
	b.addPasskey()
	// Sign out, then in again with the passkey alone.
	b.run(chromedp.Submit(`form[action="/auth/logout"] button`, chromedp.ByQuery))
	for deadline := time.Now().Add(30 * time.Second); b.location() != s.base+"/"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("logout did not land on the home page: %s", b.location())
		}
	}
	b.run(chromedp.WaitReady("body", chromedp.ByQuery), chromedp.Navigate(s.base+"/auth/signin"), chromedp.WaitVisible(`button[data-passkey=get]`, chromedp.ByQuery))
	b.axe("passkey sign-in")
	b.run(chromedp.Click(`button[data-passkey=get][data-ready]`, chromedp.ByQuery))
	b.waitPath("/me")
	b.fillAndReview()
	// The network drops after the authorisation, before the cast.
	b.run(network.Enable(), network.SetBlockedURLs([]string{"*/ledger/v1/*/cast"}))
	b.run(chromedp.Click(`#confirm`, chromedp.ByID), chromedp.WaitVisible(`#failed`, chromedp.ByID))
	b.axe("failure")
	b.shot("06-failed")
	var marked int
	s.pool.QueryRow(context.Background(), `SELECT count(*) FROM marked_register`).Scan(&marked)
	if marked != 2 {
		t.Fatalf("marked register: %d authorisations, want 2 (member 2 authorised before the drop)", marked)
	}
	// The phone is reloaded (tab closed and reopened): the saved state resumes.
	b.run(network.SetBlockedURLs([]string{}), chromedp.Navigate(s.base+"/vote/"+electionID))
	b.receiptCode()

	var size int64
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM ledger_entries`).Scan(&size); err != nil || size != 2 {
		t.Fatalf("ledger holds %d ballots (%v), want 2", size, err)
	}
	s.scrutineerVerifies(t, 2)

	// A cheap phone on a slow connection: "slow 3G" as Chrome's DevTools
	// defines it (400 ms latency each way, 400 kbit/s) and the CPU slowed
	// 4×, from the tap on "confirm" to the receipt on screen. The figure is
	// recorded in docs/benchmarks.md; the target (3 s) is not asserted.
	c := newBrowser(t, "member-3-throttled")
	c.signInBySMS(s, 3)
	c.fillAndReview()
	c.run(network.Enable(), network.EmulateNetworkConditions(false, 400, 400*1000/8, 400*1000/8), emulation.SetCPUThrottlingRate(4))
	start := time.Now()
	c.run(chromedp.Click(`#confirm`, chromedp.ByID))
	c.receiptCode()
	t.Logf("throttled vote (slow 3G, CPU x4): confirm -> receipt in %v", time.Since(start).Round(10*time.Millisecond))
	s.scrutineerVerifies(t, 3)
}

// scrutineerVerifies runs the independent verification (crypto/verify, what
// `scrutineer verify` runs) on the board's public export, with the
// authorisations issued per style from the marked register.
func (s *site) scrutineerVerifies(t *testing.T, want int64) {
	t.Helper()
	s.scrutineerVerifiesElection(t, electionID, want)
}

// scrutineerVerifiesElection is scrutineerVerifies for another election of the site.
func (s *site) scrutineerVerifiesElection(t *testing.T, electionID string, want int64) {
	t.Helper()
	ctx := context.Background()
	counts, err := issuance.New(s.pool, s.cfg.SecretKey).CountsFor(ctx, electionID)
	if err != nil {
		t.Fatal(err)
	}
	byStyle := map[string]int64{}
	for _, c := range counts {
		byStyle[c.Style] = int64(c.Online + c.Replaced)
	}
	resp, err := http.Get(s.base + "/ledger/v1/" + electionID + "/manifest")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Styles []struct{ ID string } `json:"styles"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	var issued []int64
	for _, st := range m.Styles {
		issued = append(issued, byStyle[st.ID])
	}
	resp, err = http.Get(s.base + "/ledger/v1/" + electionID + "/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res, err := verify.Verify(ctx, resp.Body, verify.Options{Issued: issued})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !res.OK() || res.Entries != want {
		t.Fatalf("scrutineer verification: %d entries, failures %+v", res.Entries, res.Failures)
	}
}

func mustPages(t *testing.T, log *slog.Logger) *page.Pages {
	p, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
