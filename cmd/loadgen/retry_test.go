package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/verify"
)

// Faults the proxy injects on the first attempt of a vote's step.
const (
	faultAnswerLost  = iota // forwarded to ballotd, then the connection dropped: the answer is lost
	faultUnavailable        // 503 "unavailable" with Retry-After, not forwarded
	faultDropped            // the connection dropped before forwarding
	faultOddAnswer          // forwarded, then answered as a confused server would: 409 duplicate_tracker to a cast, a plain-text 502 to authorise
	faultNone
	faultKinds
)

// faultProxy stands in front of ballotd and breaks the first attempt of
// authorise and cast requests, cycling through the faults above by the
// order in which it first sees each distinct request body (one per member
// and step); a request seen before (a retry) passes. It counts what it did.
type faultProxy struct {
	rp *httputil.ReverseProxy

	mu       sync.Mutex
	seen     map[[32]byte]bool
	next     map[string]int         // step → distinct bodies seen
	injected map[string]map[int]int // step → fault → count
}

func newFaultProxy(target string) *faultProxy {
	u, _ := url.Parse(target)
	return &faultProxy{rp: httputil.NewSingleHostReverseProxy(u), seen: map[[32]byte]bool{}, next: map[string]int{},
		injected: map[string]map[int]int{stepAuthorise: {}, stepCast: {}}}
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	step := ""
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/authorise"):
		step = stepAuthorise
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/cast"):
		step = stepCast
	}
	if step == "" {
		p.rp.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.Sum256(body)
	p.mu.Lock()
	fault := faultNone
	if !p.seen[h] {
		p.seen[h] = true
		fault = p.next[step] % faultKinds
		p.next[step]++
		p.injected[step][fault]++
	}
	p.mu.Unlock()
	drop := func() {
		c, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			c.Close()
		}
	}
	switch fault {
	case faultAnswerLost:
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
		drop()
	case faultUnavailable:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"unavailable","message":"test proxy"}`)
	case faultDropped:
		drop()
	case faultOddAnswer:
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		if step == stepCast {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"error":"duplicate_tracker","message":"test proxy"}`)
		} else {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// TestRetriesAndReceipts runs loadgen open loop through a proxy that
// breaks the first attempt of most authorisations and casts (answers lost
// after ballotd acted, 503 with Retry-After, dropped connections, a
// duplicate_tracker answer to a cast that was appended, a plain-text 502):
// every vote completes by retrying with its saved state, the service
// answers a repeated blinded message with the same signature and a cast
// sent again with its existing receipt, the summary counts exactly what
// the proxy did, every receipt verifies, and after the close `loadgen
// drillcheck` finds every receipt of the receipts file in the export at
// its index and no authorisation without a ballot. A receipts file with a
// receipt the ledger does not have, or an authorisation the service never
// issued, fails drillcheck.
func TestRetriesAndReceipts(t *testing.T) {
	svc := startBallotd(t, 40)
	proxy := newFaultProxy(svc.base)
	ps := httptest.NewServer(proxy)
	defer ps.Close()

	const n = 25
	sessions := filepath.Join(svc.dir, "sessions.txt")
	if out := svc.ballotd("demo", "--sessions", fmt.Sprint(n), "--sessions-file", sessions); !strings.Contains(out, fmt.Sprintf("%d member sessions", n)) {
		t.Fatalf("ballotd demo --sessions said:\n%s", out)
	}
	out := filepath.Join(svc.dir, "summary.json")
	receipts := filepath.Join(svc.dir, "receipts.jsonl")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-target", ps.URL, "-sessions", sessions, "-n", fmt.Sprint(n), "-rate", "50", "-concurrency", fmt.Sprint(n),
		"-duration", "60s", "-progress", "0", "-out", out, "-receipts", receipts, "-retry-for", "2m"}, &stdout, &stderr, svc.getenv)
	if code != 0 {
		t.Fatalf("loadgen: exit %d\nstdout:\n%s\nstderr:\n%s\nballotd:\n%s", code, &stdout, &stderr, svc.logs)
	}
	sum, b := readSummary(t, out)
	auth, cast := proxy.injected[stepAuthorise], proxy.injected[stepCast]
	if auth[faultAnswerLost] == 0 || cast[faultAnswerLost] == 0 || cast[faultOddAnswer] == 0 || auth[faultUnavailable] == 0 {
		t.Fatalf("the proxy injected too few faults to test anything: authorise %v, cast %v", auth, cast)
	}
	// Every fault but the duplicate answer to a cast costs one retry.
	wantRetries := 0
	for f := range faultNone {
		wantRetries += auth[f]
		if f != faultOddAnswer {
			wantRetries += cast[f]
		}
	}
	if sum.Complete != n || sum.Failed != 0 || len(sum.Errors) != 0 || sum.ReceiptsChecked != n ||
		sum.Retries != wantRetries ||
		// authorise requests that reached ballotd before being retried
		sum.RepeatedAuthorisations != auth[faultAnswerLost]+auth[faultOddAnswer] ||
		sum.CastExisting != cast[faultAnswerLost] || sum.ReceiptsRecovered != cast[faultOddAnswer] {
		t.Fatalf("proxy injected authorise %v, cast %v (want %d retries); summary:\n%s", auth, cast, wantRetries, b)
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("retries (same step, saved state; -retry-for 2m0s): %d", wantRetries)) {
		t.Errorf("table:\n%s", &stdout)
	}

	// The receipts file: one authorisation and one receipt per member.
	lines := map[string]int{}
	rb, err := os.ReadFile(receipts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ln := range strings.Split(strings.TrimSpace(string(rb)), "\n") {
		var l receiptLine
		if err := json.Unmarshal([]byte(ln), &l); err != nil {
			t.Fatalf("receipts line %q: %v", ln, err)
		}
		lines[l.Kind]++
		if l.Kind == "receipt" && (l.Index == nil || l.CPSize <= *l.Index) {
			t.Errorf("receipt line %q: index and checkpoint size", ln)
		}
	}
	if lines["authorised"] != n || lines["receipt"] != n || len(lines) != 2 {
		t.Fatalf("receipts file: %v\n%s", lines, rb)
	}

	// Close, export, counts; the export verifies and drillcheck agrees.
	if out := svc.ballotd("demo", "--close"); !strings.Contains(out, "closed") {
		t.Fatalf("ballotd demo --close said:\n%s", out)
	}
	exportFile := filepath.Join(svc.dir, "export.jsonl")
	countsFile := filepath.Join(svc.dir, "counts.json")
	fetch(t, svc.base+"/ledger/v1/"+sum.Election+"/export", exportFile)
	fetch(t, svc.base+"/issuance/v1/"+sum.Election+"/counts", countsFile)
	f, err := os.Open(exportFile)
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Verify(context.Background(), f, verify.Options{})
	f.Close()
	if err != nil || !res.OK() || res.Entries != n {
		t.Fatalf("verify: %v, %+v", err, res)
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"drillcheck", "-receipts", receipts, "-export", exportFile, "-counts", countsFile}, &stdout, &stderr, svc.getenv); code != 0 ||
		!strings.Contains(stdout.String(), "drillcheck: OK") {
		t.Fatalf("drillcheck: exit %d\n%s%s", code, &stdout, &stderr)
	}
	for _, c := range []struct{ name, line, want string }{
		{"a receipt the ledger does not have", `{"kind":"receipt","member":99,"tracker":"` + strings.Repeat("ab", 32) + `","index":3,"checkpoint_size":9,"time":"2026-12-06T00:00:00Z"}`, "LOST: member 99"},
		{"an authorisation never issued", `{"kind":"authorised","member":98,"tracker":"` + strings.Repeat("cd", 32) + `","time":"2026-12-06T00:00:00Z"}`, "1    UNEXPLAINED"},
	} {
		bad := filepath.Join(svc.dir, "bad.jsonl")
		if err := os.WriteFile(bad, append(append(bytes.Clone(rb), c.line...), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout.Reset()
		if code := run(context.Background(), []string{"drillcheck", "-receipts", bad, "-export", exportFile, "-counts", countsFile}, &stdout, &stderr, svc.getenv); code != 1 ||
			!strings.Contains(stdout.String(), c.want) || !strings.Contains(stdout.String(), "drillcheck: FAILED") {
			t.Errorf("drillcheck with %s: exit %d\n%s", c.name, code, &stdout)
		}
	}
}

func fetch(t *testing.T, u, file string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", u, resp.StatusCode, err, b)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReceiptsFileBatches: the receipts file is on disk in whole batches
// before loadgen closes it (a crash loses at most the last batch), all of
// it after the close, and drillcheck's reader ignores a last line cut
// short by a crash but not a bad line in the middle.
func TestReceiptsFileBatches(t *testing.T) {
	name := filepath.Join(t.TempDir(), "receipts.jsonl")
	rl, err := openReceipts(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := func() int {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(b, []byte("\n"))
	}
	for i := range receiptsBatch {
		v := &voter{n: i}
		v.tracker[0] = byte(i)
		rl.authorised(v, false)
	}
	if n := lines(); n != receiptsBatch {
		t.Fatalf("%d lines on disk after a whole batch of %d", n, receiptsBatch)
	}
	v := &voter{n: receiptsBatch}
	v.tracker[1] = 1
	rl.receipt(v, 7, 8, false)
	rl.gaveUp(v, stepCast, &httpError{status: 503, code: "unavailable"})
	if err := rl.close(); err != nil {
		t.Fatal(err)
	}
	if n := lines(); n != receiptsBatch+2 {
		t.Fatalf("%d lines after the close, want %d", n, receiptsBatch+2)
	}
	recs, torn, err := readReceipts(name)
	if err != nil || torn || len(recs) != receiptsBatch+1 {
		t.Fatalf("readReceipts: %d trackers, torn %v, %v", len(recs), torn, err)
	}
	r := recs[hex.EncodeToString(v.tracker[:])]
	if r == nil || r.receipt == nil || *r.receipt.Index != 7 || r.gaveUp == nil || r.gaveUp.Error != "HTTP 503 unavailable" {
		t.Fatalf("member %d: %+v", receiptsBatch, r)
	}
	b, _ := os.ReadFile(name)
	if err := os.WriteFile(name, append(bytes.Clone(b), `{"kind":"rec`...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, torn, err := readReceipts(name); err != nil || !torn {
		t.Errorf("a last line cut short: torn %v, %v", torn, err)
	}
	if err := os.WriteFile(name, append([]byte("{\"kind\":\"rec\n"), b...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := readReceipts(name); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad first line: %v", err)
	}
}

// TestRetriesAcrossRestart: ballotd is shut down in the middle of an
// open-loop run (as a deployment does) and started again once loadgen has
// knocked on its address in between; loadgen retries with the saved state
// and every vote completes with a verified receipt, in the export at its
// index.
func TestRetriesAcrossRestart(t *testing.T) {
	svc := startBallotd(t, 80)
	const n = 60
	sessions := filepath.Join(svc.dir, "sessions.txt")
	if out := svc.ballotd("demo", "--sessions", fmt.Sprint(n), "--sessions-file", sessions); !strings.Contains(out, fmt.Sprintf("%d member sessions", n)) {
		t.Fatalf("ballotd demo --sessions said:\n%s", out)
	}
	out := filepath.Join(svc.dir, "summary.json")
	receipts := filepath.Join(svc.dir, "receipts.jsonl")
	var stdout, stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"-target", svc.base, "-sessions", sessions, "-n", fmt.Sprint(n), "-rate", "20", "-concurrency", fmt.Sprint(n),
			"-duration", "60s", "-progress", "0", "-out", out, "-receipts", receipts, "-retry-for", "2m"}, &stdout, &stderr, svc.getenv)
	}()
	// The first authorisation on disk: the timed phase is under way.
	for {
		b, _ := os.ReadFile(receipts)
		if bytes.Contains(b, []byte(`"kind":"authorised"`)) {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("loadgen finished (exit %d) before any authorisation was on disk:\n%s", code, &stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	svc.stop()
	// Hold the address until loadgen tries it: that request fails and
	// must be retried.
	ln, err := net.Listen("tcp", svc.addr)
	if err != nil {
		t.Fatal(err)
	}
	knocked := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		knocked <- err
	}()
	select {
	case err := <-knocked:
		if err != nil {
			t.Fatal(err)
		}
	case code := <-done:
		t.Fatalf("loadgen finished (exit %d) while ballotd was stopped: every vote was done before the stop\n%s", code, &stdout)
	}
	ln.Close()
	svc.serve()
	if code := <-done; code != 0 {
		t.Fatalf("loadgen: exit %d\nstdout:\n%s\nstderr:\n%s\nballotd:\n%s", code, &stdout, &stderr, svc.logs)
	}
	sum, b := readSummary(t, out)
	if sum.Complete != n || sum.Failed != 0 || sum.ReceiptsChecked != n || sum.Retries < 1 {
		t.Fatalf("summary:\n%s", b)
	}
	t.Logf("retries across the restart: %v", sum.RetriesByKind)
	if out := svc.ballotd("demo", "--close"); !strings.Contains(out, "closed") {
		t.Fatalf("ballotd demo --close said:\n%s", out)
	}
	exportFile := filepath.Join(svc.dir, "export.jsonl")
	countsFile := filepath.Join(svc.dir, "counts.json")
	fetch(t, svc.base+"/ledger/v1/"+sum.Election+"/export", exportFile)
	fetch(t, svc.base+"/issuance/v1/"+sum.Election+"/counts", countsFile)
	a, err := drillcheck(receipts, exportFile, countsFile)
	if err != nil {
		t.Fatal(err)
	}
	if !a.ok() || a.receipts != n || a.receiptsInPlace != n || a.issued != n || a.entries != n {
		var tbl bytes.Buffer
		a.print(&tbl)
		t.Fatalf("drillcheck:\n%s", &tbl)
	}
}
