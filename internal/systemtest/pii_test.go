package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"

	"github.com/unionvote/eballot/crypto/receipt"
)

var (
	linkRE = regexp.MustCompile(`https?://[^\s]+/i/([A-Za-z0-9_-]{43})`)
	codeRE = regexp.MustCompile(`\b(\d{6})\b`)
)

// outboxTo is the newest development-outbox message to mobile.
func (s *system) outboxTo(mobile string) string {
	s.t.Helper()
	var body string
	if err := s.pool.QueryRow(context.Background(), `SELECT body FROM sms_outbox WHERE to_number = $1 ORDER BY id DESC LIMIT 1`, mobile).Scan(&body); err != nil {
		s.t.Fatalf("no SMS to %s: %v", mobile, err)
	}
	return body
}

// TestNoPIIInLogsAndBruteForce runs the whole service at debug level with
// its logs captured: members are texted their links, sign in with SMS
// codes, vote and check their receipts; organisers browse the register and
// turnout and send a reminder campaign; an attacker brute-forces
// invitation tokens and codes until the rate limits answer 429 "try again
// in N minutes". Then no log line holds a member's name, mobile (in any
// format), email, invitation token, code, session cookie or CSRF token.
func TestNoPIIInLogsAndBruteForce(t *testing.T) {
	const n = 3
	type person struct {
		id                  int64
		name, mobile, email string
	}
	who := func(i int) person {
		return person{name: fmt.Sprintf("Gwenllian Testname%d", i), mobile: fmt.Sprintf("+4477009007%02d", i), email: fmt.Sprintf("gwen%d@private.example", i)}
	}
	s := newSystem(t, n, func(o *electiontest.Options) {
		o.Member = func(i int) (string, string, string) { p := who(i); return p.name, p.mobile, p.email }
	})
	ctx := context.Background()
	var people []person
	for i, id := range s.ballot.MemberIDs {
		p := who(i)
		p.id = id
		people = append(people, p)
	}
	if _, err := s.svc.Auth.IssueInvitations(ctx, s.ballot.ID); err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for i, p := range people[:2] {
		m := linkRE.FindStringSubmatch(s.outboxTo(p.mobile))
		if m == nil {
			t.Fatalf("no link texted to member %d", i)
		}
		secrets = append(secrets, m[1])
		c := s.client()
		link := s.base + "/i/" + m[1]
		if r := c.get(link); r.code != 200 {
			t.Fatalf("landing: %d", r.code)
		}
		if r := c.postForm(link, url.Values{"csrf": {c.CSRF}}); r.code != http.StatusSeeOther {
			t.Fatalf("send code: %d %.300s", r.code, r.body)
		}
		c.get("/auth/code")
		code := codeRE.FindString(s.outboxTo(p.mobile))
		secrets = append(secrets, code)
		if r := c.postForm("/auth/code", url.Values{"csrf": {c.CSRF}, "code": {code}}); r.code != http.StatusSeeOther {
			t.Fatalf("verify code: %d %.300s", r.code, r.body)
		}
		c.signedInPage("member")
		secrets = append(secrets, c.CSRF)
		u, _ := url.Parse(s.base)
		for _, ck := range c.HTTP.Jar.Cookies(u) {
			secrets = append(secrets, ck.Value)
		}
		ph := s.newPhone(i, 0)
		rc, err := vote(s, c, ph, time.Now().Add(30*time.Second), func(string, resp) {})
		if err != nil {
			t.Fatal(err)
		}
		code16 := receipt.ShortCode(ph.tracker)
		if r := c.get("/ledger/v1/" + s.ballot.ElectionID + "/codes/" + code16); r.code != 200 {
			t.Fatalf("check my vote: %d", r.code)
		}
		_ = rc
	}
	// Staff browse and remind the member who has not voted.
	org := s.staff("organiser", s.ballot.UnionID)
	org.signedInPage("organiser")
	for _, p := range []string{fmt.Sprintf("/organiser/ballots/%d", s.ballot.ID), fmt.Sprintf("/organiser/ballots/%d/register", s.ballot.ID),
		fmt.Sprintf("/organiser/gotv/ballots/%d", s.ballot.ID), fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.csv", s.ballot.ID)} {
		if r := org.get(p); r.code != 200 {
			t.Errorf("%s: %d", p, r.code)
		}
	}
	s.remindNow(ctx, people[2].id)
	if got := s.queryInt(`SELECT count(*) FROM gotv_messages WHERE state = 'sent'`); got == 0 {
		var st, reason string
		_ = s.pool.QueryRow(ctx, `SELECT state, reason FROM gotv_messages LIMIT 1`).Scan(&st, &reason)
		t.Errorf("no reminder sent: %s %s", st, reason)
	}
	if m := linkRE.FindStringSubmatch(s.outboxTo(people[2].mobile)); m != nil {
		secrets = append(secrets, m[1])
	}

	// Brute force of codes for member 2: five wrong codes lock the code,
	// and the per-member limit then refuses with "try again".
	m := linkRE.FindStringSubmatch(s.outboxTo(people[2].mobile))
	c := s.client()
	link := s.base + "/i/" + m[1]
	c.get(link)
	c.postForm(link, url.Values{"csrf": {c.CSRF}})
	c.get("/auth/code")
	code := codeRE.FindString(s.outboxTo(people[2].mobile))
	secrets = append(secrets, code)
	var r resp
	tries := 0
	for ; tries < 100; tries++ {
		guess := fmt.Sprintf("%06d", tries)
		if guess == code {
			continue
		}
		if r = c.postForm("/auth/code", url.Values{"csrf": {c.CSRF}, "code": {guess}}); r.code == http.StatusTooManyRequests {
			break
		}
		if r.code == http.StatusSeeOther {
			t.Fatal("a wrong code signed in")
		}
	}
	wantLimited(t, "code brute force", r)
	t.Logf("code guesses refused after %d tries", tries)
	if r := c.postForm("/auth/code", url.Values{"csrf": {c.CSRF}, "code": {code}}); r.code == http.StatusSeeOther {
		t.Fatal("the right code still worked after the brute force")
	}

	// Brute force of invitation tokens from one address: the per-IP limit.
	attacker := s.client()
	for tries = 0; tries < 200; tries++ {
		tok := fmt.Sprintf("%043d", tries)
		if r = attacker.get("/i/" + tok); r.code == http.StatusTooManyRequests {
			break
		}
		if r.code == 200 {
			t.Fatalf("guessed token %s accepted", tok)
		}
	}
	wantLimited(t, "invitation brute force", r)
	t.Logf("invitation guesses refused after %d tries", tries)
	logs := s.logs.String()
	if len(logs) < 1000 || !strings.Contains(logs, "http request") {
		t.Fatalf("logs not captured (%d bytes)", len(logs))
	}
	for _, p := range people {
		local := "0" + strings.TrimPrefix(p.mobile, "+44")
		secrets = append(secrets, p.name, "Gwenllian", p.mobile, strings.TrimPrefix(p.mobile, "+"), local, p.email)
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		if i := strings.Index(logs, sec); i >= 0 {
			t.Errorf("logs hold %q: …%s…", sec, logs[max(0, i-200):min(len(logs), i+100)])
		}
	}
	t.Logf("%d KiB of logs, %d secrets absent", len(logs)>>10, len(secrets))
}

var retryRE = regexp.MustCompile(`(?i)try again in \d+ minutes?`)

func wantLimited(t *testing.T, what string, r resp) {
	t.Helper()
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("%s: never limited (last answer %d)", what, r.code)
	}
	if r.h.Get("Retry-After") == "" || !retryRE.MatchString(r.body) {
		t.Fatalf("%s: 429 without Retry-After or \"try again in N minutes\": %v %.300s", what, r.h, r.body)
	}
}
