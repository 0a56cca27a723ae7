package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TLS modes of [SMTPConfig].
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS, required (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only to a server on this machine
)

// SMTPConfig configures [NewSMTP]. Password MUST NOT be logged.
type SMTPConfig struct {
	Host string // server host name (also the name its certificate must carry)
	Port int    // default 587 (starttls), 465 (tls), 25 (none)
	// TLS is TLSStartTLS (default), TLSImplicit or TLSNone. TLSNone is
	// refused unless Host is localhost or a loopback address.
	TLS                string
	Username, Password string // both or neither
	From               string // "Name <address>" or a bare address
	// HelloName is the name sent in EHLO (the public host name); default
	// "localhost".
	HelloName string
	// Timeout bounds one whole send (connect to QUIT); default 30 s. The
	// context's deadline applies too.
	Timeout time.Duration
	// TLSConfig, if set, is cloned for the connection (tests add their
	// own root CA). The server certificate is always verified for Host;
	// TLS 1.2 is the minimum.
	TLSConfig *tls.Config
	Now       func() time.Time // default time.Now
	Rand      io.Reader        // Message-IDs; default crypto/rand
}

// SMTP sends email through one submission server. Each Send is one
// connection: connect, EHLO, STARTTLS (required unless TLSImplicit or
// TLSNone), AUTH (PLAIN, or LOGIN if the server offers only that; never
// over a connection without TLS except to localhost), MAIL, RCPT, DATA,
// QUIT. It never downgrades: a server that does not offer STARTTLS fails
// the send with ErrUnavailable.
type SMTP struct {
	cfg  SMTPConfig
	from *mail.Address
	addr string
}

// NewSMTP checks cfg and builds the sender (it does not connect).
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, " \r\n/:") && net.ParseIP(cfg.Host) == nil {
		return nil, errors.New("mail: SMTP host required (a host name or IP address)")
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit:
	case TLSNone:
		if !IsLocalHost(cfg.Host) {
			return nil, errors.New("mail: SMTP without TLS is only allowed to localhost or a loopback address")
		}
	default:
		return nil, fmt.Errorf("mail: SMTP TLS mode %q is not starttls, tls or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[cfg.TLS]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("mail: SMTP port must be 1 to 65535")
	}
	if (cfg.Username == "") != (cfg.Password == "") {
		return nil, errors.New("mail: set both the SMTP username and password, or neither")
	}
	if hasControl(cfg.Username) || hasControl(cfg.Password) {
		return nil, errors.New("mail: SMTP username or password has control characters")
	}
	from, err := ParseFrom(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: From: %w", err)
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &SMTP{cfg: cfg, from: from, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}, nil
}

// IsLocalHost reports whether host is "localhost" or a loopback address.
func IsLocalHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (s *SMTP) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.cfg.TLSConfig != nil {
		c = s.cfg.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	c.ServerName = s.cfg.Host
	c.InsecureSkipVerify = false
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// Send implements [Sender]. Errors wrap one of the package's sentinels and
// carry the SMTP reply code and the step, never the server's text (which
// often repeats the address).
func (s *SMTP) Send(ctx context.Context, m Message) (string, error) {
	id, err := NewMessageID(s.cfg.Rand, s.from)
	if err != nil {
		return "", fmt.Errorf("send mail: %w: %w", ErrUnavailable, err)
	}
	raw, err := Build(s.from, m, s.cfg.Now(), id)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("send mail: %w: %w", ErrUnavailable, err)
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(dctx, "tcp", s.addr)
	if err != nil {
		return "", fmt.Errorf("send mail: %w: connect: %w", ErrUnavailable, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(dctx, func() { _ = conn.Close() }) // cancellation aborts the conversation
	defer stop()
	if s.cfg.TLS == TLSImplicit {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(dctx); err != nil {
			return "", fmt.Errorf("send mail: %w: TLS: %w", ErrUnavailable, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return "", stepErr("greeting", err, ErrUnavailable)
	}
	defer func() { _ = c.Close() }() // after Quit, or on an error path
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return "", stepErr("EHLO", err, ErrUnavailable)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return "", fmt.Errorf("send mail: %w: the server does not offer STARTTLS (refusing to send without TLS)", ErrUnavailable)
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return "", stepErr("STARTTLS", err, ErrUnavailable)
		}
	}
	if s.cfg.Username != "" {
		a, err := s.auth(c)
		if err != nil {
			return "", err
		}
		if err := c.Auth(a); err != nil {
			return "", stepErr("AUTH", err, ErrAuth)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return "", stepErr("MAIL FROM", err, nil)
	}
	if err := c.Rcpt(m.To); err != nil {
		return "", stepErr("RCPT TO", err, nil)
	}
	w, err := c.Data()
	if err != nil {
		return "", stepErr("DATA", err, nil)
	}
	if _, err := w.Write(raw); err != nil {
		return "", stepErr("DATA", err, ErrUnavailable) // no final dot: not accepted
	}
	if err := w.Close(); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) {
			return "", stepErr("end of DATA", err, nil)
		}
		return "", fmt.Errorf("send mail: %w: %w", ErrUncertain, err)
	}
	_ = c.Quit() // accepted: a failed QUIT changes nothing
	return id, nil
}

// auth picks PLAIN, else LOGIN, from the server's AUTH list.
func (s *SMTP) auth(c *smtp.Client) (smtp.Auth, error) {
	ok, params := c.Extension("AUTH")
	mechs := strings.Fields(strings.ToUpper(params))
	switch {
	case ok && slices.Contains(mechs, "PLAIN"):
		return smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host), nil
	case ok && slices.Contains(mechs, "LOGIN"):
		return &loginAuth{user: s.cfg.Username, pass: s.cfg.Password, host: s.cfg.Host}, nil
	}
	return nil, fmt.Errorf("send mail: %w: the server offers neither AUTH PLAIN nor LOGIN", ErrAuth)
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login), which
// some submission servers offer instead of PLAIN. Like smtp.PlainAuth it
// refuses to send the password without TLS except to localhost.
type loginAuth struct{ user, pass, host string }

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !IsLocalHost(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(challenge))) {
	case "username:", "user name", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected LOGIN challenge")
}

// stepErr classifies an SMTP reply: 4xx ErrUnavailable, 5xx ErrRejected
// (or def when set, e.g. ErrAuth), anything else (network) ErrUnavailable.
// Only the code is kept, never the server's text.
func stepErr(step string, err error, def error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		kind := ErrRejected
		switch {
		case def == ErrAuth:
			kind = ErrAuth
		case te.Code >= 400 && te.Code < 500:
			kind = ErrUnavailable
		}
		return fmt.Errorf("send mail: %w (%s answered %d)", kind, step, te.Code)
	}
	if def == ErrAuth {
		return fmt.Errorf("send mail: %w (%s: %w)", ErrAuth, step, err)
	}
	return fmt.Errorf("send mail: %w (%s: %w)", ErrUnavailable, step, err)
}
