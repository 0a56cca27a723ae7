package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unionvote/eballot/crypto/ballot"
	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/manifest"
)

// election is what loadgen knows of the ballot, from the public board.
type election struct {
	id      string
	m       *manifest.Manifest
	el      *ballot.Election
	hashHex string
	issuers []*rsa.PublicKey // per style
}

// voter is one simulated member, prepared before the timed phase.
type voter struct {
	n       int // 0-based number in this run
	target  *url.URL
	cookie  string // the session cookie, name=value
	csrf    string
	style   int
	choices [][]int
	ballot  []byte
	tracker [32]byte
	blinded []byte
	state   *blind.BlindState
}

// sessionCookie is the name of the service's session cookie (internal/auth:
// __Host- prefixed when the public URL is https).
func sessionCookie(u *url.URL) string {
	if u.Scheme == "https" {
		return "__Host-eb_session"
	}
	return "eb_session"
}

func loadElection(ctx context.Context, hc *http.Client, target *url.URL, id string) (*election, error) {
	body, status, err := get(ctx, hc, target.String()+"/ledger/v1/"+url.PathEscape(id)+"/manifest", "")
	if err != nil {
		return nil, fmt.Errorf("manifest of %s from %s: %w", id, target, err)
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("manifest of %s from %s: HTTP %d (is the ballot open? `ballotd demo` loads demo-strike-2026)", id, target, status)
	}
	m, err := manifest.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", id, err)
	}
	el, err := ballot.NewElection(m)
	if err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", id, err)
	}
	h := el.ManifestHash()
	e := &election{id: id, m: m, el: el, hashHex: hex.EncodeToString(h[:])}
	for _, st := range m.Styles {
		der, err := base64.StdEncoding.DecodeString(st.IssuerKey)
		if err != nil {
			return nil, fmt.Errorf("issuer key of style %s: %w", st.ID, err)
		}
		pk, err := blind.ParsePublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("issuer key of style %s: %w", st.ID, err)
		}
		e.issuers = append(e.issuers, pk)
	}
	return e, nil
}

// readSessions reads n member session cookie values from file (one per
// line, as `ballotd demo --sessions` writes them).
func readSessions(file string, n int) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	cookies := strings.Fields(string(b))
	if len(cookies) < n {
		return nil, fmt.Errorf("sessions: %s has %d sessions, -n is %d: make more with ballotd demo --sessions N --sessions-file FILE", file, len(cookies), n)
	}
	return cookies[:n], nil
}

var (
	reCSRF   = regexp.MustCompile(`data-csrf="([^"]*)"`)
	reStyle  = regexp.MustCompile(`data-style="(-?[0-9]+)"`)
	reHash   = regexp.MustCompile(`data-manifest-hash="([0-9a-f]{64})"`)
	reMarked = regexp.MustCompile(`data-marked="([^"]*)"`)
)

// paper loads the member's voting paper as the phone's browser does and
// reads what vote.js reads from it.
func (v *voter) paper(ctx context.Context, hc *http.Client, e *election) error {
	body, status, err := get(ctx, hc, v.target.String()+"/vote/"+url.PathEscape(e.id), v.cookie)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return &httpError{status: status}
	}
	page := string(body)
	find := func(re *regexp.Regexp, what string) (string, error) {
		m := re.FindStringSubmatch(page)
		if m == nil {
			return "", &stepError{kind: "no " + what + " on the voting paper"}
		}
		return html.UnescapeString(m[1]), nil
	}
	if v.csrf, err = find(reCSRF, "CSRF token"); err != nil {
		return err
	}
	if v.csrf == "" {
		return &stepError{kind: "empty CSRF token (not signed in?)"}
	}
	s, err := find(reStyle, "ballot style")
	if err != nil {
		return err
	}
	if v.style, err = strconv.Atoi(s); err != nil || v.style < 0 || v.style >= len(e.m.Styles) {
		return &stepError{kind: "ballot style out of range"}
	}
	h, err := find(reHash, "manifest hash")
	if err != nil {
		return err
	}
	if h != e.hashHex {
		return &stepError{kind: "manifest hash differs from the board's"}
	}
	if mk, err := find(reMarked, "marked-register state"); err != nil {
		return err
	} else if mk != "" {
		return &stepError{kind: "already marked on the register"}
	}
	return nil
}

// choicesFor is member n's deterministic vote: on question q, max(min,1)
// options (at most max) starting at option (n+q) mod options, so the
// expected totals are known.
func choicesFor(m *manifest.Manifest, n int) [][]int {
	out := make([][]int, len(m.Questions))
	for q, qu := range m.Questions {
		row := make([]int, len(qu.Options))
		marks := max(qu.Min, 1)
		marks = min(marks, qu.Max, len(row))
		for k := 0; k < marks; k++ {
			row[(n+q+k)%len(row)] = 1
		}
		out[q] = row
	}
	return out
}

// encrypt does the phone's work before it asks for an authorisation:
// encrypt with proofs, tracker, prepare and blind.
func (v *voter) encrypt(e *election) error {
	v.choices = choicesFor(e.m, v.n)
	b, _, err := e.el.Encrypt(rand.Reader, v.style, v.choices)
	if err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	if v.ballot, err = b.MarshalBinary(); err != nil {
		return fmt.Errorf("encrypt: %w", err)
	}
	v.tracker = ballot.TrackerOf(e.el.ManifestHash(), v.ballot)
	prepared, err := blind.Prepare(rand.Reader, v.tracker[:])
	if err != nil {
		return fmt.Errorf("blind: %w", err)
	}
	if v.blinded, v.state, err = blind.Blind(rand.Reader, e.issuers[v.style], prepared); err != nil {
		return fmt.Errorf("blind: %w", err)
	}
	return nil
}

// prepareVoters takes the members' sessions, loads their papers and prepares
// their ballots with c.prepare goroutines. Members whose paper fails are
// recorded in st and left out.
func prepareVoters(ctx context.Context, c *config, hc *http.Client, e *election, st *stats) ([]*voter, error) {
	cookies, err := readSessions(c.sessions, c.n)
	if err != nil {
		return nil, err
	}
	voters := make([]*voter, c.n)
	for i := range voters {
		t := c.targets[i%len(c.targets)]
		voters[i] = &voter{n: i, target: t, cookie: sessionCookie(t) + "=" + cookies[i]}
	}
	work := make(chan *voter)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < c.prepare; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				t0 := time.Now()
				err := v.paper(ctx, hc, e)
				st.record(stepPaper, v.target, time.Since(t0), err)
				if err != nil {
					mu.Lock()
					voters[v.n] = nil
					mu.Unlock()
					continue
				}
				if err := v.encrypt(e); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, v := range voters {
		if ctx.Err() != nil {
			break
		}
		work <- v
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := voters[:0]
	for _, v := range voters {
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

func get(ctx context.Context, hc *http.Client, u, cookie string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return b, resp.StatusCode, err
}
