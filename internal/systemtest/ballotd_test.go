package systemtest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/app"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// ballotdBinary builds cmd/ballotd, or takes EBALLOT_TEST_BALLOTD (the
// same variable as internal/ledger's process tests, so CI builds it once);
// -short skips the test.
func ballotdBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skips building and running ballotd processes")
	}
	if bin := os.Getenv("EBALLOT_TEST_BALLOTD"); bin != "" && bin != "build" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "ballotd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/unionvote/eballot/cmd/ballotd").CombinedOutput(); err != nil {
		t.Fatalf("build ballotd: %v\n%s", err, out)
	}
	return bin
}

// ballotd is a real `ballotd serve` process.
type ballotd struct {
	t      *testing.T
	bin    string
	env    []string
	addr   string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *syncBuf // every run's output
}

// start runs the process and waits until it answers /healthz.
func (b *ballotd) start() {
	b.t.Helper()
	cmd := exec.Command(b.bin, "serve")
	cmd.Stdout, cmd.Stderr = b.logs, b.logs
	cmd.Env = append(os.Environ(), b.env...)
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.mu.Lock()
	b.cmd, b.exited = cmd, exited
	b.mu.Unlock()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := http.Get("http://" + b.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			b.t.Fatalf("ballotd exited at start:\n%s", b.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("ballotd on %s did not start: %v\n%s", b.addr, err, b.logs.String())
		}
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (b *ballotd) kill() {
	b.t.Helper()
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		b.t.Fatal(err)
	}
	<-exited
	fmt.Fprintf(b.logs, "--- killed with SIGKILL at %s ---\n", time.Now().Format(time.TimeOnly))
}

// stop ends the current process gracefully (SIGTERM), if it runs.
func (b *ballotd) stop() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// newBallotdSystem is newSystem with the service in a real ballotd
// process on a pgtest database: s.base is the process, which members,
// phones and staff use over HTTP; s.svc is the same service built in the
// test (same database, same secret key, same public URL) to set the ballot
// up, text the invitations and read the ledger, as an operator's tools
// would. Trusted proxies are set to loopback so that each phone's
// X-Forwarded-For address (phoneNet) counts as its own network for the
// per-address rate limits.
func newBallotdSystem(t *testing.T, members int) (*system, *ballotd) {
	t.Helper()
	bin := ballotdBinary(t)
	s := &system{t: t, logs: &syncBuf{}}
	s.pool, s.dbURL = pgtest.NewDBURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s.base = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	pub, _ := url.Parse(s.base)
	cfg := &config.Config{PublicURL: pub, SecretKey: electiontest.SecretKey, SMSProvider: "dev"}
	log := slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if s.svc, err = app.Build(cfg, log, s.pool, prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svc.Close)
	s.ballot = electiontest.New(t, s.pool, electiontest.Options{ElectionID: "sys-ballot", Members: members,
		Ledger: ledgerAdapter{s.svc.Ledger}, Open: true})
	b := &ballotd{t: t, bin: bin, addr: addr, logs: &syncBuf{}, env: []string{
		"DATABASE_URL=" + s.dbURL, "EBALLOT_ADDR=" + addr, "EBALLOT_PUBLIC_URL=" + s.base,
		"EBALLOT_SECRET_KEY=" + hex.EncodeToString(electiontest.SecretKey), "EBALLOT_SMS_PROVIDER=dev",
		"EBALLOT_MAIL_PROVIDER=none", "EBALLOT_TRUSTED_PROXIES=127.0.0.1", "EBALLOT_LOG_LEVEL=info", "EBALLOT_METRICS_ADDR=127.0.0.1:0",
		// Crash recovery, not batching, is tested here: the group commit's
		// short wait keeps members in flight when the process is killed.
		"EBALLOT_BATCH_WAIT=2ms"}}
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			t.Logf("ballotd output:\n%s", b.logs.String())
		}
	})
	b.start()
	return s, b
}

// phoneNet is a phone's own mobile network: every request carries the
// phone's address in X-Forwarded-For (the service trusts loopback as its
// proxy), over a transport of its own.
type phoneNet struct {
	ip string
	rt *http.Transport
	// lose, if set, is asked after each answer: true drops the answer (the
	// request was served; the phone sees a reset connection) once wait
	// returns.
	lose func(req *http.Request) (wait func(), ok bool)
}

func newPhoneNet(i int) *phoneNet {
	return &phoneNet{ip: fmt.Sprintf("198.51.%d.%d", 100+i/250, 1+i%250), rt: http.DefaultTransport.(*http.Transport).Clone()}
}

func (n *phoneNet) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Forwarded-For", n.ip)
	res, err := n.rt.RoundTrip(req)
	if err != nil || n.lose == nil {
		return res, err
	}
	if wait, ok := n.lose(req); ok {
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		res.Body.Close()
		wait()
		return nil, fmt.Errorf("%s %s: connection reset by peer (the answer was lost)", req.Method, req.URL.Path)
	}
	return res, nil
}

// mobile is a member's current mobile, read through the register's store
// (sealed at rest, issue 21).
func (s *system) mobile(memberID int64) (string, error) {
	c, err := s.svc.Register.CurrentContacts(context.Background(), []int64{memberID})
	return c[memberID].Mobile, err
}

// queryRow is one text value of a query, without t.Fatal (for goroutines).
func (s *system) queryRow(sql string, args ...any) (string, error) {
	var v string
	err := s.pool.QueryRow(context.Background(), sql, args...).Scan(&v)
	return v, err
}
