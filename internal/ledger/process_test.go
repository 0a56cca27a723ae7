package ledger

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/pgtest"
)

// TestTwoBallotdProcesses runs two real ballotd server processes on one
// database; casts sent to both over HTTP make one gap-free log whose every
// receipt verifies. It builds ballotd unless EBALLOT_TEST_BALLOTD names a
// built binary; -short skips it.
func TestTwoBallotdProcesses(t *testing.T) {
	bin := ballotdBinary(t)
	pool, url := pgtest.NewDBURL(t)
	l := newTestLedger(t, pool)
	f := openTestElection(t, l)
	var addrs []string
	for i := 0; i < 2; i++ {
		addr, _ := startBallotd(t, bin, url, "")
		addrs = append(addrs, addr)
	}

	casts := f.castsN(t, 200)
	rcs := make([]*receipt.Receipt, len(casts))
	var wg sync.WaitGroup
	errc := make(chan error, len(casts))
	workers := 4 * runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(casts); i += workers {
				req, _ := http.NewRequestWithContext(context.Background(), "POST", addrs[i%2]+pre+"/cast", castJSON(casts[i]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errc <- err
					return
				}
				var body bytes.Buffer
				_, _ = body.ReadFrom(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					errc <- fmt.Errorf("cast %d via %s: %d %s", i, addrs[i%2], resp.StatusCode, body.String())
					return
				}
				rc, err := receipt.ParseReceipt(body.Bytes())
				if err != nil {
					errc <- err
					return
				}
				rcs[i] = rc
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	checkLog(t, l, f, rcs)
}

// ballotdBinary builds ballotd (or takes EBALLOT_TEST_BALLOTD); -short
// skips the test.
func ballotdBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skips building and running ballotd processes")
	}
	if bin := os.Getenv("EBALLOT_TEST_BALLOTD"); bin != "" && bin != "build" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "ballotd")
	build := exec.Command("go", "build", "-o", bin, "github.com/unionvote/eballot/cmd/ballotd")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ballotd: %v\n%s", err, out)
	}
	return bin
}

// startBallotd starts `ballotd serve` on addr (a free port when empty) and
// waits until it answers; it is stopped when the test ends.
func startBallotd(t *testing.T, bin, url, addr string) (string, *exec.Cmd) {
	t.Helper()
	if addr == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.Close()
	}
	cmd := exec.Command(bin, "serve")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "EBALLOT_ADDR="+addr,
		"EBALLOT_SECRET_KEY="+hex.EncodeToString(testSecret), "EBALLOT_SMS_PROVIDER=dev", "EBALLOT_PUBLIC_URL=", "EBALLOT_METRICS_ADDR=127.0.0.1:0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("ballotd on %s output:\n%s", addr, logs.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ballotd on %s did not start: %v\n%s", addr, err, logs.String())
		}
	}
}

// TestKillBallotd kills the server with SIGKILL in the middle of a load of
// casts and starts it again: clients retry (a cast is idempotent), and
// every receipt ever returned verifies in one gap-free log with no entry
// twice.
func TestKillBallotd(t *testing.T) {
	bin := ballotdBinary(t)
	pool, url := pgtest.NewDBURL(t)
	l := newTestLedger(t, pool)
	f := openTestElection(t, l)
	base, first := startBallotd(t, bin, url, "")
	addr := strings.TrimPrefix(base, "http://")

	casts := f.castsN(t, 400)
	rcs := make([]*receipt.Receipt, len(casts))
	var done atomic.Int64
	var wg sync.WaitGroup
	workers := 8
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(casts); i += workers {
				for attempt := 0; ; attempt++ {
					if attempt > 600 {
						t.Errorf("cast %d never got through", i)
						return
					}
					req, _ := http.NewRequest("POST", base+pre+"/cast", castJSON(casts[i]))
					req.Header.Set("Content-Type", "application/json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil { // the server is down: try again
						time.Sleep(50 * time.Millisecond)
						continue
					}
					var body bytes.Buffer
					_, _ = body.ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusServiceUnavailable {
						time.Sleep(50 * time.Millisecond)
						continue
					}
					if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
						t.Errorf("cast %d: %d %s", i, resp.StatusCode, body.String())
						return
					}
					rc, err := receipt.ParseReceipt(body.Bytes())
					if err != nil {
						t.Error(err)
						return
					}
					rcs[i] = rc
					done.Add(1)
					break
				}
			}
		}()
	}
	for done.Load() < 100 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	startBallotd(t, bin, url, addr) // same address: the clients carry on
	wg.Wait()
	if t.Failed() {
		return
	}
	checkLog(t, l, f, rcs)
}
