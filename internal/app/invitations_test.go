package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/mail/mailtest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// newSiteTwilio is newSite with texts going to a fake Twilio (the real
// twilio-go client) and emails to a local SMTP server, and the log kept.
func newSiteTwilio(t *testing.T, fake *smstest.Twilio, smtp *mailtest.Server, logs *lockedBuf) *site {
	t.Helper()
	s := &site{t: t, pool: pgtest.NewDB(t)}
	srv := httptest.NewUnstartedServer(nil)
	s.base = fmt.Sprintf("http://localhost:%d", srv.Listener.Addr().(*net.TCPAddr).Port)
	u, _ := url.Parse(s.base)
	cfg := &config.Config{PublicURL: u, SecretKey: electiontest.SecretKey, SMSProvider: "twilio",
		Twilio:       config.Twilio{AccountSID: "AC00000000000000000000000000000001", AuthToken: "tok0123456789abcdef", MessagingServiceSID: "MG0001"},
		MailProvider: "smtp", SMTP: config.SMTP{Host: "localhost", Port: smtp.Port, TLS: "none", From: "Union e-ballot <ballots@vote.example>"}}
	var err error
	s.svc, err = build(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), s.pool,
		prometheus.NewRegistry(), buildHooks{twilioClient: fake.ClientWithTimeout(15 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.svc.Close)
	srv.Config.Handler = s.svc.Web.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return s
}

// totals reads one row of the totals table: text, email.
func totals(t *testing.T, body, row string) (int, int) {
	t.Helper()
	m := regexp.MustCompile(`<tr id="` + row + `"><th scope="row">[^<]*</th><td>(\d+)</td><td>(\d+)</td></tr>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no totals row %q", row)
	}
	var a, b int
	fmt.Sscan(m[1], &a)
	fmt.Sscan(m[2], &b)
	return a, b
}

// The scrutineer's invitation delivery page: a ballot whose invitations
// partly fail, are uncertain, or have no usable contact shows the right
// totals and the members needing action; organisers see the totals only;
// "send again" goes to the contact frozen at the opening, with the same
// link, is audited, refused again within 10 minutes and over the texts
// quota, and needs the CSRF token; the page exists in Welsh; no number or
// address appears in any page or in the log.
func TestInvitationDeliveryPage(t *testing.T) {
	fake := smstest.NewTwilio(t)
	var failBryn, dropCarys, dropGwen atomic.Bool
	failBryn.Store(true)
	dropCarys.Store(true)
	dropGwen.Store(true)
	const (
		alice = "+447700900100"
		bryn  = "+447700900101"
		carys = "+447700900102"
		eira  = "+447700900104" // a union work number
		huw   = "+447700900107"
		ffion = "ffion@acme-transport.example" // employer domain
		gwen  = "gwen.mail@example.org"
		huwE  = "huw.mail@example.org"
	)
	fake.Fail = func(to string) (int, int) {
		if to == bryn && failBryn.Load() {
			return 400, 21211 // invalid number
		}
		return 0, 0
	}
	fake.Drop = func(to string) bool { return to == carys && dropCarys.Load() }
	smtp := mailtest.Start(t, mailtest.Options{Mode: mailtest.Plain,
		RcptCode:      func(to string) int { return map[bool]int{true: 550, false: 250}[to == huwE] },
		DropAfterData: func(to string) bool { return to == gwen && dropGwen.Load() }})
	logs := &lockedBuf{}
	s := newSiteTwilio(t, fake, smtp, logs)
	ctx := context.Background()

	people := []struct{ name, mobile, email string }{
		{"Alice Sent", alice, ""},
		{"Bryn Failed", bryn, ""},
		{"Carys Uncertain", carys, ""},
		{"Dai Nocontact", "", ""},
		{"Eira Workphone", eira, ""},
		{"Ffion Employer", "", ffion},
		{"Gwen Mailunsure", "", gwen},
		{"Huw Mailfails", huw, huwE},
	}
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "deliveries", Members: len(people), Open: true,
		Member: func(i int) (string, string, string) { return people[i].name, people[i].mobile, people[i].email }})
	if _, err := s.pool.Exec(ctx, `UPDATE unions SET work_phone_numbers = $2, employer_email_domains = $3 WHERE id = $1`,
		b.UnionID, []string{eira}, []string{"acme-transport.example"}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.svc.Auth.IssueInvitations(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SMSSent != 2 || rep.SMSFailed != 1 || rep.SMSUncertain != 1 || rep.NoMobile != 4 ||
		rep.EmailFailed != 1 || rep.EmailUncertain != 1 || rep.EmailEmployer != 1 {
		t.Fatalf("invitations: %+v", rep)
	}
	member := func(i int) int64 { return b.MemberIDs[i] }

	// Everything any page shows is checked for numbers and addresses.
	secrets := []string{alice, bryn, carys, eira, huw, ffion, gwen, huwE, "07700", "7700900"}
	var bodies []string
	seen := func(p pageView) pageView {
		bodies = append(bodies, html.UnescapeString(p.body))
		return p
	}

	scr := s.staff("scrutineer", 0)
	path := fmt.Sprintf("/scrutineer/ballots/%d/invitations", b.ID)
	if p := seen(scr.get(fmt.Sprintf("/scrutineer/ballots/%d", b.ID))); !strings.Contains(p.body, `href="`+path+`"`) {
		t.Fatalf("the ballot page does not link the delivery page: %d", p.code)
	}
	p := seen(scr.get(path))
	if p.code != 200 {
		t.Fatalf("delivery page: %d %s", p.code, p.body)
	}
	for row, want := range map[string][2]int{"sent": {2, 0}, "failed": {1, 1}, "uncertain": {1, 1}, "pending": {0, 0}, "none": {3, 5}, "employer": {1, 1}} {
		if a, e := totals(t, p.body, row); a != want[0] || e != want[1] {
			t.Errorf("%s: text %d email %d, want %v", row, a, e, want)
		}
	}
	if !strings.Contains(p.body, `<dd id="no-contact">3</dd>`) {
		t.Errorf("no-contact total missing")
	}
	body := html.UnescapeString(p.body)
	for _, w := range []string{
		"M000002", "Bryn Failed", "the number is not valid or cannot receive texts", "+44•••••••101", // failed text
		"Carys Uncertain", "Uncertain: may have arrived", "+44•••••••102",
		"Dai Nocontact", "no mobile and no email on the register",
		"Eira Workphone", "Ffion Employer", "only a work number or an employer address",
		"Gwen Mailunsure", "g•••@example.org", "Huw Mailfails", "h•••@example.org", "refused by the provider",
		"may give the member two messages", "Both carry the same personal link",
		"Send the text again", "Send the email again",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("scrutineer page lacks %q", w)
		}
	}
	if strings.Contains(body, "Alice Sent") {
		t.Errorf("a member whose text was sent is listed")
	}

	// Organisers: the totals, never who.
	org := s.staff("organiser", b.UnionID)
	orgPath := fmt.Sprintf("/organiser/ballots/%d/invitations", b.ID)
	if bp := org.get(fmt.Sprintf("/organiser/ballots/%d", b.ID)); !strings.Contains(bp.body, `href="`+orgPath+`"`) {
		t.Errorf("the organiser's ballot page does not link %s", orgPath)
	}
	op := seen(org.get(orgPath))
	if op.code != 200 {
		t.Fatalf("organiser page: %d", op.code)
	}
	if a, e := totals(t, op.body, "failed"); a != 1 || e != 1 {
		t.Errorf("organiser totals: failed %d %d", a, e)
	}
	for _, pp := range people {
		if strings.Contains(op.body, pp.name) {
			t.Errorf("organiser sees %q", pp.name)
		}
	}
	if strings.Contains(op.body, "M00000") || strings.Contains(op.body, "/resend") {
		t.Errorf("organiser sees membership numbers or resend forms")
	}
	if p := org.get(path); p.code != 403 {
		t.Errorf("organiser on the scrutineer's page: %d", p.code)
	}
	if p := s.staff("organiser", electiontest.New(t, s.pool, electiontest.Options{ElectionID: "other-union", Members: 1}).UnionID).get(orgPath); p.code != 404 {
		t.Errorf("another union's organiser: %d", p.code)
	}

	resend := func(i int, channel string) pageView {
		return seen(scr.post(fmt.Sprintf("%s/%d/resend", path, member(i)), url.Values{"channel": {channel}}))
	}
	textsTo := func(to string) []string {
		var out []string
		for _, r := range fake.Requests() {
			if r.Form.Get("To") == to {
				out = append(out, r.Form.Get("Body"))
			}
		}
		return out
	}
	linkRE := regexp.MustCompile(`/i/[A-Za-z0-9_-]{43}`)

	// CSRF: a form without the token is refused, nothing is sent.
	before := len(fake.Requests())
	req, _ := http.NewRequest(http.MethodPost, s.base+fmt.Sprintf("%s/%d/resend", path, member(1)), strings.NewReader("channel=sms"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := scr.do(req); p.code != 403 {
		t.Fatalf("resend without CSRF token: %d", p.code)
	}
	if p := org.post(fmt.Sprintf("%s/%d/resend", path, member(1)), url.Values{"channel": {"sms"}}); p.code != 403 {
		t.Fatalf("organiser resend: %d", p.code)
	}
	if len(fake.Requests()) != before {
		t.Fatalf("a refused resend sent a text")
	}

	// Bryn's number was corrected on the union's records after the
	// opening (a later register import): the resend still goes to the
	// number frozen for this ballot, with the same link as the first try.
	if _, err := s.pool.Exec(ctx, `UPDATE members SET mobile = '+447700900999' WHERE id = $1`, member(1)); err != nil {
		t.Fatal(err)
	}
	s.sealAtRest()
	failBryn.Store(false)
	scr.get(path)
	p = resend(1, "sms")
	if p.code != 200 || !strings.Contains(p.body, "The text was sent again to member M000002: the provider accepted it.") {
		t.Fatalf("resend to Bryn: %d %s", p.code, p.body)
	}
	if got := textsTo(bryn); len(got) != 2 || linkRE.FindString(got[0]) == "" || linkRE.FindString(got[0]) != linkRE.FindString(got[1]) {
		t.Fatalf("texts to Bryn's frozen number: %q", got)
	}
	if len(textsTo("+447700900999")) != 0 {
		t.Fatalf("the resend went to the member's current number, not the frozen one")
	}
	if _, err := s.svc.Auth.ResolveInvitation(ctx, strings.TrimPrefix(linkRE.FindString(textsTo(bryn)[1]), "/i/")); err != nil {
		t.Fatalf("the resent link does not work: %v", err)
	}
	if a, _ := totals(t, p.body, "sent"); a != 3 {
		t.Errorf("text sent after the resend: %d", a)
	}
	if a, _ := totals(t, p.body, "failed"); a != 0 {
		t.Errorf("text failed after the resend: %d", a)
	}
	var audited int
	var actor string
	if err := s.pool.QueryRow(ctx, `SELECT count(*), min(actor) FROM audit_log WHERE ballot_id = $1 AND action IN ('invitation.resend', 'invitation.resend_result')
		AND detail::jsonb->>'member' = $2 AND detail::jsonb->>'channel' = 'sms'`, b.ID, fmt.Sprint(member(1))).Scan(&audited, &actor); err != nil {
		t.Fatal(err)
	}
	if audited != 2 || !strings.HasPrefix(actor, "scrutineer:") {
		t.Fatalf("audit of the resend: %d entries by %q", audited, actor)
	}
	var outcome string
	s.pool.QueryRow(ctx, `SELECT detail::jsonb->>'outcome' FROM audit_log WHERE ballot_id = $1 AND action = 'invitation.resend_result'`, b.ID).Scan(&outcome)
	if outcome != "sent" {
		t.Fatalf("audited outcome %q", outcome)
	}

	// Carys's uncertain text: sent again (uncertain again: the page says
	// she may now have two texts), then refused within 10 minutes.
	p = resend(2, "sms")
	if p.code != 200 || !strings.Contains(p.body, "may now have two texts with the same link") {
		t.Fatalf("resend to Carys: %d %s", p.code, p.body)
	}
	p = resend(2, "sms")
	if p.code != 429 || !strings.Contains(p.body, "The invitation of member M000003 was sent again less than 10 minutes ago. You can send it again in 10 minutes.") ||
		p.h.Get("Retry-After") == "" {
		t.Fatalf("second resend within 10 minutes: %d %s", p.code, p.body)
	}
	if n := len(textsTo(carys)); n != 2 {
		t.Fatalf("%d texts to Carys, want 2", n)
	}
	// Ten minutes later, but Carys has had 3 sign-in codes this hour: the
	// texts quota refuses it.
	if _, err := s.pool.Exec(ctx, `UPDATE auth_invitations SET resent_at = resent_at - interval '11 minutes' WHERE ballot_id = $1 AND member_id = $2`, b.ID, member(2)); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		salt, mac := make([]byte, 16), make([]byte, 32)
		_, _ = rand.Read(salt)
		if _, err := s.pool.Exec(ctx, `INSERT INTO auth_otp_codes (subject, purpose, salt, mac, created_at, expires_at) VALUES ($1, 'signin', $2, $3, now(), now() + interval '10 minutes')`,
			fmt.Sprintf("m%d", member(2)), salt, mac); err != nil {
			t.Fatal(err)
		}
	}
	p = resend(2, "sms")
	if p.code != 429 || !strings.Contains(p.body, "Member M000003 has already had 3 texts in the last hour") {
		t.Fatalf("resend over the texts quota: %d %s", p.code, p.body)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM auth_otp_codes WHERE subject = $1`, fmt.Sprintf("m%d", member(2))); err != nil {
		t.Fatal(err)
	}
	dropCarys.Store(false)
	if p = resend(2, "sms"); p.code != 200 || !strings.Contains(p.body, "The text was sent again to member M000003") {
		t.Fatalf("resend after 10 minutes: %d %s", p.code, p.body)
	}

	// Gwen's uncertain email goes again to the address frozen for the
	// ballot; a member with a sent text has nothing to send again; a
	// member with no contact neither.
	if _, err := s.pool.Exec(ctx, `UPDATE members SET email = 'gwen.new@example.org' WHERE id = $1`, member(6)); err != nil {
		t.Fatal(err)
	}
	s.sealAtRest()
	dropGwen.Store(false)
	if p = resend(6, "email"); p.code != 200 || !strings.Contains(p.body, "The email was sent again to member M000007: the mail server accepted it.") {
		t.Fatalf("email resend: %d %s", p.code, p.body)
	}
	var toGwen, toNew int
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			switch to {
			case gwen:
				toGwen++
			case "gwen.new@example.org":
				toNew++
			}
		}
	}
	if toGwen != 2 || toNew != 0 {
		t.Fatalf("emails to Gwen: frozen %d, current %d", toGwen, toNew)
	}
	if p = resend(0, "sms"); p.code != 409 || !strings.Contains(p.body, "no longer failed or uncertain") {
		t.Fatalf("resend of a sent text: %d %s", p.code, p.body)
	}
	if p = resend(3, "sms"); p.code != 409 || !strings.Contains(p.body, "Member M000004 has no usable contact") {
		t.Fatalf("resend with no contact: %d %s", p.code, p.body)
	}

	// Welsh.
	p = seen(scr.get(path + "?lang=cy"))
	if p.code != 200 || !strings.Contains(p.body, "Gwahoddiadau: cyflwyno") || !strings.Contains(p.body, "Aelodau sydd angen gweithredu") {
		t.Fatalf("Welsh page: %d", p.code)
	}
	if p = resend(3, "sms"); !strings.Contains(p.body, "Nid oes gan aelod M000004 gyswllt") {
		t.Fatalf("Welsh refusal: %d %s", p.code, p.body)
	}
	scr.get(path + "?lang=en")

	for _, b := range append(bodies, logs.String()) {
		for _, sec := range secrets {
			if strings.Contains(b, sec) {
				t.Errorf("%q appears in a page or the log", sec)
			}
		}
	}
	if !strings.Contains(logs.String(), "invitation sent again") {
		t.Errorf("the resend is not logged")
	}
}
