package systemtest

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/pgtest"
)

// leaks are what an error answer must never show: stack traces, Go
// source positions, SQL errors, connection strings.
var leaks = regexp.MustCompile(`goroutine \d|panic:|\.go:\d|SQLSTATE|pgconn|dial unix|/tmp/eballot-pg|connection refused|postgres://`)

// vote runs the phone's authorise and cast over HTTP, retrying a 503 (or a
// dropped connection) as the voting page does, until deadline: a retry
// sends the same blinded message and the same ballot (the page's saved
// state). It returns the receipt and every status seen; a dropped
// connection is seen as status 0. The cast goes without cookies, over the
// member's network (c's transport).
func vote(s *system, c *client, p *phone, deadline time.Time, seen func(what string, r resp)) (*receipt.Receipt, error) {
	anon := s.client()
	anon.HTTP.Jar = nil
	anon.HTTP.Transport = c.HTTP.Transport
	e := s.ballot.ElectionID
	for step := 0; step < 2; {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no receipt before the deadline (step %d)", step)
		}
		var r resp
		var err error
		if step == 0 {
			r, err = c.try("POST", "/vote/"+e+"/authorise", "application/json", p.authoriseBody(), map[string]string{"X-CSRF-Token": c.CSRF})
		} else {
			r, err = anon.try("POST", "/ledger/v1/"+e+"/cast", "application/json", p.castBody(), nil)
		}
		if err != nil { // connection refused or dropped: the server is restarting
			seen([]string{"authorise", "cast"}[step], resp{body: err.Error()})
			time.Sleep(50 * time.Millisecond)
			continue
		}
		seen([]string{"authorise", "cast"}[step], r)
		switch {
		case r.code == http.StatusServiceUnavailable:
			time.Sleep(100 * time.Millisecond)
			continue
		case step == 0 && r.code == http.StatusOK:
			if err := p.finish([]byte(r.body)); err != nil {
				return nil, err
			}
			step++
		case step == 1 && (r.code == http.StatusCreated || r.code == http.StatusOK):
			return receipt.ParseReceipt([]byte(r.body))
		default:
			return nil, fmt.Errorf("%s: %d %.300s", []string{"authorise", "cast"}[step], r.code, r.body)
		}
	}
	return nil, nil
}

// try is do that returns transport errors instead of failing the test.
func (c *client) try(method, path, ctype, body string, hdr map[string]string) (resp, error) {
	req, err := http.NewRequest(method, c.URL(path), strings.NewReader(body))
	if err != nil {
		return resp{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", c.Origin)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	var b strings.Builder
	_, err = fmt.Fprint(&b, "")
	buf := make([]byte, 32<<10)
	for {
		n, rerr := res.Body.Read(buf)
		b.Write(buf[:n])
		if rerr != nil {
			break
		}
	}
	return resp{res.StatusCode, b.String(), res.Header}, err
}

// TestPostgresDown stops PostgreSQL (SIGKILL of the postmaster) for five
// seconds while members vote and browse and staff look at their pages:
// every answer in the outage is a success or a 503 with Retry-After —
// never a 500, never a stack trace or SQL error — /readyz says 503 until
// the database is back, and afterwards every member who got a receipt
// finds their ballot in the ledger, and every vote completes.
func TestPostgresDown(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: kills the shared PostgreSQL cluster")
	}
	const n = 24
	s := newSystem(t, n)
	cluster := pgtest.Shared(t)
	members := make([]*client, n)
	phones := make([]*phone, n)
	for i := range members {
		members[i] = s.member(i)
		members[i].signedInPage("member")
		phones[i] = s.newPhone(i, i%2)
	}
	org := s.staff("organiser", s.ballot.UnionID)
	org.signedInPage("organiser")
	var mu sync.Mutex
	codes := map[string]int{}
	seen := func(what string, r resp) {
		mu.Lock()
		defer mu.Unlock()
		codes[fmt.Sprintf("%s %d", what, r.code)]++
		if r.code >= 500 && r.code != http.StatusServiceUnavailable {
			t.Errorf("%s: %d %.300s", what, r.code, r.body)
		}
		if r.code == http.StatusServiceUnavailable && r.h.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", what)
		}
		if r.code >= 400 && leaks.MatchString(r.body) {
			t.Errorf("%s: %d leaks internals: %.500s", what, r.code, r.body)
		}
	}

	var down, up atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Browsing: member and staff pages, the public board, readiness.
	browse := []struct {
		who  *client
		path string
	}{
		{members[0], "/me"}, {members[1], "/vote/" + s.ballot.ElectionID}, {s.client(), "/"},
		{s.client(), "/ledger/v1/" + s.ballot.ElectionID + "/checkpoint"}, {org, fmt.Sprintf("/organiser/ballots/%d", s.ballot.ID)},
		{org, fmt.Sprintf("/organiser/gotv/ballots/%d", s.ballot.ID)}, {s.client(), "/check/" + s.ballot.ElectionID},
	}
	var readyDown atomic.Int64
	for _, b := range browse {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := b.who.try("GET", b.path, "", "", nil)
				if err == nil {
					seen("GET "+b.path, r)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		anon := s.client()
		for {
			select {
			case <-stop:
				return
			default:
			}
			r, err := anon.try("GET", "/readyz", "", "", nil)
			if err == nil {
				seen("GET /readyz", r)
				if down.Load() && !up.Load() && r.code == http.StatusServiceUnavailable {
					readyDown.Add(1)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	// Voting: a few members before, most during, the rest after.
	rcs := make([]*receipt.Receipt, n)
	var vg sync.WaitGroup
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < n; i++ {
		if i == 4 {
			vg.Wait()
			if err := cluster.Kill(); err != nil {
				t.Fatal(err)
			}
			down.Store(true)
			time.AfterFunc(5*time.Second, func() {
				if err := cluster.Restart(); err != nil {
					t.Errorf("restart: %v", err)
				}
				up.Store(true)
			})
		}
		vg.Add(1)
		go func() {
			defer vg.Done()
			rc, err := vote(s, members[i], phones[i], deadline, seen)
			if err != nil {
				t.Errorf("member %d: %v", i, err)
			}
			rcs[i] = rc
		}()
		time.Sleep(200 * time.Millisecond)
	}
	vg.Wait()
	for !up.Load() {
		time.Sleep(100 * time.Millisecond)
	}
	// Recovery: ready again within a few seconds.
	for until := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r, err := s.client().try("GET", "/readyz", "", "", nil)
		if err == nil && r.code == 200 {
			break
		}
		if time.Now().After(until) {
			t.Fatalf("not ready 15 s after PostgreSQL came back: %v %v", r.code, err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if readyDown.Load() == 0 {
		t.Error("/readyz never answered 503 while PostgreSQL was down")
	}
	if codes["authorise 503"]+codes["cast 503"] == 0 {
		t.Error("no vote met the outage: the test did not test anything")
	}
	t.Logf("answers: %v", codes)
	if t.Failed() {
		return
	}
	checkReceipts(t, s.svc.Ledger, s.ballot.ElectionID, phones, rcs)
	if got := s.queryInt(`SELECT count(*) FROM ledger_entries`); got != n {
		t.Fatalf("ledger holds %d ballots, want %d", got, n)
	}
	if got := s.queryInt(`SELECT count(*) FROM marked_register WHERE ballot_id = $1`, s.ballot.ID); got != n {
		t.Fatalf("marked register holds %d, want %d", got, n)
	}
}
