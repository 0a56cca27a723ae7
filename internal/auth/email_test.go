package auth_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
	eballotmail "github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/mail/mailtest"
)

// emailBallot adds an open ballot whose register holds members with the
// given (mobile, email) contacts, and returns its id and the member ids.
func (e *env) emailBallot(slug string, contacts [][2]string) (int64, []int64) {
	e.t.Helper()
	ctx := context.Background()
	now := e.clk.Now()
	var ballotID int64
	if err := e.pool.QueryRow(ctx, `INSERT INTO ballots (union_id, election_id, title, kind, status, opens_at, closes_at)
		VALUES ($1, $2, 'Pay offer: accept?', 'industrial_action', 'open', $3, $4) RETURNING id`,
		e.unionID, slug, now.Add(-time.Hour), time.Date(now.Year()+1, 6, 2, 16, 0, 0, 0, time.UTC)).Scan(&ballotID); err != nil {
		e.t.Fatal(err)
	}
	var ids []int64
	for i, c := range contacts {
		var mobile, email any
		if c[0] != "" {
			mobile = c[0]
		}
		if c[1] != "" {
			email = c[1]
		}
		var id int64
		if err := e.pool.QueryRow(ctx, `INSERT INTO members (union_id, member_number, name, mobile, email) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			e.unionID, fmt.Sprintf("%s-%d", slug, i), fmt.Sprintf("Emailed %d", i), mobile, email).Scan(&id); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.pool.Exec(ctx, `INSERT INTO register_entries (ballot_id, member_id, style) VALUES ($1, $2, 'all')`, ballotID, id); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	e.sealMembers()
	return ballotID, ids
}

func decodeMessage(t *testing.T, raw []byte) (mail.Header, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header, string(b)
}

func TestInvitationEmails(t *testing.T) {
	t.Parallel()
	var busy atomic.Bool
	busy.Store(true)
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, User: "mailer", Password: "pw-0123456789",
		RcptCode: func(to string) int {
			if to == "busy@example.net" && busy.Load() {
				return 451
			}
			return 250
		},
		DropAfterData: func(to string) bool { return to == "lost@example.net" },
	})
	e := newEnvWith(t, nil, func(o *auth.Options) {
		c, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: srv.Port, Username: "mailer", Password: "pw-0123456789",
			From: "ACME ballots <ballots@vote.example>", TLSConfig: &tls.Config{RootCAs: srv.RootCAs()}})
		if err != nil {
			t.Fatal(err)
		}
		o.Mail = c
	})
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, `UPDATE unions SET name = $2, employer_email_domains = '{"@acme-corp.example"}' WHERE id = $1`,
		e.unionID, "ACME Workers\r\nBcc: everyone@example.org"); err != nil {
		t.Fatal(err)
	}
	ballot, ids := e.emailBallot("pay-1", [][2]string{
		{"+447700900301", "ann@example.net"},            // personal: emailed and texted
		{"+447700900302", "bob@mail.acme-corp.example"}, // employer domain: never emailed
		{"", "busy@example.net"},                        // the server says "try later" once
		{"", "lost@example.net"},                        // the answer is lost after the message
		{"+447700900305", ""},                           // no email
	})
	rep, err := e.svc.IssueInvitations(ctx, ballot)
	if err != nil {
		t.Fatal(err)
	}
	if rep.EmailSent != 1 || rep.EmailEmployer != 1 || rep.EmailFailed != 1 || rep.EmailUncertain != 1 || rep.EmailPending != 0 || rep.SMSSent != 3 {
		t.Fatalf("first run: %+v", rep)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 || msgs[0].To[0] != "ann@example.net" || !msgs[0].TLS || msgs[0].User != "mailer" {
		t.Fatalf("messages %+v", msgs)
	}
	for _, m := range msgs {
		if strings.Contains(m.To[0], "acme-corp") {
			t.Fatal("employer address emailed")
		}
	}
	// The email: bilingual, the same personal link as the text, headers
	// safe from the organiser-controlled union name.
	h, body := decodeMessage(t, msgs[0].Data)
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "ACME Workers  Bcc: everyone@example.org: your personal voting link / ACME Workers  Bcc: everyone@example.org: eich dolen bleidleisio bersonol" {
		t.Fatalf("subject %q %v", subject, err)
	}
	if h.Get("Bcc") != "" || h.Get("To") != "ann@example.net" || h.Get("Content-Language") != "en, cy" || h.Get("Message-Id") == "" || h.Get("Date") == "" {
		t.Fatalf("headers %v", h)
	}
	var text string
	for _, r := range e.fake.Requests() {
		if r.Form.Get("To") == "+447700900301" {
			text = r.Form.Get("Body")
		}
	}
	link := linkRE.FindString(text)
	if link == "" || !strings.Contains(body, link+"\r\n") || !strings.Contains(body, link+"?lang=cy") {
		t.Fatalf("email link (text %q):\n%s", text, body)
	}
	for _, want := range []string{"Pay offer: accept?", "2 June", "Voting closes on", "Mae'r bleidlais yn cau ar", "Mehefin", "Eich dolen bersonol", "do not forward this email"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	// The link in the email opens the ballot, in Welsh from the Welsh part.
	b := e.browser()
	if r := b.get(link + "?lang=cy"); r.code != 200 || !strings.Contains(r.body, "Anfonwch god ataf") {
		t.Fatalf("Welsh link: %d", r.code)
	}

	// Second run: only the failed one is retried; the uncertain one is not
	// sent again (at most once), nor is the one already sent.
	busy.Store(false)
	rep, err = e.svc.IssueInvitations(ctx, ballot)
	if err != nil || rep.EmailSent != 1 || rep.EmailFailed != 0 || rep.EmailUncertain != 0 || rep.SMSSent != 0 || rep.Issued != 0 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
	msgs = srv.Messages()
	if len(msgs) != 3 || msgs[2].To[0] != "busy@example.net" {
		t.Fatalf("messages after retry %+v", msgs)
	}
	if rep, err = e.svc.IssueInvitations(ctx, ballot); err != nil || rep.EmailSent+rep.EmailFailed+rep.EmailUncertain != 0 || len(srv.Messages()) != 3 {
		t.Fatalf("third run: %+v %v", rep, err)
	}
	var attempts int
	if err := e.pool.QueryRow(ctx, `SELECT email_attempts FROM auth_invitations WHERE member_id = $1`, ids[2]).Scan(&attempts); err != nil || attempts != 2 {
		t.Fatalf("attempts %d %v", attempts, err)
	}
	// A revoked link's replacement is emailed by the next run.
	if _, err := e.svc.RevokeInvitation(ctx, ballot, ids[0]); err != nil {
		t.Fatal(err)
	}
	if rep, err = e.svc.IssueInvitations(ctx, ballot); err != nil || rep.EmailSent != 1 || rep.SMSSent != 1 {
		t.Fatalf("after revocation: %+v %v", rep, err)
	}
	// Logs never hold addresses or links.
	for _, secret := range []string{"ann@example.net", "busy@example.net", "lost@example.net", link, "pw-0123456789"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Fatalf("logs contain %q", secret)
		}
	}
}

// Concurrent runs (two replicas, a retried job) email each member once.
func TestInvitationEmailsConcurrentRuns(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS})
	e := newEnvWith(t, nil, func(o *auth.Options) {
		c, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: srv.Port, From: "ballots@vote.example",
			TLSConfig: &tls.Config{RootCAs: srv.RootCAs()}})
		if err != nil {
			t.Fatal(err)
		}
		o.Mail = c
	})
	var contacts [][2]string
	for i := 0; i < 8; i++ {
		contacts = append(contacts, [2]string{"", fmt.Sprintf("m%d@example.net", i)})
	}
	ballot, _ := e.emailBallot("pay-2", contacts)
	var wg sync.WaitGroup
	var sent atomic.Int64
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := e.svc.IssueInvitations(context.Background(), ballot)
			if err != nil {
				t.Error(err)
			}
			sent.Add(int64(rep.EmailSent))
		}()
	}
	wg.Wait()
	per := map[string]int{}
	for _, m := range srv.Messages() {
		per[m.To[0]]++
	}
	if sent.Load() != 8 || len(per) != 8 {
		t.Fatalf("sent %d, recipients %v", sent.Load(), per)
	}
	for to, n := range per {
		if n != 1 {
			t.Fatalf("%s emailed %d times", to, n)
		}
	}
}

// Without a mail sender, members with an email are only counted.
func TestInvitationEmailsNotConfigured(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, nil, func(o *auth.Options) { o.Mail = nil })
	ballot, _ := e.emailBallot("pay-3", [][2]string{{"+447700900311", "ann@example.net"}, {"", "bob@example.net"}})
	rep, err := e.svc.IssueInvitations(context.Background(), ballot)
	if err != nil || rep.EmailPending != 2 || rep.EmailSent != 0 || rep.SMSSent != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
}

// A ballot the union made bilingual (election.Config.Bilingual): the
// invitation text is English and Welsh, with the Welsh title, even without
// BilingualTexts and even when the Welsh costs more SMS parts; the email
// names the ballot by its Welsh title in its Welsh half.
func TestBilingualBallotInvitations(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS})
	e := newEnvWith(t, nil, func(o *auth.Options) {
		c, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: srv.Port,
			From: "ballots@vote.example", TLSConfig: &tls.Config{RootCAs: srv.RootCAs()}})
		if err != nil {
			t.Fatal(err)
		}
		o.Mail = c
	})
	ctx := context.Background()
	ballot, _ := e.emailBallot("cy-ballot", [][2]string{{"+447700900811", "cat@example.net"}})
	const titleCy = "Cynnig cyflog: derbyn?"
	if _, err := e.pool.Exec(ctx, `UPDATE ballots SET config = jsonb_build_object('bilingual', true, 'title_cy', $2::text) WHERE id = $1`, ballot, titleCy); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueInvitations(ctx, ballot); err != nil {
		t.Fatal(err)
	}
	inv := e.fake.LastBodyTo("+447700900811")
	if !strings.Contains(inv, `vote in "Pay offer: accept?"`) || !strings.Contains(inv, `"`+titleCy+`"`) ||
		!strings.Contains(inv, "Chi yn unig biau hi") {
		t.Fatalf("bilingual ballot's invitation text: %q", inv)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails", len(msgs))
	}
	_, body := decodeMessage(t, msgs[0].Data)
	en, cy, ok := strings.Cut(body, "* * *")
	if !ok || !strings.Contains(en, "Pay offer: accept?") || !strings.Contains(cy, titleCy) || strings.Contains(cy, "Pay offer") {
		t.Fatalf("bilingual ballot's email:\n%s", body)
	}
	// Not bilingual (no config): the text is English only, as before.
	ballot2, _ := e.emailBallot("en-ballot", [][2]string{{"+447700900812", ""}})
	if _, err := e.svc.IssueInvitations(ctx, ballot2); err != nil {
		t.Fatal(err)
	}
	if inv := e.fake.LastBodyTo("+447700900812"); strings.Contains(inv, "Chi yn unig") {
		t.Fatalf("English ballot's invitation text: %q", inv)
	}
}

// A member's preferred language on the register (members.language): a
// member who prefers Welsh gets the invitation text and email in Welsh
// only (the ballot's Welsh title, a link that opens the pages in Welsh),
// one who prefers English in English only, even on a bilingual ballot;
// with no preference the ballot's languages apply (bilingual here). On an
// English ballot a Welsh-preferring member is still written to in Welsh,
// the ballot named by its (English) title.
func TestPreferredLanguageInvitations(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS})
	e := newEnvWith(t, nil, func(o *auth.Options) {
		c, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: srv.Port,
			From: "ballots@vote.example", TLSConfig: &tls.Config{RootCAs: srv.RootCAs()}})
		if err != nil {
			t.Fatal(err)
		}
		o.Mail = c
	})
	ctx := context.Background()
	const (
		cyMob, enMob, noMob, cy2Mob = "+447700900821", "+447700900822", "+447700900823", "+447700900824"
		cyMail, enMail, noMail      = "cy@example.net", "en@example.net", "none@example.net"
		titleCy                     = "Cynnig cyflog: derbyn?"
	)
	ballot, ids := e.emailBallot("pref-ballot", [][2]string{{cyMob, cyMail}, {enMob, enMail}, {noMob, noMail}})
	if _, err := e.pool.Exec(ctx, `UPDATE ballots SET config = jsonb_build_object('bilingual', true, 'title_cy', $2::text) WHERE id = $1`, ballot, titleCy); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `UPDATE members SET language = CASE id WHEN $1 THEN 'cy' WHEN $2 THEN 'en' ELSE '' END WHERE id = ANY($3)`,
		ids[0], ids[1], ids); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueInvitations(ctx, ballot); err != nil {
		t.Fatal(err)
	}
	cy := e.fake.LastBodyTo(cyMob)
	if !strings.Contains(cy, `eich dolen bersonol i bleidleisio yn "`+titleCy+`"`) || !strings.Contains(cy, "?lang=cy") ||
		!strings.Contains(cy, "Chi yn unig biau hi") || strings.Contains(cy, "vote in") || strings.Contains(cy, "Pay offer") {
		t.Errorf("Welsh member's text: %q", cy)
	}
	if en := e.fake.LastBodyTo(enMob); !strings.Contains(en, `vote in "Pay offer: accept?"`) || strings.Contains(en, "Chi yn unig") || strings.Contains(en, "lang=cy") {
		t.Errorf("English member's text: %q", en)
	}
	if both := e.fake.LastBodyTo(noMob); !strings.Contains(both, `vote in "Pay offer: accept?"`) || !strings.Contains(both, titleCy) {
		t.Errorf("no preference, bilingual ballot: %q", both)
	}
	bodies := map[string]string{}
	langs := map[string]string{}
	for _, m := range srv.Messages() {
		h, body := decodeMessage(t, m.Data)
		bodies[m.To[0]], langs[m.To[0]] = body, h.Get("Content-Language")
	}
	if b := bodies[cyMail]; langs[cyMail] != "cy" || !strings.Contains(b, titleCy) || strings.Contains(b, "Pay offer") || strings.Contains(b, "* * *") || !strings.Contains(b, "?lang=cy") {
		t.Errorf("Welsh member's email (%s):\n%s", langs[cyMail], b)
	}
	if b := bodies[enMail]; langs[enMail] != "en" || !strings.Contains(b, "Pay offer: accept?") || strings.Contains(b, titleCy) || strings.Contains(b, "* * *") {
		t.Errorf("English member's email (%s):\n%s", langs[enMail], b)
	}
	if b := bodies[noMail]; langs[noMail] != "en, cy" || !strings.Contains(b, "* * *") {
		t.Errorf("no preference: email (%s):\n%s", langs[noMail], b)
	}
	// An English-only ballot: the Welsh-preferring member is still written
	// to in Welsh, naming the ballot by its title.
	ballot2, ids2 := e.emailBallot("pref-en-ballot", [][2]string{{cy2Mob, ""}})
	if _, err := e.pool.Exec(ctx, `UPDATE members SET language = 'cy' WHERE id = $1`, ids2[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.IssueInvitations(ctx, ballot2); err != nil {
		t.Fatal(err)
	}
	if cy := e.fake.LastBodyTo(cy2Mob); !strings.Contains(cy, `i bleidleisio yn "Pay offer: accept?" (yn cau 2 Mehefin`) || strings.Contains(cy, "vote in") {
		t.Errorf("Welsh member, English ballot: %q", cy)
	}
}
