package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/mail/mailtest"
)

// stopAfter is a mail sender that, once armed, stops its goroutine right
// after the n-th message was handed to the server: the sender "dies"
// between the server's answer and the record of it, as a process killed
// at that moment would.
type stopAfter struct {
	mail.Sender
	n, sent atomic.Int64
}

func (s *stopAfter) Send(ctx context.Context, m mail.Message) (string, error) {
	id, err := s.Sender.Send(ctx, m)
	if k := s.n.Load(); k > 0 && s.sent.Add(1) == k {
		runtime.Goexit()
	}
	return id, err
}

// wireMail is one message as the SMTP server received it.
type wireMail struct {
	To, Subject, Lang, Body string
}

func readWire(t *testing.T, m mailtest.Message) wireMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("message at the wire: %v", err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("message body: %v", err)
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	return wireMail{To: msg.Header.Get("To"), Subject: subj, Lang: msg.Header.Get("Content-Language"), Body: string(body)}
}

// TestRefreshByEmail drives the email leg of a contact-refresh campaign:
// members with an email and no mobile get their personal link by email,
// through the real SMTP client to a local SMTP server. An organiser starts
// the campaign over HTTP (members with a mobile are texted, not emailed;
// members who opted out, before the start or after it, get nothing); the
// sender stops dead right after one email reached the server and before it
// was recorded, and a second service on the same database (its clock past
// the lease) finishes: every member gets exactly one email at the wire —
// the one whose outcome was never recorded, and the one the server took
// without answering, are not sent again and are counted as "perhaps sent".
// The link in the email, as received, opens the member's page (in Welsh
// for a Welsh member, bilingual email for a member with no language) and
// takes their confirmation.
func TestRefreshByEmail(t *testing.T) {
	const (
		members   = 120
		emailOnly = 90 // members 0..89: an email, no mobile
		both      = 10 // members 90..99: a mobile and an email (texted)
		dropped   = 7  // the server takes member 7's email without answering
		optBefore = 3  // opted out before the campaign
		optAfter  = 4  // opted out after it started
		welsh     = 1
		english   = 2
		stopAtNth = 20 // the first sender stops after its 20th email
	)
	addr := func(i int) string { return fmt.Sprintf("member%d@example.org", i) }
	smtp := mailtest.Start(t, mailtest.Options{Mode: mailtest.Plain,
		DropAfterData: func(to string) bool { return to == addr(dropped) }})
	stopper := &stopAfter{}
	smtpCfg := func(c *config.Config) {
		c.MailProvider = "smtp"
		c.SMTP = config.SMTP{Host: "localhost", Port: smtp.Port, TLS: "none", From: "Union e-ballot <ballots@vote.example>"}
		c.GOTV.QuietStart, c.GOTV.QuietEnd = 0, 24*60
		c.GOTV.RatePerSecond, c.GOTV.Burst = 1e6, 1000
	}
	s := newSiteHooks(t, smtpCfg, buildHooks{mail: func(m mail.Sender) mail.Sender { stopper.Sender = m; return stopper }})
	ctx := context.Background()
	b := electiontest.New(t, s.pool, electiontest.Options{ElectionID: "refresh-email", Members: members, Open: true,
		Member: func(i int) (string, string, string) {
			switch {
			case i < emailOnly:
				return fmt.Sprintf("Member %d", i+1), "", addr(i)
			case i < emailOnly+both:
				return fmt.Sprintf("Member %d", i+1), fmt.Sprintf("+4477009%05d", i), addr(i)
			}
			return fmt.Sprintf("Member %d", i+1), fmt.Sprintf("+4477009%05d", i), ""
		}})
	if _, err := s.pool.Exec(ctx, `UPDATE members SET language = CASE id WHEN $1 THEN 'cy' WHEN $2 THEN 'en' ELSE '' END`,
		b.MemberIDs[welsh], b.MemberIDs[english]); err != nil {
		t.Fatal(err)
	}
	if err := IndexAtRest(ctx, s.svc, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	// The opt-out button itself is driven in TestRefreshLawfulBasis.
	optOut := func(i int) {
		if _, err := s.pool.Exec(ctx, `INSERT INTO refresh_optouts (member_id, union_id, source, opted_out_at) VALUES ($1, $2, 'member', now())`,
			b.MemberIDs[i], b.UnionID); err != nil {
			t.Fatal(err)
		}
	}
	optOut(optBefore)

	org := s.staff("organiser", b.UnionID)
	org.get("/organiser/refresh")
	p := org.post("/organiser/refresh/campaigns", url.Values{"segment": {"all"}, "message_en": {"Your union: please check your details:"},
		"message_cy": {"Eich undeb: gwiriwch eich manylion:"}, "privacy_url": {"https://union.example/privacy"}, "link_days": {"14"}})
	wantEmails := emailOnly - 1 // all email-only members but the one who opted out
	if p.code != 200 || fact(t, p.body, "c-members") != fmt.Sprint(wantEmails+members-emailOnly) || fact(t, p.body, "c-emails-waiting") != fmt.Sprint(wantEmails) {
		t.Fatalf("campaign: %d\n%.3000s", p.code, p.body)
	}
	var campaign int64
	if err := s.pool.QueryRow(ctx, `SELECT id FROM refresh_campaigns WHERE union_id = $1`, b.UnionID).Scan(&campaign); err != nil {
		t.Fatal(err)
	}
	optOut(optAfter)

	// The first sender stops dead after its stopAtNth email reached the
	// server: the rest of its batch was claimed but not started.
	stopper.n.Store(stopAtNth)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.svc.Refresh.SendEmails(ctx)
		t.Error("the first sender did not stop")
	}()
	<-done
	if got := len(smtp.Messages()); got != stopAtNth {
		t.Fatalf("%d emails at the server before the stop, want %d", got, stopAtNth)
	}

	// A restart: a second service, its clock past the claims' lease.
	u, _ := url.Parse(s.base)
	cfg := &config.Config{PublicURL: u, SecretKey: electiontest.SecretKey, SMSProvider: "dev"}
	smtpCfg(cfg)
	later := func() time.Time { return time.Now().Add(11 * time.Minute) }
	svc2, err := build(cfg, slog.New(slog.DiscardHandler), s.pool, prometheus.NewRegistry(), buildHooks{now: later})
	if err != nil {
		t.Fatal(err)
	}
	defer svc2.Close()
	for i := 0; ; i++ {
		n, err := svc2.Refresh.SendEmails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if i > 20 {
			t.Fatal("the email outbox does not drain")
		}
	}
	drain(t, svc2) // the texts to members with a mobile

	// At the wire: exactly one email to each email-only member who did
	// not opt out, none to anyone else.
	got := map[string]int{}
	mails := map[string]wireMail{}
	for _, m := range smtp.Messages() {
		w := readWire(t, m)
		got[w.To]++
		mails[w.To] = w
	}
	for i := 0; i < members; i++ {
		want := 0
		if i < emailOnly && i != optBefore && i != optAfter {
			want = 1
		}
		if got[addr(i)] != want {
			t.Errorf("member %d got %d emails, want %d", i, got[addr(i)], want)
		}
	}
	// The stopped sender's last email and the unanswered one: perhaps
	// sent, never again; the opted-out member: skipped.
	p = org.get(fmt.Sprintf("/organiser/refresh/campaigns/%d", campaign))
	for id, want := range map[string]int{"c-emails-sent": wantEmails - 1 - 2, "c-emails-unknown": 2, "c-emails-skipped": 1,
		"c-emails-waiting": 0, "c-emails-failed": 0, "c-sent": members - emailOnly} {
		if g := fact(t, p.body, id); g != fmt.Sprint(want) {
			t.Errorf("campaign page %s = %s, want %d", id, g, want)
		}
	}

	// The emails as received: Welsh only, English only, or both.
	cy, en, bi := mails[addr(welsh)], mails[addr(english)], mails[addr(0)]
	if cy.Lang != "cy" || !strings.Contains(cy.Body, "Eich undeb") || strings.Contains(cy.Body, "Your union") ||
		!strings.Contains(cy.Subject, "Gwiriwch") {
		t.Errorf("Welsh member's email: %+v", cy)
	}
	if en.Lang != "en" || !strings.Contains(en.Body, "Your union") || strings.Contains(en.Body, "Eich undeb") {
		t.Errorf("English member's email: %+v", en)
	}
	if bi.Lang != "en, cy" || !strings.Contains(bi.Body, "Your union") || !strings.Contains(bi.Body, "Eich undeb") {
		t.Errorf("bilingual email: %+v", bi)
	}
	// The Welsh member opens the link as received: the page in Welsh,
	// the email masked.
	link := func(w wireMail) string {
		l := linkRE.FindString(w.Body)
		if l == "" || !strings.Contains(w.Body, s.base+l) {
			t.Fatalf("no personal link to this site in the email:\n%s", w.Body)
		}
		return l
	}
	m1 := s.anon()
	lcy := link(cy)
	if !strings.Contains(cy.Body, s.base+lcy+"?lang=cy") {
		t.Fatalf("the Welsh email's link does not open the page in Welsh:\n%s", cy.Body)
	}
	if p := m1.get(lcy + "?lang=cy"); p.code != 200 || !strings.Contains(p.body, `lang="cy"`) || strings.Contains(p.body, addr(welsh)) ||
		!strings.Contains(p.body, "m•••@example.org") {
		t.Fatalf("the Welsh member's page: %d\n%.1500s", p.code, p.body)
	}
	// The English member confirms through theirs in one tap.
	m2 := s.anon()
	len2 := link(en)
	m2.get(len2)
	if p := m2.post(len2+"/confirm", url.Values{}); p.code != 200 || !strings.Contains(p.body, `id="done"`) {
		t.Fatalf("confirm from the email's link: %d", p.code)
	}
	if d, err := s.svc.Register.Details(ctx, b.MemberIDs[english]); err != nil || !d.Verified("email") {
		t.Fatalf("the email is not verified after the confirmation: %+v %v", d, err)
	}
}
