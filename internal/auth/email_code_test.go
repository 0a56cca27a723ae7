package auth_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
	eballotmail "github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/mail/mailtest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/sealed"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

var emailCodeRE = regexp.MustCompile(`(\d{6}) is your code to sign in to vote`)

// emailsTo returns the decoded bodies of the messages srv accepted for addr.
func emailsTo(t *testing.T, srv *mailtest.Server, addr string) []string {
	t.Helper()
	var out []string
	for _, m := range srv.Messages() {
		if len(m.To) == 1 && m.To[0] == addr {
			_, body := decodeMessage(t, m.Data)
			out = append(out, body)
		}
	}
	return out
}

// lastEmailCode is the newest sign-in code emailed to addr ("" if none),
// and how many codes were emailed to it.
func lastEmailCode(t *testing.T, srv *mailtest.Server, addr string) (string, int) {
	t.Helper()
	code, n := "", 0
	for _, body := range emailsTo(t, srv, addr) {
		if m := emailCodeRE.FindStringSubmatch(body); m != nil {
			code, n = m[1], n+1
		}
	}
	return code, n
}

// emailedLink is the personal link of the invitation emailed to addr.
func emailedLink(t *testing.T, srv *mailtest.Server, addr string) string {
	t.Helper()
	for _, body := range emailsTo(t, srv, addr) {
		if l := linkRE.FindString(body); l != "" {
			return l
		}
	}
	t.Fatalf("no invitation emailed to %s", addr)
	return ""
}

// A member with an email but no mobile gets the invitation and the
// sign-in code by email, and signs in with it; a member with both gets the
// code by text only.
func TestEmailCodeSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	ballot, ids := e.emailBallot("mail-1", [][2]string{{"", "ann.jones@example.net"}, {"+447700900601", "both@example.net"}})
	if rep, err := e.svc.IssueInvitations(ctx, ballot); err != nil || rep.EmailSent != 2 || rep.SMSSent != 1 {
		t.Fatalf("issue: %+v %v", rep, err)
	}
	// The invitation says how the code will come.
	if b := emailsTo(t, e.smtp, "ann.jones@example.net")[0]; !strings.Contains(b, "we will email a 6-digit code to this address") ||
		!strings.Contains(b, "byddwn yn anfon cod 6 digid mewn e-bost i'r cyfeiriad hwn") || strings.Contains(b, "we will text") {
		t.Fatalf("invitation to the email-only member:\n%s", b)
	}
	if b := emailsTo(t, e.smtp, "both@example.net")[0]; !strings.Contains(b, "we will text a 6-digit code") {
		t.Fatalf("invitation to the member with a mobile:\n%s", b)
	}

	b := e.browser()
	link := emailedLink(t, e.smtp, "ann.jones@example.net")
	r := b.get(link)
	want(t, r, 200, "landing")
	if !strings.Contains(r.body, "we will email a 6-digit code to a•••@example.net") || !strings.Contains(r.body, "Email me a code") ||
		strings.Contains(r.body, "ann.jones") {
		t.Fatalf("landing: %s", r.body)
	}
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}, "email": {"attacker@example.org"}})
	want(t, r, 303, "send code")
	if loc := r.h.Get("Location"); loc != "/auth/code" {
		t.Fatalf("redirect to %q", loc)
	}
	r = b.get("/auth/code")
	want(t, r, 200, "code page")
	if !strings.Contains(r.body, "We have emailed a 6-digit code to a•••@example.net.") || !strings.Contains(r.body, "6-digit code from the email") ||
		!strings.Contains(r.body, "spam") {
		t.Fatalf("code page: %s", r.body)
	}
	code, n := lastEmailCode(t, e.smtp, "ann.jones@example.net")
	if code == "" || n != 1 {
		t.Fatalf("code emails: %d", n)
	}
	for _, m := range e.smtp.Messages() {
		if m.To[0] == "attacker@example.org" {
			t.Fatal("code sent to an address from the form")
		}
		if !m.TLS {
			t.Fatal("email without TLS")
		}
	}
	// The email: bilingual, the code in the body only.
	for _, m := range e.smtp.Messages() {
		h, body := decodeMessage(t, m.Data)
		if !strings.Contains(body, code) {
			continue
		}
		if strings.Contains(h.Get("Subject"), code) || !strings.Contains(body, code+" yw eich cod i fewngofnodi") || h.Get("Content-Language") != "en, cy" {
			t.Fatalf("code email %v:\n%s", h, body)
		}
	}
	r = b.postForm("/auth/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {wrongCode(code)}})
	want(t, r, 400, "wrong code")
	if !strings.Contains(r.body, "That code is not right") || !strings.Contains(r.body, "a•••@example.net") {
		t.Fatalf("wrong code page: %s", r.body)
	}
	r = b.postForm("/auth/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {code}})
	want(t, r, 303, "right code")
	r = b.get("/me")
	want(t, r, 200, "/me")
	if !strings.Contains(r.body, "Emailed 0") {
		t.Fatalf("/me: %s", r.body)
	}
	var method string
	if err := e.pool.QueryRow(ctx, `SELECT method FROM auth_sessions WHERE kind = 'member' AND member_id = $1`, ids[0]).Scan(&method); err != nil || method != "email" {
		t.Fatalf("session method %q %v", method, err)
	}
	var outcomes []string
	for _, ev := range e.events("signin") {
		outcomes = append(outcomes, ev.Outcome)
	}
	if len(outcomes) != 1 || outcomes[0] != "ok_email" {
		t.Fatalf("signin events %v", outcomes)
	}

	// Both a mobile and an email: the code goes by text, never by email.
	b2 := e.browser()
	link2 := emailedLink(t, e.smtp, "both@example.net")
	r = b2.get(link2)
	want(t, r, 200, "landing 2")
	if !strings.Contains(r.body, "Text me a code") || strings.Contains(r.body, "•••") {
		t.Fatalf("landing 2: %s", r.body)
	}
	want(t, b2.postForm(link2, url.Values{"csrf": {csrfOf(t, r.body)}}), 303, "send code 2")
	if _, n := lastEmailCode(t, e.smtp, "both@example.net"); n != 0 {
		t.Fatalf("%d codes emailed to a member with a mobile", n)
	}
	if !codeRE.MatchString(e.fake.LastBodyTo("+447700900601")) {
		t.Fatalf("no code texted: %q", e.fake.LastBodyTo("+447700900601"))
	}
	if r := b2.get("/auth/code"); !strings.Contains(r.body, "6-digit code from the text message") || strings.Contains(r.body, "•••") {
		t.Fatalf("code page 2: %s", r.body)
	}
	// Logs hold neither codes nor addresses.
	for _, secret := range []string{code, "ann.jones@example.net", "both@example.net"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("logs contain %q", secret)
		}
	}
}

// Emailed codes follow the rules of texted ones: locked after 5 wrong
// tries, dead after 10 minutes, 3 per member per hour, bound to the member.
func TestEmailCodeRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	ballot, ids := e.emailBallot("mail-2", [][2]string{{"", "a@example.net"}, {"", "b@example.net"}})
	if _, err := e.svc.IssueInvitations(ctx, ballot); err != nil {
		t.Fatal(err)
	}
	send := func(member int64) auth.CodeDelivery {
		t.Helper()
		cd, err := e.svc.SendSigninCode(ctx, ballot, member, "en")
		if err != nil {
			t.Fatal(err)
		}
		return cd
	}
	if cd := send(ids[0]); cd.Email != "a•••@example.net" || cd.Uncertain {
		t.Fatalf("delivery %+v", cd)
	}
	code1, _ := lastEmailCode(t, e.smtp, "a@example.net")
	for i := 0; i < 4; i++ {
		if err := e.svc.VerifyMemberCode(ctx, ids[0], wrongCode(code1)); !errors.Is(err, auth.ErrInvalidCode) {
			t.Fatalf("wrong try %d: %v", i, err)
		}
	}
	if err := e.svc.VerifyMemberCode(ctx, ids[0], wrongCode(code1)); !errors.Is(err, auth.ErrCodeLocked) {
		t.Fatalf("fifth wrong try: %v", err)
	}
	if err := e.svc.VerifyMemberCode(ctx, ids[0], code1); !errors.Is(err, auth.ErrCodeLocked) {
		t.Fatalf("right code after the lock: %v", err)
	}
	// Expired.
	send(ids[0])
	code2, _ := lastEmailCode(t, e.smtp, "a@example.net")
	e.clk.Add(10*time.Minute + time.Second)
	if err := e.svc.VerifyMemberCode(ctx, ids[0], code2); !errors.Is(err, auth.ErrInvalidCode) {
		t.Fatalf("expired code: %v", err)
	}
	// A's code is refused for B (B has a code of its own).
	send(ids[0])
	code3, _ := lastEmailCode(t, e.smtp, "a@example.net")
	send(ids[1])
	codeB, _ := lastEmailCode(t, e.smtp, "b@example.net")
	if code3 != codeB {
		if err := e.svc.VerifyMemberCode(ctx, ids[1], code3); !errors.Is(err, auth.ErrInvalidCode) {
			t.Fatalf("A's code for B: %v", err)
		}
	}
	if err := e.svc.VerifyMemberCode(ctx, ids[0], code3); err != nil {
		t.Fatalf("A's own code: %v", err)
	}
	// A fourth code within the hour is refused, by email as by text.
	_, err := e.svc.SendSigninCode(ctx, ballot, ids[0], "en")
	var rl *auth.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Hour {
		t.Fatalf("fourth code: %v", err)
	}
	if _, n := lastEmailCode(t, e.smtp, "a@example.net"); n != 3 {
		t.Fatalf("%d codes emailed, want 3", n)
	}
	// Over HTTP: the resend answers 429 "try again in N minutes".
	b := e.browser()
	link := emailedLink(t, e.smtp, "a@example.net")
	r := b.get(link)
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 429, "send over the limit")
	if !strings.Contains(r.body, "Try again in") || r.h.Get("Retry-After") == "" {
		t.Fatalf("limit page %v: %s", r.h, r.body)
	}
	// An hour after the first code, codes flow again.
	e.clk.Add(time.Hour)
	send(ids[0])
	if _, n := lastEmailCode(t, e.smtp, "a@example.net"); n != 4 {
		t.Fatalf("%d codes emailed after the hour", n)
	}
	var channel string
	if err := e.pool.QueryRow(ctx, `SELECT channel FROM auth_otp_codes WHERE subject = 'm' || $1::bigint ORDER BY id DESC LIMIT 1`, ids[0]).Scan(&channel); err != nil || channel != "email" {
		t.Fatalf("channel %q %v", channel, err)
	}
}

// The code goes to the contacts frozen when the ballot opened
// (ballot_contacts, sealed), not to the member's current email; without a
// mail sender, or with an employer address, nothing is emailed.
func TestEmailCodeFrozenContact(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef") // the env's secret key
	e := newEnv(t, nil)
	ctx := context.Background()
	ballot, ids := e.emailBallot("mail-3", [][2]string{{"", "frozen@example.net"}, {"", "me@acme-corp.example"}})
	for i, addr := range []string{"frozen@example.net", "me@acme-corp.example"} {
		pt, _ := json.Marshal(register.Contact{Email: addr})
		ct, err := sealed.Seal(key, pt, register.ContactAD(ballot, ids[i]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.pool.Exec(ctx, `INSERT INTO ballot_contacts (ballot_id, member_id, sealed, has_mobile, has_email) VALUES ($1, $2, $3, false, true)`,
			ballot, ids[i], ct); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.pool.Exec(ctx, `UPDATE ballots SET contacts_frozen_at = now() WHERE id = $1`, ballot); err != nil {
		t.Fatal(err)
	}
	contacts := register.NewStore(e.pool, key)
	e.svc.UseContacts(func(ctx context.Context, ballotID int64, ids []int64) (map[int64]auth.Contact, error) {
		m, err := contacts.Contacts(ctx, ballotID, ids)
		out := map[int64]auth.Contact{}
		for id, c := range m {
			out[id] = auth.Contact{Mobile: c.Mobile, Email: c.Email}
		}
		return out, err
	})
	// A later import changes the member's current email and adds a mobile.
	if _, err := e.pool.Exec(ctx, `UPDATE members SET email = 'changed@example.org', mobile = '+447700900699' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	e.sealMembers()
	if _, err := e.pool.Exec(ctx, `UPDATE unions SET employer_email_domains = '{acme-corp.example}' WHERE id = $1`, e.unionID); err != nil {
		t.Fatal(err)
	}
	cd, err := e.svc.SendSigninCode(ctx, ballot, ids[0], "en")
	if err != nil || cd.Email != "f•••@example.net" {
		t.Fatalf("frozen contact: %+v %v", cd, err)
	}
	if _, n := lastEmailCode(t, e.smtp, "frozen@example.net"); n != 1 {
		t.Fatalf("%d codes to the frozen address", n)
	}
	if _, n := lastEmailCode(t, e.smtp, "changed@example.org"); n != 0 || e.fake.LastBodyTo("+447700900699") != "" {
		t.Fatal("code sent to the member's current contacts")
	}
	// An employer address is not a personal contact: nothing is sent, and
	// the answer is the one for a member without contacts.
	cd, err = e.svc.SendSigninCode(ctx, ballot, ids[1], "en")
	if err != nil || cd.Email != "" {
		t.Fatalf("employer address: %+v %v", cd, err)
	}
	if _, n := lastEmailCode(t, e.smtp, "me@acme-corp.example"); n != 0 {
		t.Fatal("code emailed to an employer address")
	}
}

// Without a mail sender (EBALLOT_MAIL_PROVIDER=none), a member without a
// mobile gets nothing, and the page is the generic text page.
func TestEmailCodeNoMailer(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(o *auth.Options) { o.Mail = nil })
	ballot, ids := e.emailBallot("mail-4", [][2]string{{"", "ann@example.net"}})
	cd, err := e.svc.SendSigninCode(context.Background(), ballot, ids[0], "en")
	if err != nil || cd.Email != "" || len(e.smtp.Messages()) != 0 {
		t.Fatalf("%+v %v", cd, err)
	}
}

// An emailed code whose server answer is lost (mail.ErrUncertain): the
// page says it may take a minute; it is one send, not retried.
func TestEmailCodeUncertain(t *testing.T) {
	t.Parallel()
	var drop atomic.Bool
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, DropAfterData: func(string) bool { return drop.Load() }})
	e := newEnvWith(t, nil, func(o *auth.Options) {
		c, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: srv.Port, From: "ballots@vote.example",
			TLSConfig: &tls.Config{RootCAs: srv.RootCAs()}})
		if err != nil {
			t.Fatal(err)
		}
		o.Mail = c
	})
	ctx := context.Background()
	ballot, ids := e.emailBallot("mail-5", [][2]string{{"", "slow@example.net"}})
	if _, err := e.svc.IssueInvitations(ctx, ballot); err != nil {
		t.Fatal(err)
	}
	link := emailedLink(t, srv, "slow@example.net")
	drop.Store(true) // from now on the answer to each message is lost
	b := e.browser()
	r := b.get(link)
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 303, "send code")
	if loc := r.h.Get("Location"); loc != "/auth/code?slow=1" {
		t.Fatalf("redirect %q", loc)
	}
	r = b.get("/auth/code?slow=1")
	if !strings.Contains(r.body, "The code may take a minute to arrive") || !strings.Contains(r.body, "s•••@example.net") {
		t.Fatalf("code page: %s", r.body)
	}
	code, n := lastEmailCode(t, srv, "slow@example.net")
	if n != 1 {
		t.Fatalf("%d code emails, want 1 (not retried)", n)
	}
	var rows int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM auth_otp_codes WHERE subject = 'm' || $1::bigint`, ids[0]).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d codes stored, want 1 %v", rows, err)
	}
	if ev := e.events("otp_send"); len(ev) != 1 || ev[0].Outcome != "uncertain_email" {
		t.Fatalf("otp_send events %+v", ev)
	}
	r = b.postForm("/auth/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {code}})
	want(t, r, 303, "the code that did arrive works")
}

// Texts whose outcome is uncertain (Twilio took the request, the answer
// never came): an invitation is recorded as sent and marked uncertain,
// never sent again; a sign-in code counts as one send and the page says it
// may take a minute.
func TestTextsUncertain(t *testing.T) {
	t.Parallel()
	const slow = "+447700900701"
	fake := smstest.NewTwilio(t)
	fake.Hang = func(to string) bool { return to == slow }
	e := newEnvWith(t, nil, func(o *auth.Options) {
		tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "AC00000000000000000000000000000001", AuthToken: "tok0123456789abcdef",
			MessagingServiceSID: "MG0001", HTTPClient: fake.ClientWithTimeout(300 * time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		o.SMS, o.Mail = tw, nil
	})
	ctx := context.Background()
	ballot, ids := e.emailBallot("sms-slow", [][2]string{{slow, ""}, {"+447700900702", ""}})
	rep, err := e.svc.IssueInvitations(ctx, ballot)
	if err != nil || rep.SMSSent != 1 || rep.SMSUncertain != 1 || rep.SMSFailed != 0 {
		t.Fatalf("issue: %+v %v", rep, err)
	}
	bodies := func() []string {
		var out []string
		for _, r := range fake.Requests() {
			if r.Form.Get("To") == slow {
				out = append(out, r.Form.Get("Body"))
			}
		}
		return out
	}
	if rep, err := e.svc.IssueInvitations(ctx, ballot); err != nil || rep.SMSSent+rep.SMSUncertain+rep.SMSFailed != 0 || len(bodies()) != 1 {
		t.Fatalf("second run: %+v %v, %d texts", rep, err, len(bodies()))
	}
	var sent, uncertain int
	if err := e.pool.QueryRow(ctx, `SELECT count(sms_sent_at), count(sms_uncertain_at) FROM auth_invitations WHERE ballot_id = $1 AND member_id = $2`,
		ballot, ids[0]).Scan(&sent, &uncertain); err != nil || sent != 1 || uncertain != 1 {
		t.Fatalf("invitation: sent %d uncertain %d %v", sent, uncertain, err)
	}
	var others int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM auth_invitations WHERE ballot_id = $1 AND sms_uncertain_at IS NOT NULL`, ballot).Scan(&others); err != nil || others != 1 {
		t.Fatalf("%d invitations uncertain, want 1 %v", others, err)
	}
	link := linkRE.FindString(bodies()[0])

	// The code: Twilio got it, the answer did not come.
	b := e.browser()
	r := b.get(link)
	want(t, r, 200, "landing")
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 303, "send code")
	if loc := r.h.Get("Location"); loc != "/auth/code?slow=1" {
		t.Fatalf("redirect %q", loc)
	}
	r = b.get(r.h.Get("Location"))
	if !strings.Contains(r.body, "The code may take a minute to arrive") {
		t.Fatalf("code page: %s", r.body)
	}
	if len(bodies()) != 2 {
		t.Fatalf("%d texts, want the invitation and one code (no automatic resend)", len(bodies()))
	}
	if ev := e.events("otp_send"); len(ev) != 1 || ev[0].Outcome != "uncertain" {
		t.Fatalf("otp_send events %+v", ev)
	}
	// Two more asks (each uncertain, each one send), then the hourly limit.
	for i := 0; i < 2; i++ {
		r = b.postForm("/auth/code/resend", url.Values{"csrf": {csrfOf(t, r.body)}})
		want(t, r, 200, "resend")
		if !strings.Contains(r.body, "The code may take a minute to arrive") || strings.Contains(r.body, "We have sent a new code") {
			t.Fatalf("resend page: %s", r.body)
		}
	}
	r = b.postForm("/auth/code/resend", url.Values{"csrf": {csrfOf(t, r.body)}})
	want(t, r, 429, "fourth code")
	if len(bodies()) != 4 {
		t.Fatalf("%d texts, want 1 invitation + 3 codes", len(bodies()))
	}
	// The code that may have arrived works.
	code := codeRE.FindStringSubmatch(bodies()[3])[1]
	r = b.get("/auth/code")
	r = b.postForm("/auth/code", url.Values{"csrf": {csrfOf(t, r.body)}, "code": {code}})
	want(t, r, 303, "verify")
}

// Sign-in code texts follow the language of the page (Welsh in one GSM-7
// part); invitation texts are English, or English and a short Welsh line
// with BilingualTexts when that costs no extra part.
func TestWelshTexts(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(o *auth.Options) { o.BilingualTexts = true; o.Mail = nil })
	ctx := context.Background()
	ballot, _ := e.emailBallot("cy-1", [][2]string{{"+447700900801", ""}})
	if _, err := e.svc.IssueInvitations(ctx, ballot); err != nil {
		t.Fatal(err)
	}
	inv := e.fake.LastBodyTo("+447700900801")
	if !strings.Contains(inv, "your personal link to vote in \"Pay offer: accept?\" (closes 2 Jun ") ||
		!strings.Contains(inv, " / eich dolen bersonol i bleidleisio (yn cau 2 Mehefin ") ||
		!strings.Contains(inv, "Do not share it: it is yours alone. / Chi yn unig biau hi") {
		t.Fatalf("bilingual invitation: %q", inv)
	}
	english := inv[:strings.Index(inv, " / ")] + inv[strings.Index(inv, ": http"):strings.Index(inv, " / Chi")]
	if sms.Parts(inv) != sms.Parts(english) {
		t.Fatalf("bilingual text takes %d parts, English %d", sms.Parts(inv), sms.Parts(english))
	}
	// A title long enough for the Welsh line to cost a third part (the
	// English text is about 300 characters: two parts): English only.
	ballot2, _ := e.emailBallot("cy-2", [][2]string{{"+447700900802", ""}})
	if _, err := e.pool.Exec(ctx, `UPDATE ballots SET title = $2 WHERE id = $1`, ballot2, "Ballot "+strings.Repeat("x", 118)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueInvitations(ctx, ballot2); err != nil {
		t.Fatal(err)
	}
	long := e.fake.LastBodyTo("+447700900802")
	if strings.Contains(long, "eich dolen") || !strings.HasSuffix(long, "Do not share it: it is yours alone.") || sms.Parts(long) != 2 {
		t.Fatalf("long invitation (%d parts): %q", sms.Parts(long), long)
	}
	// The code, asked for from a Welsh page, comes in Welsh.
	b := e.browser()
	link := linkRE.FindString(inv)
	r := b.get(link + "?lang=cy")
	want(t, r, 200, "landing")
	want(t, b.postForm(link, url.Values{"csrf": {csrfOf(t, r.body)}}), 303, "send code")
	text := e.fake.LastBodyTo("+447700900801")
	if !regexp.MustCompile(`^\d{6} yw cod e-bleidlais eich undeb\. `).MatchString(text) || sms.Parts(text) != 1 || len(text) <= 70 {
		t.Fatalf("Welsh code text (%d parts): %q", sms.Parts(text), text)
	}
	// English pages: the English code text, as before.
	b2 := e.browser()
	r = b2.get(e.inviteLink(0))
	want(t, b2.postForm(e.inviteLink(0), url.Values{"csrf": {csrfOf(t, r.body)}}), 303, "send code en")
	if e.lastCode(0) == "" {
		t.Fatalf("English code text: %q", e.fake.LastBodyTo(e.mobiles[0]))
	}
}

// A code the provider could not take (503: nothing sent) is withdrawn: the
// member gets a clear 503 asking them to try again in a minute, the code
// does not count towards the 3 an hour, and once the provider is back the
// member still has their three codes.
func TestCodeNotSentIsNotCounted(t *testing.T) {
	t.Parallel()
	const mobile = "+447700900721"
	fake := smstest.NewTwilio(t)
	var down atomic.Bool
	fake.Fail = func(to string) (int, int) {
		if to == mobile && down.Load() {
			return 503, 0
		}
		return 0, 0
	}
	e := newEnvWith(t, nil, func(o *auth.Options) {
		tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: "AC00000000000000000000000000000001", AuthToken: "tok0123456789abcdef",
			MessagingServiceSID: "MG0001", HTTPClient: fake.Client()})
		if err != nil {
			t.Fatal(err)
		}
		o.SMS, o.Mail = tw, nil
	})
	ctx := context.Background()
	ballot, ids := e.emailBallot("sms-down", [][2]string{{mobile, ""}})
	if rep, err := e.svc.IssueInvitations(ctx, ballot); err != nil || rep.SMSSent != 1 {
		t.Fatalf("issue: %+v %v", rep, err)
	}
	var link string
	for _, r := range fake.Requests() {
		if r.Form.Get("To") == mobile {
			link = linkRE.FindString(r.Form.Get("Body"))
		}
	}
	codes := func() int {
		var n int
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM auth_otp_codes WHERE subject = $1`, fmt.Sprintf("m%d", ids[0])).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	down.Store(true)
	b := e.browser()
	r := b.get(link)
	want(t, r, 200, "landing")
	for i := 0; i < 4; i++ { // more than the hourly quota: none of these counts
		r = b.postForm(link, url.Values{"csrf": {csrfOf(t, b.get(link).body)}})
		if r.code != 503 || r.h.Get("Retry-After") != "60" || !strings.Contains(r.body, "We could not send your code just now") {
			t.Fatalf("provider down, try %d: %d %q %s", i+1, r.code, r.h.Get("Retry-After"), r.body)
		}
	}
	if n := codes(); n != 0 {
		t.Fatalf("%d codes stored while nothing was sent", n)
	}
	if ev := e.events("otp_send"); len(ev) != 4 || ev[0].Outcome != "not_sent" {
		t.Fatalf("otp_send events %+v", ev)
	}

	// The provider is back: a code goes, and two more asks are allowed.
	down.Store(false)
	r = b.postForm(link, url.Values{"csrf": {csrfOf(t, b.get(link).body)}})
	want(t, r, 303, "send code")
	r = b.get("/auth/code")
	for i := 0; i < 2; i++ {
		r = b.postForm("/auth/code/resend", url.Values{"csrf": {csrfOf(t, r.body)}})
		want(t, r, 200, "resend")
	}
	if n := codes(); n != 3 {
		t.Fatalf("%d codes after the provider came back, want 3", n)
	}
}
