package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/mail/mailtest"
	"github.com/unionvote/eballot/internal/pgtest"

	eballotmail "github.com/unionvote/eballot/internal/mail"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const welsh = "Mae'r bleidlais yn cau ar 2 Mehefin. Chi yn unig biau'r ddolen hon — cysylltwch â'ch undeb; ŵyr, ŷd."

func parse(t *testing.T, raw []byte) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, raw)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return msg, string(body)
}

func TestBuild(t *testing.T) {
	from, err := eballotmail.ParseFrom("Undeb e-bleidlais / Union e-ballot <ballots@vote.example>")
	if err != nil {
		t.Fatal(err)
	}
	date := time.Date(2026, 6, 2, 17, 30, 0, 0, time.FixedZone("BST", 3600))
	subject := "ACME Workers: your personal voting link / eich dolen bleidleisio bersonol — ŵ " + strings.Repeat("long ", 20)
	text := "English first.\n\n" + welsh + "\nA line that ends in spaces   \n.a line starting with a dot\n" + strings.Repeat("x", 200)
	raw, err := eballotmail.Build(from, eballotmail.Message{To: "member@example.org", Subject: subject, Text: text, Language: "en, cy"}, date, "<abc123@vote.example>")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(raw), "\r\n") {
		if len(l) > 78 {
			t.Errorf("line of %d characters: %q", len(l), l)
		}
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatal("bare CR or LF in the message")
	}
	for _, b := range raw {
		if b >= 0x80 {
			t.Fatal("8-bit byte on the wire: headers and body must be 7-bit (RFC 2047, quoted-printable)")
		}
	}
	msg, body := parse(t, raw)
	h := msg.Header
	dec := new(mime.WordDecoder)
	gotSubject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || gotSubject != subject {
		t.Fatalf("subject %q (%v)", gotSubject, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(date) {
		t.Fatalf("date %v %v", d, err)
	}
	if h.Get("Message-Id") != "<abc123@vote.example>" || h.Get("Mime-Version") != "1.0" || h.Get("Content-Transfer-Encoding") != "quoted-printable" ||
		h.Get("Content-Language") != "en, cy" || h.Get("Auto-Submitted") != "auto-generated" || h.Get("To") != "member@example.org" {
		t.Fatalf("headers %v", h)
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "text/plain" || params["charset"] != "utf-8" {
		t.Fatalf("content type %q", h.Get("Content-Type"))
	}
	if f, err := h.AddressList("From"); err != nil || len(f) != 1 || f[0].Address != "ballots@vote.example" || f[0].Name != "Undeb e-bleidlais / Union e-ballot" {
		t.Fatalf("from %v %v", f, err)
	}
	want := strings.ReplaceAll(text, "\n", "\r\n") + "\r\n"
	if body != want {
		t.Fatalf("body round trip:\n%q\nwant\n%q", body, want)
	}
}

func TestBuildRefusesInjection(t *testing.T) {
	from, _ := eballotmail.ParseFrom("ballots@vote.example")
	ok := eballotmail.Message{To: "member@example.org", Subject: "Hello", Text: "x"}
	for name, m := range map[string]eballotmail.Message{
		"CRLF in To":            {To: "member@example.org\r\nBcc: all@example.org", Subject: "s", Text: "x"},
		"LF in To":              {To: "member@example.org\nBcc: all@example.org", Subject: "s", Text: "x"},
		"two recipients":        {To: "a@example.org, b@example.org", Subject: "s", Text: "x"},
		"display name in To":    {To: "Eve <eve@example.org>", Subject: "s", Text: "x"},
		"non-ASCII address":     {To: "ŵyr@example.org", Subject: "s", Text: "x"},
		"not an address":        {To: "member", Subject: "s", Text: "x"},
		"empty To":              {To: "", Subject: "s", Text: "x"},
		"CRLF in Subject":       {To: ok.To, Subject: "Hi\r\nBcc: all@example.org", Text: "x"},
		"LF in Subject":         {To: ok.To, Subject: "Hi\nX-Evil: 1", Text: "x"},
		"CR in Subject":         {To: ok.To, Subject: "Hi\rX-Evil: 1", Text: "x"},
		"NUL in Subject":        {To: ok.To, Subject: "Hi\x00", Text: "x"},
		"empty Subject":         {To: ok.To, Subject: "", Text: "x"},
		"invalid UTF-8 body":    {To: ok.To, Subject: "s", Text: "\xff\xfe"},
		"header in Language":    {To: ok.To, Subject: "s", Text: "x", Language: "en\r\nBcc: all@example.org"},
		"angle bracket address": {To: "<member@example.org>", Subject: "s", Text: "x"},
	} {
		if _, err := eballotmail.Build(from, m, time.Now(), "<a@b>"); !errors.Is(err, eballotmail.ErrInvalidMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, f := range []string{"ballots@vote.example\r\nBcc: x@y", "Name\n <a@b.example>", "not an address", "ŵ@vote.example"} {
		if _, err := eballotmail.ParseFrom(f); !errors.Is(err, eballotmail.ErrInvalidMessage) {
			t.Errorf("from %q: %v", f, err)
		}
	}
	if _, err := eballotmail.Build(from, ok, time.Now(), "<a@b>\r\nBcc: x@y"); !errors.Is(err, eballotmail.ErrInvalidMessage) {
		t.Errorf("message id: %v", err)
	}
}

func newSMTP(t *testing.T, srv *mailtest.Server, cfg eballotmail.SMTPConfig) *eballotmail.SMTP {
	t.Helper()
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	cfg.Port = srv.Port
	if cfg.From == "" {
		cfg.From = "Union e-ballot <ballots@vote.example>"
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{RootCAs: srv.RootCAs()}
	}
	cfg.HelloName = "vote.example"
	s, err := eballotmail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var msg = eballotmail.Message{To: "member@example.org", Subject: "Your link / Eich dolen", Text: "https://vote.example/i/token\n\n" + welsh, Language: "en, cy"}

func index(lines []string, prefix string) int {
	for i, l := range lines {
		if strings.HasPrefix(strings.SplitN(l, ": ", 2)[1], prefix) {
			return i
		}
	}
	return -1
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	for _, mech := range []string{"PLAIN LOGIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, User: "mailer", Password: "s3cret-pass", Mechanisms: mech})
			c := newSMTP(t, srv, eballotmail.SMTPConfig{TLS: eballotmail.TLSStartTLS, Username: "mailer", Password: "s3cret-pass"})
			id, err := c.Send(context.Background(), msg)
			if err != nil {
				t.Fatalf("send: %v\n%s", err, strings.Join(srv.Lines(), "\n"))
			}
			lines := srv.Lines()
			order := []string{"EHLO vote.example", "STARTTLS", "EHLO vote.example", "AUTH " + strings.Fields(mech)[0], "MAIL FROM:<ballots@vote.example>", "RCPT TO:<member@example.org>", "DATA", "QUIT"}
			at := 0
			for _, want := range order {
				i := index(lines[at:], want)
				if i < 0 {
					t.Fatalf("%q missing or out of order in\n%s", want, strings.Join(lines, "\n"))
				}
				at += i + 1
			}
			if starttls := index(lines, "STARTTLS"); index(lines, "AUTH") < starttls {
				t.Fatal("AUTH before STARTTLS")
			}
			ms := srv.Messages()
			if len(ms) != 1 || !ms[0].TLS || ms[0].User != "mailer" || ms[0].From != "ballots@vote.example" || ms[0].To[0] != "member@example.org" {
				t.Fatalf("messages %+v", ms)
			}
			m, body := parse(t, ms[0].Data)
			if m.Header.Get("Message-Id") != id || !strings.Contains(body, "ŵyr") || !strings.HasSuffix(id, "@vote.example>") {
				t.Fatalf("id %q header %q body %q", id, m.Header.Get("Message-Id"), body)
			}
		})
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.Implicit, User: "mailer", Password: "pw-0123456789"})
	c := newSMTP(t, srv, eballotmail.SMTPConfig{TLS: eballotmail.TLSImplicit, Username: "mailer", Password: "pw-0123456789"})
	if _, err := c.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if ms := srv.Messages(); len(ms) != 1 || !ms[0].TLS {
		t.Fatalf("%+v", ms)
	}
	if index(srv.Lines(), "STARTTLS") >= 0 {
		t.Fatal("STARTTLS inside implicit TLS")
	}
}

func TestSMTPNeverWithoutTLS(t *testing.T) {
	// The server offers no STARTTLS: nothing is sent, no credentials.
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.Plain, User: "mailer", Password: "pw"})
	c := newSMTP(t, srv, eballotmail.SMTPConfig{TLS: eballotmail.TLSStartTLS, Username: "mailer", Password: "pw"})
	_, err := c.Send(context.Background(), msg)
	if !errors.Is(err, eballotmail.ErrUnavailable) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("got %v", err)
	}
	if index(srv.Lines(), "AUTH") >= 0 || index(srv.Lines(), "MAIL") >= 0 || len(srv.Messages()) != 0 {
		t.Fatalf("sent without TLS:\n%s", strings.Join(srv.Lines(), "\n"))
	}
	// An untrusted (self-signed, not in our roots) certificate fails the
	// handshake, again before any credential.
	srv2 := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, User: "mailer", Password: "pw"})
	c2 := newSMTP(t, srv2, eballotmail.SMTPConfig{TLS: eballotmail.TLSStartTLS, Username: "mailer", Password: "pw", TLSConfig: &tls.Config{}})
	if _, err := c2.Send(context.Background(), msg); !errors.Is(err, eballotmail.ErrUnavailable) {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if index(srv2.Lines(), "AUTH") >= 0 || len(srv2.Messages()) != 0 {
		t.Fatal("credentials sent to an unverified server")
	}
	// A certificate for another name fails too.
	srv3 := mailtest.Start(t, mailtest.Options{Mode: mailtest.Implicit})
	c3 := newSMTP(t, srv3, eballotmail.SMTPConfig{TLS: eballotmail.TLSImplicit, Host: "127.0.0.2"})
	if _, err := c3.Send(context.Background(), msg); err == nil {
		t.Fatal("wrong host name accepted")
	}
	// Plain text is refused by configuration except to localhost.
	for _, host := range []string{"smtp.example.org", "192.0.2.1", "localhost.example.org"} {
		if _, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: host, TLS: eballotmail.TLSNone, From: "a@b.example"}); err == nil {
			t.Errorf("TLS none to %s accepted", host)
		}
	}
}

func TestSMTPPlainToLocalhost(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.Plain, User: "dev", Password: "devpass"})
	for _, host := range []string{"localhost", "127.0.0.1"} {
		c := newSMTP(t, srv, eballotmail.SMTPConfig{Host: host, TLS: eballotmail.TLSNone, Username: "dev", Password: "devpass"})
		if _, err := c.Send(context.Background(), msg); err != nil {
			t.Fatalf("%s: %v", host, err)
		}
	}
	if len(srv.Messages()) != 2 {
		t.Fatal(srv.Messages())
	}
}

func TestSMTPAuthFailure(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, User: "mailer", Password: "right"})
	c := newSMTP(t, srv, eballotmail.SMTPConfig{Username: "mailer", Password: "wrong"})
	_, err := c.Send(context.Background(), msg)
	if !errors.Is(err, eballotmail.ErrAuth) || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("got %v", err)
	}
	if index(srv.Lines(), "MAIL") >= 0 {
		t.Fatal("MAIL after a failed AUTH")
	}
	// No mechanism we support.
	srv2 := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS, User: "mailer", Password: "right", Mechanisms: "CRAM-MD5"})
	c2 := newSMTP(t, srv2, eballotmail.SMTPConfig{Username: "mailer", Password: "right"})
	if _, err := c2.Send(context.Background(), msg); !errors.Is(err, eballotmail.ErrAuth) {
		t.Fatalf("no mechanism: %v", err)
	}
	// The server requires AUTH and we have no credentials.
	c3 := newSMTP(t, srv, eballotmail.SMTPConfig{})
	if _, err := c3.Send(context.Background(), msg); !errors.Is(err, eballotmail.ErrRejected) {
		t.Fatalf("no credentials: %v", err)
	}
	// Half a credential is a configuration error.
	if _, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", From: "a@b.example", Username: "u"}); err == nil {
		t.Fatal("username without password accepted")
	}
}

func TestSMTPRecipientAnswers(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{Mode: mailtest.StartTLS,
		RcptCode: func(to string) int {
			switch to {
			case "gone@example.org":
				return 550
			case "busy@example.org":
				return 451
			}
			return 250
		},
		DropAfterData: func(to string) bool { return to == "lost@example.org" },
	})
	c := newSMTP(t, srv, eballotmail.SMTPConfig{})
	for to, want := range map[string]error{"gone@example.org": eballotmail.ErrRejected, "busy@example.org": eballotmail.ErrUnavailable, "lost@example.org": eballotmail.ErrUncertain} {
		m := msg
		m.To = to
		_, err := c.Send(context.Background(), m)
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", to, err, want)
		}
		if err != nil && strings.Contains(err.Error(), to) {
			t.Errorf("error names the recipient: %v", err)
		}
	}
	if ms := srv.Messages(); len(ms) != 1 || !ms[0].Dropped {
		t.Fatalf("messages %+v", ms)
	}
}

func TestSMTPUnreachableAndTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	// A server that accepts and never speaks.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c, err := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: port, From: "a@vote.example", Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Send(context.Background(), msg); !errors.Is(err, eballotmail.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Fatalf("silent server: %v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	c2, _ := eballotmail.NewSMTP(eballotmail.SMTPConfig{Host: "localhost", Port: port, From: "a@vote.example", Timeout: time.Minute})
	start = time.Now()
	if _, err := c2.Send(ctx, msg); !errors.Is(err, eballotmail.ErrUnavailable) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled: %v after %s", err, time.Since(start))
	}
	ln.Close()
	if _, err := c.Send(context.Background(), msg); !errors.Is(err, eballotmail.ErrUnavailable) {
		t.Fatalf("closed port: %v", err)
	}
}

func TestOutbox(t *testing.T) {
	pool := pgtest.NewDB(t)
	var logs bytes.Buffer
	o, err := eballotmail.NewOutbox(pool, slog.New(slog.NewTextHandler(&logs, nil)), "Union e-ballot <no-reply@localhost>")
	if err != nil {
		t.Fatal(err)
	}
	id, err := o.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Send(context.Background(), eballotmail.Message{To: "x@example.org\r\nBcc: y@example.org", Subject: "s", Text: "t"}); !errors.Is(err, eballotmail.ErrInvalidMessage) {
		t.Fatalf("outbox accepted an injected header: %v", err)
	}
	got, err := o.Recent(context.Background(), 10)
	if err != nil || len(got) != 1 || got[0].MessageID != id || got[0].To != msg.To || got[0].Body != msg.Text || got[0].Subject != msg.Subject {
		t.Fatalf("recent %+v %v", got, err)
	}
	if m, body := parse(t, got[0].Raw); m.Header.Get("Message-Id") != id || !strings.Contains(body, "ŵyr") {
		t.Fatal("raw message")
	}
	if strings.Contains(logs.String(), msg.To) || strings.Contains(logs.String(), "vote.example/i/") {
		t.Fatalf("log leaks: %s", logs.String())
	}
}
