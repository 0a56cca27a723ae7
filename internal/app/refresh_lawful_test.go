package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/sms/smstest"
)

// stopReply posts a member's STOP reply to the site's inbound webhook,
// signed as Twilio signs it.
func stopReply(t *testing.T, s *site, token, from, sid string) {
	t.Helper()
	form := url.Values{"From": {from}, "To": {"+447700900000"}, "Body": {"STOP"}, "MessageSid": {sid}}
	u := s.base + "/webhooks/twilio/inbound"
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Signature(token, u, form))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("STOP reply: %d", res.StatusCode)
	}
}

// changeMobile replaces a member's mobile through their page: the new
// number, then the code texted to it.
func changeMobile(t *testing.T, s *site, m *browser, link, newMobile string) {
	t.Helper()
	m.get(link)
	if p := m.post(link+"/correct", url.Values{"mobile": {newMobile}}); p.code != 200 || !strings.Contains(p.body, `id="code"`) {
		t.Fatalf("new mobile: %d\n%.1000s", p.code, p.body)
	}
	if p := m.post(link+"/verify", url.Values{"code": {smsCode(t, s, newMobile)}}); p.code != 200 || !strings.Contains(p.body, `id="done"`) {
		t.Fatalf("verify new mobile: %d\n%.1000s", p.code, p.body)
	}
}

// countTexts counts the texts to number to whose body contains sub.
func countTexts(t *testing.T, s *site, to, sub string) int {
	t.Helper()
	n := 0
	for _, x := range sentTexts(t, s) {
		if x.to == to && strings.Contains(x.body, sub) {
			n++
		}
	}
	return n
}

// TestRefreshLawfulBasis drives the lawful-basis rules of the contact
// refresh through the real router, the signed STOP webhook and the outbox
// with the development provider at the wire (sms_outbox): a member opts
// out of refresh messages on their page (CSRF checked), another replies
// STOP; the next campaign leaves both out, and a member who opts out after
// it started (with a link already used) is skipped when their text's turn
// comes. The notice to an OLD mobile after a verified change goes through
// the same outbox: not sent to a number that replied STOP, held during
// quiet hours (deferred to the end of them, not dropped) and then sent
// exactly once.
func TestRefreshLawfulBasis(t *testing.T) {
	const token = "lawful-basis-twilio-token"
	s := newSiteWith(t, func(c *config.Config) {
		c.GOTV.QuietStart, c.GOTV.QuietEnd = 0, 24*60
		c.GOTV.RatePerSecond, c.GOTV.Burst = 1e6, 1000
		c.Twilio.AuthToken = token
	})
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "refresh-lawful", Members: 4, Open: true})
	mobile := func(i int) string { return fmt.Sprintf("+4477009%05d", i) }
	org := s.staff("organiser", b.UnionID)
	form := url.Values{"segment": {"all"}, "message_en": {"Your union: please check your details:"},
		"message_cy": {"Eich undeb: gwiriwch eich manylion:"}, "privacy_url": {"https://union.example/privacy"}, "link_days": {"14"}}
	org.get("/organiser/refresh")
	if p := org.post("/organiser/refresh/campaigns", form); p.code != 200 || fact(t, p.body, "c-members") != "4" {
		t.Fatalf("first campaign: %d", p.code)
	}
	drain(t, s.svc)
	links := make([]string, 4)
	for i := range links {
		links[i] = refreshLink(t, s, mobile(i))
	}

	// Member 0 opts out on their page, in Welsh; the CSRF token is checked.
	m0 := s.anon()
	if p := m0.get(links[0] + "?lang=cy"); p.code != 200 || !strings.Contains(p.body, `id="optout"`) ||
		!strings.Contains(p.body, "Peidiwch ag anfon rhagor o negeseuon") {
		t.Fatalf("member page without the opt-out: %d", p.code)
	}
	if p := m0.post(links[0]+"/optout", url.Values{"csrf": {"wrong"}}); p.code != 403 {
		t.Fatalf("opt-out without the CSRF token: %d", p.code)
	}
	if p := m0.post(links[0]+"/optout", url.Values{}); p.code != 200 || !strings.Contains(p.body, "Ni fyddwn yn anfon rhagor") {
		t.Fatalf("opt-out: %d\n%.1000s", p.code, p.body)
	}
	var audited int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'refresh.optout'`).Scan(&audited)
	if audited != 1 {
		t.Fatalf("%d opt-outs in the audit log, want 1", audited)
	}

	// Member 1 replies STOP to the text.
	stopReply(t, s, token, mobile(1), "SMlawful1")

	// Member 2 replies STOP, then changes their mobile on the page: the
	// notice to the old (STOPped) number is not sent.
	stopReply(t, s, token, mobile(2), "SMlawful2")
	const new2, new3 = "+447911200002", "+447911200003"
	changeMobile(t, s, s.anon(), links[2], new2)
	drain(t, s.svc)
	if n := countTexts(t, s, mobile(2), "was changed"); n != 0 {
		t.Fatalf("%d notices to a number that replied STOP", n)
	}
	var state, reason string
	s.pool.QueryRow(ctx, `SELECT state, reason FROM gotv_messages WHERE source = 'notice' AND member_id = $1`, b.MemberIDs[2]).Scan(&state, &reason)
	if state != "skipped" || reason != "opted_out" {
		t.Fatalf("notice to a STOPped number: %s %s, want skipped opted_out", state, reason)
	}

	// Member 3 changes their mobile during quiet hours (a service whose
	// sending hours are two hours from now): the notice waits until they
	// end, then goes once.
	m3 := s.anon()
	changeMobile(t, s, m3, links[3], new3)
	nowMin := time.Now().In(london()).Hour()*60 + time.Now().In(london()).Minute()
	start := (nowMin + 120) % (24 * 60)
	end := min(start+60, 24*60)
	u, _ := url.Parse(s.base)
	quiet, err := Build(&config.Config{PublicURL: u, SecretKey: electiontest.SecretKey, SMSProvider: "dev",
		GOTV: config.GOTV{QuietStart: start, QuietEnd: end, RatePerSecond: 1e6, Burst: 1000}},
		slog.New(slog.NewTextHandler(io.Discard, nil)), s.pool, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	if _, err := quiet.GOTV.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	var notBefore time.Time
	s.pool.QueryRow(ctx, `SELECT state, reason, not_before FROM gotv_messages WHERE source = 'notice' AND member_id = $1`, b.MemberIDs[3]).
		Scan(&state, &reason, &notBefore)
	if n := countTexts(t, s, mobile(3), "was changed"); n != 0 || state != "pending" || reason != "quiet_hours" ||
		notBefore.In(london()).Hour()*60+notBefore.In(london()).Minute() != start {
		t.Fatalf("notice in quiet hours: %d sent, %s %s until %s, want held until %02d:%02d", n, state, reason, notBefore, start/60, start%60)
	}
	// The quiet hours end (the row's time comes): it goes, once — not held
	// by the daily cap of one text, which member 3's refresh text used.
	if _, err := s.pool.Exec(ctx, `UPDATE gotv_messages SET not_before = now() WHERE source = 'notice' AND member_id = $1`, b.MemberIDs[3]); err != nil {
		t.Fatal(err)
	}
	drain(t, s.svc)
	drain(t, s.svc)
	if n := countTexts(t, s, mobile(3), "was changed"); n != 1 {
		t.Fatalf("%d notices to member 3's old number, want 1", n)
	}

	// The next campaign: member 0 (opted out) and member 1 (STOP) are left
	// out; member 2's new number was not STOPped (STOP is per number).
	// A day passes (the daily cap counts the first campaign's texts).
	if _, err := s.pool.Exec(ctx, `UPDATE gotv_messages SET send_started_at = send_started_at - interval '25 hours'
		WHERE send_started_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	form.Set("message_en", "Your union: second check:")
	org.get("/organiser/refresh")
	if p := org.post("/organiser/refresh/campaigns", form); p.code != 200 || fact(t, p.body, "c-members") != "2" {
		t.Fatalf("second campaign: %d, members %s, want 2", p.code, fact(t, p.body, "c-members"))
	}
	// Member 3 opts out before their text's turn, from the page that
	// thanked them for the change (the link already used).
	if p := m3.post(links[3]+"/optout", url.Values{}); p.code != 200 || !strings.Contains(p.body, "no more messages") {
		t.Fatalf("opt-out with a used link: %d\n%.800s", p.code, p.body)
	}
	drain(t, s.svc)
	for to, want := range map[string]int{mobile(0): 0, mobile(1): 0, new2: 1, new3: 0} {
		if n := countTexts(t, s, to, "second check"); n != want {
			t.Errorf("second campaign: %d texts to %s, want %d", n, to, want)
		}
	}
	s.pool.QueryRow(ctx, `SELECT state, reason FROM gotv_messages WHERE source = 'refresh' AND member_id = $1 ORDER BY id DESC LIMIT 1`,
		b.MemberIDs[3]).Scan(&state, &reason)
	if state != "skipped" || reason != "opted_out" {
		t.Fatalf("text to a member who opted out after the start: %s %s", state, reason)
	}
}
