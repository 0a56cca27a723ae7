package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/cli"
	"github.com/unionvote/eballot/internal/pgtest"
)

// syncBuf collects the service's logs from several goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSmoke is the load generator against the real service, small: it
// runs ballotd's own command line in-process (no build: `ballotd demo
// --members 50` into a throw-away database, then `ballotd serve`), runs 30
// complete votes at concurrency 5 through loadgen's own run (sessions,
// papers, encryption, authorise, cast, receipts) over HTTP, checks the JSON
// summary, then `ballotd demo --close` and verifies the whole export with
// crypto/verify — so neither loadgen nor the demo flags can rot.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and the service")
	}
	t0 := time.Now()
	svc := startBallotd(t, 50)
	base, dir, ballotd, logs, debug, getenv := svc.base, svc.dir, svc.ballotd, svc.logs, svc.debug, svc.getenv
	t.Logf("database, demo ballot and service ready after %s", time.Since(t0).Round(time.Millisecond))

	sessions := filepath.Join(dir, "sessions.txt")
	if out := ballotd("demo", "--sessions", "30", "--sessions-file", sessions); !strings.Contains(out, "30 member sessions") {
		t.Fatalf("ballotd demo --sessions 30 said:\n%s", out)
	}
	out := filepath.Join(dir, "summary.json")
	prof := filepath.Join(dir, "cpu.pprof")
	pgPID, err := pgtest.Shared(t).PID()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-target", base, "-sessions", sessions, "-n", "30", "-concurrency", "5", "-duration", "60s",
		"-progress", "0", "-out", out, "-cpuprofile-from", "http://" + debug, "-cpuprofile", prof, "-cpuprofile-seconds", "1s",
		"-metrics", "http://" + svc.metrics, "-postgres-pid", strconv.Itoa(pgPID)},
		&stdout, &stderr, getenv)
	if code != 0 {
		t.Fatalf("loadgen exit %d\nstdout:\n%s\nstderr:\n%s\nballotd:\n%s", code, &stdout, &stderr, logs)
	}
	// The profile of the timed phase came from ballotd's profiler (a
	// gzipped protocol buffer).
	if p, err := os.ReadFile(prof); err != nil || len(p) < 100 || p[0] != 0x1f || p[1] != 0x8b {
		t.Errorf("CPU profile: %d bytes, %v", len(p), err)
	}
	sum, b := readSummary(t, out)
	if sum.Complete != 30 || sum.Failed != 0 || sum.ReceiptsChecked != 30 || sum.Started != 30 || sum.Prepared != 30 ||
		sum.ConsistencyChecked != 30 || sum.ConsistencyFailed != 0 || len(sum.Errors) != 0 || sum.Concurrency != 5 ||
		sum.VotesPerSecond <= 0 || sum.PerTarget[base] != 30 {
		t.Fatalf("summary:\n%s", b)
	}
	for _, st := range stepOrder {
		l := sum.Steps[st]
		if l.Count != 30 || !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) || (st != stepCheck && l.Max <= 0) {
			t.Errorf("step %s: %+v", st, l)
		}
	}
	for q, opts := range sum.Expected {
		n := 0
		for _, c := range opts {
			n += c
		}
		if n != 30 {
			t.Errorf("expected counts of %s add up to %d, not 30: %v", q, n, opts)
		}
	}
	// The servers' CPU (the metrics listener's process_cpu_seconds_total)
	// and PostgreSQL's (the postmaster's process tree) per vote.
	if sum.ServerCPUSeconds <= 0 || sum.ServerCPUMSPerVote <= 0 || sum.PostgresCPUSeconds < 0 ||
		sum.ServerPostgresCPUMSPerVote < sum.ServerCPUMSPerVote || !strings.Contains(stdout.String(), "server and PostgreSQL CPU:") {
		t.Errorf("CPU figures: ballotd %.2f s, %.2f ms/vote; PostgreSQL %.2f s, together %.2f ms/vote\n%s",
			sum.ServerCPUSeconds, sum.ServerCPUMSPerVote, sum.PostgresCPUSeconds, sum.ServerPostgresCPUMSPerVote, &stdout)
	}
	// loadgen idle: the same two measures with no load.
	var idle bytes.Buffer
	if code := run(context.Background(), []string{"idle", "-metrics", "http://" + svc.metrics, "-postgres-pid", strconv.Itoa(pgPID), "-duration", "1s"},
		&idle, &stderr, getenv); code != 0 || !regexp.MustCompile(`^idle for 1 s: ballotd [0-9.]+ CPU-ms/s, PostgreSQL [0-9.]+ CPU-ms/s\n$`).MatchString(idle.String()) {
		t.Errorf("loadgen idle: exit %d\n%s%s", code, &idle, &stderr)
	}
	if !strings.Contains(stdout.String(), "30 complete votes") {
		t.Errorf("table:\n%s", &stdout)
	}

	t.Logf("30 votes done after %s", time.Since(t0).Round(time.Millisecond))
	var tbl bytes.Buffer
	if code := run(context.Background(), []string{"report", "-blind-per-second", "500", out}, &tbl, &stderr, getenv); code != 0 ||
		!strings.Contains(tbl.String(), "summary") || !strings.Contains(tbl.String(), "% of blind-sign limit") ||
		!strings.Contains(tbl.String(), "ballotd+PG CPU ms/vote") || !strings.Contains(tbl.String(), fmt.Sprintf("%.2f", sum.ServerPostgresCPUMSPerVote)) {
		t.Errorf("report: exit %d\n%s%s", code, &tbl, &stderr)
	}

	// Open loop: 10 votes due at 20 a second, whatever the answers; the
	// last is due 0.45 s after the first, so the phase lasts at least that.
	open := filepath.Join(dir, "open.txt")
	if out := ballotd("demo", "--sessions", "10", "--sessions-file", open); !strings.Contains(out, "10 member sessions") {
		t.Fatalf("ballotd demo --sessions 10 said:\n%s", out)
	}
	openOut := filepath.Join(dir, "open.json")
	stdout.Reset()
	code = run(context.Background(), []string{"-target", base, "-sessions", open, "-n", "10", "-rate", "20", "-concurrency", "10",
		"-duration", "60s", "-progress", "0", "-out", openOut}, &stdout, &stderr, getenv)
	if code != 0 {
		t.Fatalf("loadgen -rate: exit %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	osum, b := readSummary(t, openOut)
	if osum.Complete != 10 || osum.Started != 10 || osum.Failed != 0 || len(osum.Errors) != 0 || osum.ArrivalRate != 20 ||
		osum.ReceiptsChecked != 10 || osum.Steps[stepVote].Count != 10 || osum.ElapsedSeconds < 0.45 {
		t.Fatalf("open-loop summary:\n%s", b)
	}
	if !strings.Contains(stdout.String(), "open loop at 20/s") {
		t.Errorf("open-loop table:\n%s", &stdout)
	}

	// The members used are not given sessions again: 10 are left.
	var more bytes.Buffer
	code = cli.Run(context.Background(), []string{"demo", "--sessions", "11", "--sessions-file", filepath.Join(dir, "more.txt")},
		cli.Env{Stdout: &more, Stderr: &more, Getenv: getenv})
	if code != 1 || !strings.Contains(more.String(), "only 10 members") {
		t.Errorf("sessions again: exit %d:\n%s", code, &more)
	}

	// Close, export, verify the whole ledger.
	if out := ballotd("demo", "--close"); !strings.Contains(out, "closed") {
		t.Fatalf("ballotd demo --close said:\n%s", out)
	}
	resp, err := http.Get(base + "/ledger/v1/" + sum.Election + "/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res, err := verify.Verify(context.Background(), resp.Body, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.Entries != 40 || !res.Header.Closed {
		t.Fatalf("verify: ok %v, %d entries, closed %v, failures %v", res.OK(), res.Entries, res.Header.Closed, res.Failures)
	}
}

// service is an in-process ballotd (`ballotd demo` into a throw-away
// database, then `ballotd serve`) for the tests.
type service struct {
	t                               *testing.T
	base, addr, dir, debug, metrics string
	cancel                          context.CancelFunc // stops serve; nil when stopped
	served                          chan int
	getenv                          func(string) string
	logs                            *syncBuf
	ballotd                         func(args ...string) string // runs a ballotd command, fails the test on a non-zero exit
}

func startBallotd(t *testing.T, members int) *service {
	t.Helper()
	_, dbURL := pgtest.NewDBURL(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	debug := dln.Addr().String()
	dln.Close()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := mln.Addr().String()
	mln.Close()
	vars := map[string]string{
		"DATABASE_URL": dbURL, "EBALLOT_SECRET_KEY": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		"EBALLOT_ADDR": addr, "EBALLOT_SMS_PROVIDER": "dev", "EBALLOT_LOG_LEVEL": "warn", "EBALLOT_DEBUG_ADDR": debug,
		"EBALLOT_METRICS_ADDR": metrics,
		// The demo is an online ballot: the e-ballot order must be in
		// force (scripts/run.sh and bench-system.sh assume this day too).
		"EBALLOT_EVOTING_COMMENCEMENT": "2026-02-19",
	}
	getenv := func(k string) string { return vars[k] }
	logs := &syncBuf{}
	ballotd := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if code := cli.Run(context.Background(), args, cli.Env{Stdout: &out, Stderr: logs, Getenv: getenv}); code != 0 {
			t.Fatalf("ballotd %s: exit %d\n%s%s", strings.Join(args, " "), code, &out, logs)
		}
		return out.String()
	}
	want := fmt.Sprintf("loaded and opened with %d members", members)
	if out := ballotd("demo", "--members", strconv.Itoa(members), "--trustee-dir", filepath.Join(dir, "trustees")); !strings.Contains(out, want) {
		t.Fatalf("ballotd demo --members %d said:\n%s", members, out)
	}
	svc := &service{t: t, base: "http://" + addr, addr: addr, dir: dir, debug: debug, metrics: metrics, getenv: getenv, logs: logs, ballotd: ballotd}
	svc.serve()
	t.Cleanup(svc.stop)
	return svc
}

// serve starts `ballotd serve` and waits until it is ready.
func (s *service) serve() {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan int, 1)
	go func() {
		served <- cli.Run(ctx, []string{"serve"}, cli.Env{Stdout: s.logs, Stderr: s.logs, Getenv: s.getenv})
	}()
	s.cancel, s.served = cancel, served
	waitReady(s.t, s.base, s.logs)
}

// stop shuts `ballotd serve` down (as a deployment does: in-flight
// requests finish, then the listener closes) and waits for it to exit.
func (s *service) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	if code := <-s.served; code != 0 {
		s.t.Errorf("ballotd serve: exit %d\n%s", code, s.logs)
	}
	s.cancel = nil
}

func waitReady(t *testing.T, base string, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ballotd did not become ready at %s:\n%s", base, logs)
}

func TestFlags(t *testing.T) {
	getenv := func(string) string { return "" }
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errb, getenv); code != 0 ||
		!strings.Contains(out.String(), "Usage:") || !strings.Contains(out.String(), "-concurrency") ||
		!strings.Contains(out.String(), "-retry-for") || !strings.Contains(out.String(), `{"kind":"receipt"`) {
		t.Errorf("--help: exit %d\n%s", code, &out)
	}
	out.Reset()
	if code := run(context.Background(), []string{"drillcheck", "--help"}, &out, &errb, getenv); code != 0 ||
		!strings.Contains(out.String(), "-counts") {
		t.Errorf("drillcheck --help: exit %d\n%s", code, &out)
	}
	for _, args := range [][]string{
		{"-n", "0", "-sessions", "s.txt"},
		{"-target", "ftp://x", "-sessions", "s.txt"},
		{"-target", "http://127.0.0.1:1/path", "-sessions", "s.txt"},
		{},
		{"stray"},
		{"-sessions", "s.txt", "-cpuprofile", "cpu.pprof"},
		{"-sessions", "s.txt", "-cpuprofile-from", "ftp://x", "-cpuprofile", "cpu.pprof"},
		{"-sessions", "s.txt", "-cpuprofile-from", "http://127.0.0.1:6060", "-cpuprofile", "p", "-cpuprofile-seconds", "10ms"},
		{"-sessions", "s.txt", "-rate", "-1"},
		{"-sessions", "s.txt", "-retry-for", "-1s"},
		{"drillcheck", "-receipts", "r.jsonl"},
		{"drillcheck", "-receipts", "r.jsonl", "-export", "e.jsonl", "-counts", "c.json", "stray"},
		{"drillcheck", "-receipts", "/nonexistent/r.jsonl", "-export", "e.jsonl", "-counts", "c.json"},
	} {
		errb.Reset()
		if code := run(context.Background(), args, &out, &errb, getenv); code != 2 || !strings.Contains(errb.String(), "loadgen") {
			t.Errorf("%v: exit %d, stderr %q", args, code, &errb)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := percentiles(ds)
	if l.Count != 100 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 {
		t.Errorf("%+v", l)
	}
	if l := percentiles(nil); l.Count != 0 {
		t.Errorf("%+v", l)
	}
}

// readSummary reads the JSON summary loadgen wrote to path (-out): decoded,
// and as written for failure messages.
func readSummary(t *testing.T, path string) (summary, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, b)
	}
	return sum, b
}

// TestTreeCPUSeconds: the CPU time of a process tree grows by the time a
// child spent before it ended (the parent's cutime: a PostgreSQL backend
// that exits) and while it lives.
func TestTreeCPUSeconds(t *testing.T) {
	burn := func() *exec.Cmd { // about 0.3 s of CPU in sh
		return exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	}
	self := os.Getpid()
	t0, err := treeCPUSeconds(self)
	if err != nil {
		t.Fatal(err)
	}
	cmd := burn()
	if err := cmd.Run(); err != nil { // ended and waited for
		t.Fatal(err)
	}
	child := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	t1, err := treeCPUSeconds(self)
	if err != nil {
		t.Fatal(err)
	}
	if child < 50*time.Millisecond || t1-t0 < child.Seconds()-0.02 {
		t.Fatalf("an ended child's %s of CPU: the tree grew by %.2f s", child, t1-t0)
	}
	// A living child counts too: read the tree while it runs, then after.
	cmd = burn()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	own, _, err := procStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := treeCPUSeconds(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if live := float64(own[0]+own[1]) / clockTicks; live <= 0 || t2-t1 < live-0.02 {
		t.Fatalf("a living child's %.2f s of CPU: the tree grew by %.2f s", live, t2-t1)
	}
	if _, err := treeCPUSeconds(1 << 30); err == nil {
		t.Fatal("no error for a process that does not exist")
	}
}
