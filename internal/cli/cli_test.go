package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type result struct {
	code           int
	stdout, stderr string
}

const testKey = "0000000000000000000000000000000000000000000000000000000000000001"

func run(ctx context.Context, vars map[string]string, args ...string) result {
	var out, errb bytes.Buffer
	if vars != nil && vars["EBALLOT_SECRET_KEY"] == "" {
		vars["EBALLOT_SECRET_KEY"] = testKey
	}
	// The demo is an online ballot: it opens only once the e-ballot order
	// is in force, as scripts/run.sh assumes for `make run`.
	if _, set := vars["EBALLOT_EVOTING_COMMENCEMENT"]; vars != nil && !set {
		vars["EBALLOT_EVOTING_COMMENCEMENT"] = "2026-02-19"
	}
	code := Run(ctx, args, Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }})
	return result{code, out.String(), errb.String()}
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range []string{"serve", "migrate", "demo", "staff", "retention", "version"} {
		r := run(context.Background(), nil, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage: ballotd "+c) {
			t.Errorf("%s --help: code %d, stdout %q", c, r.code, r.stdout)
		}
		if n := strings.Count(r.stdout+r.stderr, "Usage:"); n != 1 || r.stderr != "" {
			t.Errorf("%s --help: usage printed %d times, stderr %q", c, n, r.stderr)
		}
	}
	if r := run(context.Background(), nil, "serve", "--help"); !strings.Contains(r.stdout, "DATABASE_URL") {
		t.Errorf("serve --help does not list the environment: %q", r.stdout)
	}
	for _, c := range []string{"hold", "release"} {
		if r := run(context.Background(), nil, "retention", c, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Usage: ballotd retention "+c) {
			t.Errorf("retention %s --help: code %d, stdout %q", c, r.code, r.stdout)
		}
	}
	if r := run(context.Background(), nil, "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, "unknown command") {
		t.Errorf("unknown command: %+v", r)
	}
	if r := run(context.Background(), nil, "version"); r.code != 0 || !strings.Contains(r.stdout, "protocol v7") {
		t.Errorf("version: %+v", r)
	}
}

// Bad configuration: one clear line naming the variable, non-zero exit,
// nothing started.
func TestBadConfigOneClearLine(t *testing.T) {
	for _, tc := range []struct {
		name    string
		vars    map[string]string
		wantVar string
	}{
		{"malformed DATABASE_URL", map[string]string{"DATABASE_URL": "not a url"}, "DATABASE_URL"},
		{"unreachable database", map[string]string{"DATABASE_URL": "postgres:///x?host=/nonexistent-socket-dir&user=x", "EBALLOT_DB_CONNECT_WAIT": "0s"}, "DATABASE_URL"},
		{"bad port", map[string]string{"DATABASE_URL": "postgres:///x?host=/tmp", "EBALLOT_ADDR": "127.0.0.1:99999"}, "EBALLOT_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(context.Background(), tc.vars, "serve")
			if r.code == 0 {
				t.Fatalf("exit 0, want non-zero")
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "ballotd serve: config: "+tc.wantVar+":") {
				t.Fatalf("last stderr line %q does not name %s (stderr %q)", last, tc.wantVar, r.stderr)
			}
		})
	}
}

func TestPortInUseNamesTheVariable(t *testing.T) {
	_, url := pgtest.NewDBURL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	r := run(context.Background(), map[string]string{"DATABASE_URL": url, "EBALLOT_ADDR": ln.Addr().String(), "EBALLOT_METRICS_ADDR": "off"}, "serve")
	if r.code == 0 || !strings.Contains(r.stderr, "config: EBALLOT_ADDR:") {
		t.Fatalf("port in use: %+v", r)
	}
}

func TestMigrateAndDemoAreIdempotent(t *testing.T) {
	_, url := pgtest.NewDBURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	for i := 0; i < 2; i++ {
		if r := run(context.Background(), vars, "migrate"); r.code != 0 || !strings.Contains(r.stdout, "schema at version") {
			t.Fatalf("migrate #%d: %+v", i, r)
		}
	}
	r := run(context.Background(), vars, "demo", "--trustee-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.stdout, "demo-strike-2026 loaded and opened with 24 members") {
		t.Fatalf("demo: %+v", r)
	}
	r = run(context.Background(), vars, "demo", "--trustee-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.stdout, "already loaded") {
		t.Fatalf("demo again: %+v", r)
	}
}

// freeAddrs returns n distinct loopback addresses free at the time of the
// call: every listener stays open until all are chosen, so two calls cannot
// be handed the same port.
func freeAddrs(t *testing.T, n int) []string {
	addrs := make([]string, n)
	for i := range addrs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		addrs[i] = ln.Addr().String()
	}
	return addrs
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServe drives the service as an operator would: demo data, serve,
// health, readiness, metrics, the ballot list, headers, graceful stop.
func TestServe(t *testing.T) {
	_, url := pgtest.NewDBURL(t)
	free := freeAddrs(t, 3)
	addr, debug, metrics := free[0], free[1], free[2]
	vars := map[string]string{"DATABASE_URL": url, "EBALLOT_ADDR": addr, "EBALLOT_DEBUG_ADDR": debug, "EBALLOT_METRICS_ADDR": metrics}
	if r := run(context.Background(), vars, "demo", "--trustee-dir", t.TempDir()); r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- run(ctx, vars, "serve") }()
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server never answered: %v; %+v", err, <-done)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if resp, body := get(t, base+"/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/readyz"); resp.StatusCode != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
	resp, body := get(t, base+"/")
	if resp.StatusCode != 200 || !strings.Contains(body, "Pay 2026: industrial action ballot (demo)") {
		t.Errorf("/ does not list the demo ballot: %d %q", resp.StatusCode, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("headers: %v", resp.Header)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS sent over plain http")
	}
	req, _ := http.NewRequest("GET", base+"/?lang=cy", nil)
	wr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := io.ReadAll(wr.Body)
	wr.Body.Close()
	if !strings.Contains(string(wb), `lang="cy"`) || !strings.Contains(string(wb), "Pleidleisiau") {
		t.Errorf("Welsh page: %q", wb)
	}
	// Metrics are on their own listener (EBALLOT_METRICS_ADDR), never on
	// the public one.
	if resp, body := get(t, "http://"+metrics+"/metrics"); resp.StatusCode != 200 || !strings.Contains(body, `eballot_http_requests_total{code="200",method="GET",route="/"}`) {
		t.Errorf("/metrics on EBALLOT_METRICS_ADDR: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, base+"/metrics"); resp.StatusCode != 404 || strings.Contains(body, "eballot_") {
		t.Errorf("/metrics on the public listener: %d %.200q", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+"/no/such/page"); resp.StatusCode != 404 {
		t.Errorf("404 page: %d", resp.StatusCode)
	}
	// The profiler answers on EBALLOT_DEBUG_ADDR only, never on the service.
	if resp, body := get(t, "http://"+debug+"/debug/pprof/"); resp.StatusCode != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("profiler on %s: %d", debug, resp.StatusCode)
	}
	if resp, _ := get(t, base+"/debug/pprof/"); resp.StatusCode != 404 {
		t.Errorf("profiler reachable on the service address: %d", resp.StatusCode)
	}

	cancel()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Fatalf("serve exited %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "stopped") {
			t.Errorf("no graceful stop in logs: %s", r.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
}

func TestStaffAdd(t *testing.T) {
	_, url := pgtest.NewDBURL(t)
	vars := map[string]string{"DATABASE_URL": url}
	if r := run(context.Background(), vars, "staff", "add", "--role", "scrutineer", "--name", "Sam Scrutineer"); r.code != 0 || !strings.Contains(r.stdout, "/staff/enrol/") {
		t.Fatalf("scrutineer: %+v", r)
	}
	if r := run(context.Background(), vars, "staff", "add", "--role", "organiser", "--union", "nope", "--name", "O"); r.code != 1 || !strings.Contains(r.stderr, `no union with slug "nope"`) {
		t.Fatalf("unknown union: %+v", r)
	}
	if r := run(context.Background(), vars, "staff", "add", "--role", "king", "--name", "K"); r.code != 1 || !strings.Contains(r.stderr, "role must be organiser or scrutineer") {
		t.Fatalf("bad role: %+v", r)
	}
	if r := run(context.Background(), vars, "staff", "add", "--name", "x"); r.code != 2 {
		t.Fatalf("missing role: %+v", r)
	}
	if r := run(context.Background(), vars, "demo", "--trustee-dir", t.TempDir()); r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	if r := run(context.Background(), vars, "staff", "add", "--role", "organiser", "--union", "demo-union", "--name", "Olu Organiser"); r.code != 0 {
		t.Fatalf("organiser: %+v", r)
	}
}

// TestStaffDisable: `ballotd staff disable --id N` ends an account, says
// so once, and names a bad number (what a disabled account can no longer
// do: internal/app TestOfficerAccountsEndWithTheirBallot).
func TestStaffDisable(t *testing.T) {
	pool, url := pgtest.NewDBURL(t)
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": url}
	r := run(ctx, vars, "staff", "add", "--role", "scrutineer", "--name", "Sam Scrutineer")
	if r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM staff WHERE name = 'Sam Scrutineer'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	n := strconv.FormatInt(id, 10)
	if r := run(ctx, vars, "staff", "disable", "--id", n); r.code != 0 || !strings.Contains(r.stdout, "staff account "+n+" disabled") {
		t.Fatalf("disable: %+v", r)
	}
	if r := run(ctx, vars, "staff", "disable", "--id", n); r.code != 0 || !strings.Contains(r.stdout, "was already disabled") {
		t.Fatalf("disable twice: %+v", r)
	}
	if r := run(ctx, vars, "staff", "disable", "--id", "999999"); r.code != 1 || !strings.Contains(r.stderr, "no staff account with that number") {
		t.Fatalf("unknown account: %+v", r)
	}
	if r := run(ctx, vars, "staff", "disable"); r.code != 2 || !strings.Contains(r.stderr, "--id is required") {
		t.Fatalf("no id: %+v", r)
	}
	var disabled bool
	if err := pool.QueryRow(ctx, `SELECT disabled_at IS NOT NULL FROM staff WHERE id = $1`, id).Scan(&disabled); err != nil || !disabled {
		t.Fatalf("disabled_at not set (%v)", err)
	}
}
