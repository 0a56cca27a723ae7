package main

import (
	"bufio"
	"errors"
	"fmt"
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
	addrs := freeAddrs(t, 2)
	addr := addrs[0]

	cmd := exec.Command(filepath.Join(root, "scripts/run.sh"))
	cmd.Dir = root
	cmd.Env = runEnv("EBALLOT_DATA_DIR="+data, "EBALLOT_ADDR="+addr, "EBALLOT_METRICS_ADDR="+addrs[1])
	text := serveUntilCtrlC(t, cmd, addr, fmt.Sprintf("run #%d", round))
	if round == 1 && !strings.Contains(text, "already loaded") {
		t.Errorf("second run reloaded the demo:\n%s", text)
	}
}

// freeAddrs returns n local addresses with ports free now (all listeners
// held until all are chosen): the service and its metrics listener, whose
// default port may be taken by another ballotd running on the machine.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	var lns []net.Listener
	for range n {
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
	return addrs
}

// runEnv is this process's environment without DATABASE_URL and the
// eballot settings a developer may have exported, plus extra.
func runEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "EBALLOT_") && !strings.HasPrefix(kv, "MAKEFLAGS=") &&
			!strings.HasPrefix(kv, "MAKELEVEL=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// serveUntilCtrlC starts cmd (make run, or the script it runs), waits
// until the server at addr is ready, checks that it lists the demo ballot,
// presses Ctrl-C (SIGINT to cmd's process group, as a terminal does) and
// waits for a clean exit. It returns everything cmd printed.
func serveUntilCtrlC(t *testing.T, cmd *exec.Cmd, addr, what string) string {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
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
	// Building ballotd from a new checkout compiles the module's packages
	// afresh: minutes on a busy machine.
	deadline := time.After(8 * time.Minute)
	up := false
	for !up {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("%s ended early:\n%s", what, out.String())
			}
			out.WriteString(l + "\n")
		case <-time.After(100 * time.Millisecond):
			if resp, err := http.Get(base + "/readyz"); err == nil {
				resp.Body.Close()
				up = resp.StatusCode == 200
			}
		case <-deadline:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("%s: server not ready in time:\n%s", what, out.String())
		}
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "industrial action ballot (demo)") {
		t.Errorf("%s: demo ballot not listed", what)
	}
	// Ctrl-C: to the process group, as a terminal sends it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	waited := make(chan error, 1)
	go func() {
		for l := range lines {
			out.WriteString(l + "\n")
		}
		waited <- cmd.Wait()
	}()
	select {
	case err := <-waited:
		// GNU make, interrupted, waits for its child and then dies of the
		// same SIGINT (a terminal shows no error); the script's and the
		// server's own clean exit is what TestMakeRun checks.
		var ee *exec.ExitError
		madeByCtrlC := errors.As(err, &ee) && filepath.Base(cmd.Path) == "make" &&
			ee.Sys().(syscall.WaitStatus).Signaled() && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGINT
		if err != nil && !madeByCtrlC {
			t.Errorf("%s: exit after Ctrl-C: %v\n%s", what, err, out.String())
		}
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("%s: did not stop on Ctrl-C", what)
	}
	text := out.String()
	for _, want := range []string{base + "/", base + "/healthz", "demo ballot demo-strike-2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s: output lacks %q:\n%s", what, want, text)
		}
	}
	return text
}

// TestMakeRunPrivateCheckout is a newcomer's first hour: a checkout with
// only the repository's files (what a fresh clone has: no .data, no bin),
// in a directory only its owner can enter (mode 700, as a home directory;
// the README's case "run as root from /root"), then `make run` with no
// settings at all. The README's promises are checked: the server answers
// and lists the demo ballot, the outbox holds the demo members' links, the
// demo staff enrolment links are printed, the demo trustees' files are
// where "Counting the demo ballot" says; run as root, the cluster and its
// socket go to /var/lib/eballot-dev/… and make run says so; `make clean`
// removes the cluster wherever it is.
func TestMakeRunPrivateCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and the server")
	}
	root, _ := filepath.Abs("../..")
	home, err := os.MkdirTemp("", "eballot-home-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	checkout := filepath.Join(home, "eballot")
	copyCheckout(t, root, checkout)
	mk := func(target string) string {
		cmd := exec.Command("make", "--no-print-directory", target)
		cmd.Dir = checkout
		cmd.Env = runEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("make %s: %v\n%s", target, err, out)
		}
		return string(out)
	}
	var location string
	t.Cleanup(func() {
		mk("clean")
		if location != "" {
			if _, err := os.Stat(location); !os.IsNotExist(err) {
				t.Errorf("make clean left the cluster in %s", location)
			}
		}
		os.RemoveAll(home)
	})

	addrs := freeAddrs(t, 2)
	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = checkout
	cmd.Env = runEnv("EBALLOT_ADDR="+addrs[0], "EBALLOT_METRICS_ADDR="+addrs[1])
	text := serveUntilCtrlC(t, cmd, addrs[0], "make run in a private checkout")

	if b, err := os.ReadFile(filepath.Join(checkout, ".data/pg-location")); err == nil {
		location = strings.TrimSpace(string(b))
	}
	if os.Geteuid() == 0 {
		// The postgres user cannot enter the checkout: the cluster is kept
		// where it can, and the newcomer is told.
		if !strings.HasPrefix(location, "/var/lib/eballot-dev/") || !strings.Contains(text, "keeping this checkout's cluster and socket in "+location) {
			t.Errorf("run as root from a private directory: cluster at %q; output:\n%s", location, text)
		}
	}
	for _, want := range []string{"/dev/outbox", "organiser:  http", "scrutineer: http", "Press Ctrl-C"} {
		if !strings.Contains(text, want) {
			t.Errorf("make run's output lacks %q:\n%s", want, text)
		}
	}
	for _, f := range []string{"trustee-1.key", "trustee-1.pass", "share-1.age", "trustee-2.key", "share-2.age",
		"scrutineer.age", "scrutineer.pass", "scrutineer.key.pub"} {
		if _, err := os.Stat(filepath.Join(checkout, ".data/demo-trustees", f)); err != nil {
			t.Errorf("README's demo file: %v", err)
		}
	}
	if out := mk("stop"); !strings.Contains(out, "stopped the PostgreSQL cluster") {
		t.Errorf("make stop: %s", out)
	}
}

// copyCheckout copies the repository's files at root — tracked, and new
// ones not ignored, as they are in the working tree — to dst.
func copyCheckout(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			l, err := os.Readlink(src)
			if err == nil {
				err = os.Symlink(l, to)
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
