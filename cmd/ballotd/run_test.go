package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeRun drives scripts/run.sh — what `make run` runs — as a new user
// would, twice: a local cluster is created in a data directory, migrations
// and the demo ballot are applied, the server answers and lists the demo
// ballot, Ctrl-C stops it; the second run reuses the cluster.
func TestMakeRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and the server")
	}
	root, _ := filepath.Abs("../..")
	data, err := os.MkdirTemp("", "eballot-run-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(data, 0o755) // the cluster may run as the postgres user
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(root, "scripts/pg.sh"), "stop")
		cmd.Env = append(os.Environ(), "EBALLOT_DATA_DIR="+data)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("pg.sh stop: %v %s", err, out)
		}
		os.RemoveAll(data)
	})
	for i := 0; i < 2; i++ {
		runOnce(t, root, data, i)
	}
}

func runOnce(t *testing.T, root, data string, round int) {
	// The service and its metrics listener each on a port free now (both
	// listeners held until both are chosen): the default metrics port may
	// be taken by another ballotd running on the machine.
	var addrs []string
	var lns []net.Listener
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	addr := addrs[0]

	cmd := exec.Command(filepath.Join(root, "scripts/run.sh"))
	cmd.Dir = root
	env := []string{"EBALLOT_DATA_DIR=" + data, "EBALLOT_ADDR=" + addr, "EBALLOT_METRICS_ADDR=" + addrs[1]}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	base := "http://localhost:" + addr[strings.LastIndex(addr, ":")+1:]
	deadline := time.After(3 * time.Minute)
	up := false
	for !up {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("run #%d ended early:\n%s", round, out.String())
			}
			out.WriteString(l + "\n")
		case <-time.After(100 * time.Millisecond):
			if resp, err := http.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				up = resp.StatusCode == 200
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("run #%d: server not ready in time:\n%s", round, out.String())
		}
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "industrial action ballot (demo)") {
		t.Errorf("run #%d: demo ballot not listed", round)
	}
	// Ctrl-C: the script execs the server, so the signal reaches it.
	_ = cmd.Process.Signal(syscall.SIGINT)
	waited := make(chan error, 1)
	go func() {
		for l := range lines {
			out.WriteString(l + "\n")
		}
		waited <- cmd.Wait()
	}()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("run #%d: exit after Ctrl-C: %v\n%s", round, err, out.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("run #%d: did not stop on Ctrl-C", round)
	}
	text := out.String()
	for _, want := range []string{base + "/", base + "/healthz", "demo ballot demo-strike-2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("run #%d: output lacks %q:\n%s", round, want, text)
		}
	}
	if round == 1 && !strings.Contains(text, "already loaded") {
		t.Errorf("second run reloaded the demo:\n%s", text)
	}
}
