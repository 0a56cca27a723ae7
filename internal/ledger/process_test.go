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
	"sync"
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
	bin := os.Getenv("EBALLOT_TEST_BALLOTD")
	switch {
	case testing.Short():
		t.Skip("-short: skips building and running two ballotd processes")
	case bin == "" || bin == "build":
		bin = filepath.Join(t.TempDir(), "ballotd")
		build := exec.Command("go", "build", "-o", bin, "github.com/unionvote/eballot/cmd/ballotd")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build ballotd: %v\n%s", err, out)
		}
	}
	pool, url := pgtest.NewDBURL(t)
	l := newTestLedger(t, pool)
	f := openTestElection(t, l)

	var addrs []string
	for i := 0; i < 2; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "serve")
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.Env = append(os.Environ(), "DATABASE_URL="+url, "EBALLOT_ADDR="+addr,
			"EBALLOT_SECRET_KEY="+hex.EncodeToString(testSecret), "EBALLOT_SMS_PROVIDER=dev", "EBALLOT_PUBLIC_URL=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
			if t.Failed() {
				t.Logf("ballotd %d output:\n%s", i, logs.String())
			}
		})
		addrs = append(addrs, "http://"+addr)
	}
	for _, a := range addrs {
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get(a + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not start: %v", a, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
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
