package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/receipt"
)

// httpError is a non-2xx answer; code is the JSON "error" field if any,
// retryAfter the answer's Retry-After (0: none).
type httpError struct {
	status     int
	code       string
	retryAfter time.Duration
}

func (e *httpError) Error() string {
	if e.code != "" {
		return fmt.Sprintf("HTTP %d %s", e.status, e.code)
	}
	return fmt.Sprintf("HTTP %d", e.status)
}

// stepError is a local check that failed.
type stepError struct{ kind string }

func (e *stepError) Error() string { return e.kind }

// errorKind names an error for the summary without anything that
// identifies a member or a ballot.
func errorKind(err error) string {
	var he *httpError
	var se *stepError
	var ne net.Error
	switch {
	case errors.As(err, &he):
		return he.Error()
	case errors.As(err, &se):
		return se.kind
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection reset"
	}
	return "network error"
}

// postJSON posts body and decodes a 2xx JSON answer into out; it returns
// the answer's status.
func postJSON(ctx context.Context, hc *http.Client, u string, body any, hdr map[string]string, out any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return doJSON(hc, req, out)
}

// doJSON sends req and decodes a 2xx JSON answer into out; a non-2xx
// answer is an *httpError. It returns the answer's status.
func doJSON(hc *http.Client, req *http.Request, out any) (int, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return resp.StatusCode, &httpError{status: resp.StatusCode, code: e.Error, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, &stepError{kind: "answer is not the expected JSON"}
	}
	return resp.StatusCode, nil
}

// outcome is what a finished vote leaves for the end checks.
type outcome struct {
	v      *voter
	rc     *receipt.Receipt
	entry  []byte
	cpSize int64
}

// vote runs the timed steps for one prepared member; the vote's latency
// counts from due (when it was due to start: now in a closed loop). Each
// request is retried with the saved state as the phone does (r, retry.go);
// rl records the authorisation, the receipt or where the vote gave up.
func (v *voter) vote(ctx context.Context, hc *http.Client, e *election, st *stats, due time.Time, r *retrier, rl *receiptLog) (*outcome, error) {
	base := v.target.String()
	eid := url.PathEscape(e.id)
	// authorise, with the member's session and CSRF token, as vote.js does;
	// a retry sends the same blinded message.
	t0 := time.Now()
	var ar struct {
		BlindSignature string `json:"blind_signature"`
		StyleIndex     int    `json:"style_index"`
		Repeated       bool   `json:"repeated"`
	}
	err := r.do(ctx, stepAuthorise, func() error {
		_, err := postJSON(ctx, hc, base+"/vote/"+eid+"/authorise",
			map[string]string{"blinded": base64.StdEncoding.EncodeToString(v.blinded)},
			map[string]string{"Cookie": v.cookie, "X-CSRF-Token": v.csrf}, &ar)
		return err
	})
	var auth []byte
	if err == nil {
		err = func() error {
			if ar.StyleIndex != v.style {
				return &stepError{kind: "authorisation for another ballot style"}
			}
			sig, err := base64.StdEncoding.DecodeString(ar.BlindSignature)
			if err != nil {
				return &stepError{kind: "blind signature is not base64"}
			}
			a, err := v.state.Finalize(sig)
			if err != nil {
				return &stepError{kind: "blind signature does not verify"}
			}
			auth = a[:]
			return nil
		}()
	}
	st.record(stepAuthorise, v.target, time.Since(t0), err)
	if err != nil {
		rl.gaveUp(v, stepAuthorise, err)
		return nil, err
	}
	st.note(func(s *stats) {
		if ar.Repeated {
			s.repeated++
		}
	})
	rl.authorised(v, ar.Repeated)
	// cast, with no cookie and no identifier; a retry sends the same
	// ballot and authorisation.
	t1 := time.Now()
	var raw json.RawMessage
	recovered, existed := false, false
	err = r.do(ctx, stepCast, func() error {
		status, err := postJSON(ctx, hc, base+"/ledger/v1/"+eid+"/cast",
			map[string]string{"ballot": base64.StdEncoding.EncodeToString(v.ballot), "authorisation": base64.StdEncoding.EncodeToString(auth)},
			nil, &raw)
		existed = status == http.StatusOK // exactly this entry was already in the ledger
		var he *httpError
		if errors.As(err, &he) && (he.code == "duplicate_tracker" || he.code == "duplicate_alpha") {
			// The ledger already holds an entry with this tracker (or a
			// ciphertext of this ballot): ours, if an earlier attempt was
			// appended and its answer lost. Fetch the receipt by tracker;
			// the check below verifies it against exactly our entry.
			raw = nil
			gerr := getJSON(ctx, hc, base+"/ledger/v1/"+eid+"/receipts/"+hex.EncodeToString(v.tracker[:]), &raw)
			if ge := (*httpError)(nil); errors.As(gerr, &ge) && ge.status == http.StatusNotFound {
				return err
			}
			recovered = gerr == nil
			return gerr
		}
		return err
	})
	st.record(stepCast, v.target, time.Since(t1), err)
	if err != nil {
		rl.gaveUp(v, stepCast, err)
		return nil, err
	}
	st.note(func(s *stats) {
		if recovered {
			s.recovered++
		} else if existed {
			s.existed++
		}
	})
	// check the receipt against the entry rebuilt from what was sent.
	t2 := time.Now()
	out := &outcome{v: v}
	err = func() error {
		rc, err := receipt.ParseReceipt(raw)
		if err != nil {
			return &stepError{kind: "receipt does not parse"}
		}
		if rc.Tracker != v.tracker || rc.ElectionID != e.id {
			return &stepError{kind: "receipt names another ballot"}
		}
		entry, err := receipt.EntryBytes(v.tracker[:], auth, v.ballot)
		if err != nil {
			return &stepError{kind: "entry: " + err.Error()}
		}
		cp, err := receipt.VerifyReceipt(rc, e.m.LogKey, entry)
		if err != nil {
			if recovered {
				return &stepError{kind: "the ledger holds another entry with this tracker"}
			}
			return &stepError{kind: "receipt does not verify"}
		}
		out.rc, out.entry, out.cpSize = rc, entry, cp.Size
		return nil
	}()
	st.record(stepCheck, v.target, time.Since(t2), err)
	if err != nil {
		rl.gaveUp(v, stepCheck, err)
		return nil, err
	}
	rl.receipt(v, out.rc.Index, out.cpSize, recovered)
	st.record(stepVote, v.target, time.Since(due), nil)
	return out, nil
}

// runVote runs one vote with its retries (until -retry-for after it
// starts) and returns its outcome, nil when it failed.
func runVote(ctx context.Context, c *config, hc *http.Client, e *election, st *stats, rl *receiptLog, v *voter, due time.Time) *outcome {
	r := &retrier{stop: ctx, deadline: time.Now().Add(c.retryFor), st: st}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.retryFor+3*c.timeout)
	defer cancel()
	o, err := v.vote(rctx, hc, e, st, due, r, rl)
	if err != nil {
		return nil
	}
	return o
}

// timed runs the votes with c.concurrency workers until all are done or
// c.duration has passed (votes in flight finish).
func timed(ctx context.Context, c *config, hc *http.Client, e *election, voters []*voter, st *stats, rl *receiptLog) ([]*outcome, time.Duration, int) {
	if c.rate > 0 {
		return openLoop(ctx, c, hc, e, voters, st, rl)
	}
	start := time.Now()
	deadline := start.Add(c.duration)
	work := make(chan *voter)
	var mu sync.Mutex
	var outs []*outcome
	var wg sync.WaitGroup
	for w := 0; w < c.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				if o := runVote(ctx, c, hc, e, st, rl, v, time.Now()); o != nil {
					mu.Lock()
					outs = append(outs, o)
					mu.Unlock()
				}
			}
		}()
	}
	stopProgress := st.progressLoop(c.progress, start)
	started := 0
	timer := time.NewTimer(c.duration)
	defer timer.Stop()
feed:
	for _, v := range voters {
		if time.Now().After(deadline) {
			break
		}
		select {
		case work <- v:
			started++
		case <-timer.C:
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return outs, elapsed, started
}

// openLoop starts vote k at start + k/c.rate whatever the answers, with
// at most c.concurrency in flight, until all are started or c.duration has
// passed (votes in flight finish).
func openLoop(ctx context.Context, c *config, hc *http.Client, e *election, voters []*voter, st *stats, rl *receiptLog) ([]*outcome, time.Duration, int) {
	start := time.Now()
	var mu sync.Mutex
	var outs []*outcome
	var wg sync.WaitGroup
	slots := make(chan struct{}, c.concurrency)
	stopProgress := st.progressLoop(c.progress, start)
	started := 0
	interval := float64(time.Second) / c.rate
	for k, v := range voters {
		due := start.Add(time.Duration(float64(k) * interval))
		if due.Sub(start) >= c.duration {
			break
		}
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		default:
			st.record(stepStart, v.target, 0, &stepError{kind: "client at -concurrency cap"})
			started++
			continue
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if o := runVote(ctx, c, hc, e, st, rl, v, due); o != nil {
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return outs, elapsed, started
}

// consistency checks a spread sample of receipts against the latest
// checkpoint of the ledger, fetched (with the proofs) from every target in
// turn: each replica must serve one and the same append-only log.
func consistency(ctx context.Context, c *config, hc *http.Client, e *election, outs []*outcome) (checked int, failures map[string]int) {
	failures = map[string]int{}
	if c.sample == 0 || len(outs) == 0 {
		return 0, failures
	}
	n := min(c.sample, len(outs))
	for k := 0; k < n; k++ {
		o := outs[k*len(outs)/n]
		t := c.targets[k%len(c.targets)]
		base := t.String() + "/ledger/v1/" + url.PathEscape(e.id)
		err := func() error {
			var cp struct {
				Size int64  `json:"size"`
				Note string `json:"note"`
			}
			if err := getJSON(ctx, hc, base+"/checkpoint", &cp); err != nil {
				return err
			}
			var pr struct {
				Proof []string `json:"proof"`
			}
			if err := getJSON(ctx, hc, base+"/proofs/consistency?old="+strconv.FormatInt(o.cpSize, 10)+"&new="+strconv.FormatInt(cp.Size, 10), &pr); err != nil {
				return err
			}
			var proof tlog.TreeProof
			for _, h := range pr.Proof {
				b, err := hex.DecodeString(h)
				if err != nil || len(b) != len(tlog.Hash{}) {
					return &stepError{kind: "consistency proof is not hex hashes"}
				}
				proof = append(proof, tlog.Hash(b))
			}
			if _, err := receipt.VerifyReceiptAgainst(o.rc, e.m.LogKey, o.entry, []byte(cp.Note), proof); err != nil {
				return &stepError{kind: "receipt not consistent with the latest checkpoint"}
			}
			return nil
		}()
		if err != nil {
			failures["consistency: "+errorKind(err)]++
			continue
		}
		checked++
	}
	return checked, failures
}

func getJSON(ctx context.Context, hc *http.Client, u string, out any) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	_, err = doJSON(hc, req, out)
	return err
}

func newClient(c *config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0
	tr.MaxIdleConnsPerHost = c.concurrency + c.prepare
	tr.DisableCompression = true
	return &http.Client{
		Transport: tr,
		Timeout:   c.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a redirect to sign-in is an error here
		},
	}
}

// loadTest is the whole run.
func loadTest(ctx context.Context, c *config, stderr io.Writer) (*summary, error) {
	hc := newClient(c)
	e, err := loadElection(ctx, hc, c.targets[0], c.election)
	if err != nil {
		return nil, err
	}
	st := newStats(c.targets, stderr)
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "loadgen: "+format+"\n", a...) }
	logf("preparing %d members of %s (sessions, voting papers, encryption, blinding) on %d workers", c.n, e.id, c.prepare)
	p0 := time.Now()
	voters, err := prepareVoters(ctx, c, hc, e, st)
	if err != nil {
		return nil, err
	}
	prep := time.Since(p0)
	if c.rate > 0 {
		logf("prepared %d members in %s; timed phase: open loop at %g votes/s (at most %d in flight), at most %s", len(voters), prep.Round(time.Millisecond), c.rate, c.concurrency, c.duration)
	} else {
		logf("prepared %d members in %s; timed phase: %d at once, at most %s", len(voters), prep.Round(time.Millisecond), c.concurrency, c.duration)
	}
	before := scrapeAll(ctx, hc, c.metrics)
	pg0 := postgresCPU(c, logf)
	cp0 := checkpointCount(ctx, hc, c.targets[0], e.id)
	profiled := startProfile(ctx, c, logf)
	rl, err := openReceipts(c.receipts)
	if err != nil {
		return nil, err
	}
	outs, elapsed, started := timed(ctx, c, hc, e, voters, st, rl)
	if err := rl.close(); err != nil {
		return nil, err
	}
	after := scrapeAll(ctx, hc, c.metrics)
	pg1 := postgresCPU(c, logf)
	cp1 := checkpointCount(ctx, hc, c.targets[0], e.id)
	logf("timed phase done: %d complete votes in %s", len(outs), elapsed.Round(time.Millisecond))
	if err := <-profiled; err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	checked, cfails := consistency(ctx, c, hc, e, outs)
	sum := st.summarise(c, e, prep, elapsed, started, outs, checked, cfails)
	sum.server(before, after)
	sum.postgres(pg0, pg1)
	sum.batches(cp0, cp1)
	return sum, nil
}

// The service metrics (GET /metrics, Prometheus text) loadgen reads from
// each replica's metrics listener (-metrics) before and after the timed
// phase. (The ledger's own counters are released only hourly: the batch
// figure comes from the public board, checkpointCount.)
var scraped = []string{"process_cpu_seconds_total"}

// scrapeAll sums the scraped metrics over the metrics listeners; nil when
// there are none or any does not answer (the summary then has no server
// figures).
func scrapeAll(ctx context.Context, hc *http.Client, targets []*url.URL) map[string]float64 {
	if len(targets) == 0 {
		return nil
	}
	out := map[string]float64{}
	for _, t := range targets {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, status, err := get(rctx, hc, t.String()+"/metrics", "")
		cancel()
		if err != nil || status != http.StatusOK {
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			name, val, ok := strings.Cut(line, " ")
			if !ok || !slices.Contains(scraped, name) {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
			if err != nil {
				continue
			}
			out[name] += f
		}
	}
	return out
}

// postgresCPU is the CPU seconds of the -postgres-pid process tree so
// far; -1 when not asked for or not readable (said once on stderr).
func postgresCPU(c *config, logf func(string, ...any)) float64 {
	if c.postgresPID == 0 {
		return -1
	}
	s, err := treeCPUSeconds(c.postgresPID)
	if err != nil {
		logf("PostgreSQL's CPU time not measured: %v", err)
		return -1
	}
	return s
}

// cpCount is the ledger's size and number of signed checkpoints: one
// checkpoint per committed batch (group commit), read from the public
// board.
type cpCount struct {
	size, count int64
	ok          bool
}

// checkpointCount pages through the board's checkpoints; !ok when the
// board does not answer.
func checkpointCount(ctx context.Context, hc *http.Client, target *url.URL, election string) cpCount {
	var c cpCount
	from := int64(0)
	for {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		b, status, err := get(rctx, hc, fmt.Sprintf("%s/ledger/v1/%s/checkpoints?from=%d&count=1000", target, url.PathEscape(election), from), "")
		cancel()
		if err != nil || status != http.StatusOK {
			return cpCount{}
		}
		var page struct {
			Checkpoints []struct {
				Size int64 `json:"size"`
			} `json:"checkpoints"`
		}
		if json.Unmarshal(b, &page) != nil {
			return cpCount{}
		}
		for _, cp := range page.Checkpoints {
			c.count++
			c.size = cp.Size
		}
		if len(page.Checkpoints) < 1000 {
			c.ok = true
			return c
		}
		from = c.size + 1
	}
}

// writeFile writes b to name atomically enough for a summary.
func writeFile(name string, b []byte) error {
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// startProfile asks the ballotd profiler (-cpuprofile-from) for a CPU
// profile of the next -cpuprofile-seconds and writes it to -cpuprofile;
// the channel gives the outcome (nil at once when no profile is asked for).
func startProfile(ctx context.Context, c *config, logf func(string, ...any)) <-chan error {
	done := make(chan error, 1)
	if c.profileURL == "" {
		done <- nil
		return done
	}
	go func() {
		done <- func() error {
			secs := int(c.profileFor / time.Second)
			u := strings.TrimRight(c.profileURL, "/") + fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs)
			req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
			if err != nil {
				return err
			}
			resp, err := (&http.Client{Timeout: c.profileFor + 30*time.Second}).Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", u, resp.Status)
			}
			f, err := os.Create(c.profileOut)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			logf("CPU profile of the first %ds of the timed phase written to %s", secs, c.profileOut)
			return nil
		}()
	}()
	return done
}
