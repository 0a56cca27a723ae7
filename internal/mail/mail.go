// Package mail sends email: members' personal invitation links
// (internal/auth). docs/auth.md is the design note.
//
// Two implementations of [Sender] exist: [SMTP], a small client over
// Go's net/smtp that requires TLS (STARTTLS or implicit TLS; plain text only
// to a server on this machine) and [Outbox], the development outbox that
// keeps messages in PostgreSQL for /dev/outbox. Messages are single-part
// text/plain in UTF-8 (quoted-printable), built by [Build], which refuses
// anything that could inject a header. Message bodies hold personal
// links: they MUST NOT be logged, and neither may addresses.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one email: a plain-text body in UTF-8.
type Message struct {
	To      string // a bare address (local@domain): no display name
	Subject string // one line, UTF-8
	Text    string // the body; "\n" line ends; MUST NOT be logged
	// Language is the Content-Language header (e.g. "en, cy"), or "".
	Language string
}

// Sender sends an email and returns its Message-ID.
type Sender interface {
	Send(ctx context.Context, m Message) (messageID string, err error)
}

// Sentinel errors of [Sender.Send], to test with errors.Is. None of them
// carries the recipient or the body.
var (
	// ErrInvalidMessage: the recipient, the sender or the subject is not
	// acceptable (malformed, non-ASCII address, CR/LF or another control
	// character). Nothing was sent. Do not retry without a change.
	ErrInvalidMessage = errors.New("mail: invalid address or header")
	// ErrRejected: the server refused the message permanently (a 5xx
	// answer, e.g. unknown mailbox). Do not retry without a change.
	ErrRejected = errors.New("mail: message rejected by the server")
	// ErrAuth: the server refused our credentials (EBALLOT_SMTP_USERNAME,
	// EBALLOT_SMTP_PASSWORD) or offers no mechanism we support. Nothing
	// was sent; retry once the configuration is fixed.
	ErrAuth = errors.New("mail: SMTP authentication failed")
	// ErrUnavailable: the server could not be reached, TLS failed or was
	// not offered, or it answered 4xx (try later). Nothing was sent.
	ErrUnavailable = errors.New("mail: server unavailable")
	// ErrUncertain: the whole message was handed over but the server's
	// answer was lost: it may have been accepted. Callers that promise
	// "at most once" MUST NOT send it again automatically.
	ErrUncertain = errors.New("mail: delivery uncertain (no answer after the message was sent)")
)

// maxAddressLen is the longest address accepted (RFC 5321 path limit).
const maxAddressLen = 254

// CheckAddress returns addr if it is a bare, ASCII address local@domain
// (what RCPT TO accepts without SMTPUTF8), else an error wrapping
// ErrInvalidMessage that does not repeat it.
func CheckAddress(addr string) (string, error) {
	if addr == "" || len(addr) > maxAddressLen || hasControl(addr) || !isASCII(addr) {
		return "", fmt.Errorf("%w: address empty, too long, non-ASCII or with control characters", ErrInvalidMessage)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr || strings.ContainsAny(addr, "<>\"() ,;:\\[]") {
		return "", fmt.Errorf("%w: not a bare address local@domain", ErrInvalidMessage)
	}
	return addr, nil
}

// ParseFrom parses a sender such as "Union e-ballot <ballots@vote.example>"
// or a bare address; the address part must pass [CheckAddress].
func ParseFrom(from string) (*mail.Address, error) {
	if hasControl(from) {
		return nil, fmt.Errorf("%w: sender has control characters", ErrInvalidMessage)
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("%w: sender is not an address or Name <address>", ErrInvalidMessage)
	}
	if _, err := CheckAddress(a.Address); err != nil {
		return nil, err
	}
	return a, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// NewMessageID returns a random Message-ID (with angle brackets) in the
// sender's domain.
func NewMessageID(rnd io.Reader, from *mail.Address) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 16)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	dom := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return "<" + hex.EncodeToString(b) + "@" + dom + ">", nil
}

// Build composes the message as sent on the wire (CRLF line ends, before
// SMTP dot-stuffing): Date, From, To, Subject, Message-ID, MIME-Version,
// Content-Type text/plain; charset=utf-8, quoted-printable body. It
// refuses (ErrInvalidMessage) a recipient that is not a bare ASCII
// address, a subject with any control character (CR/LF: header injection),
// a body that is not valid UTF-8, and a Language that is not a list of
// language tags.
func Build(from *mail.Address, m Message, date time.Time, messageID string) ([]byte, error) {
	if from == nil {
		return nil, fmt.Errorf("%w: no sender", ErrInvalidMessage)
	}
	if _, err := CheckAddress(from.Address); err != nil {
		return nil, err
	}
	if hasControl(from.Name) {
		return nil, fmt.Errorf("%w: sender name has control characters", ErrInvalidMessage)
	}
	to, err := CheckAddress(m.To)
	if err != nil {
		return nil, err
	}
	if m.Subject == "" || hasControl(m.Subject) || !utf8.ValidString(m.Subject) || len(m.Subject) > 500 {
		return nil, fmt.Errorf("%w: subject empty, too long, or with control characters", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.Text) || strings.ContainsRune(m.Text, 0) {
		return nil, fmt.Errorf("%w: body is not valid UTF-8 text", ErrInvalidMessage)
	}
	for _, tag := range strings.Split(m.Language, ",") {
		if m.Language == "" {
			break
		}
		if !validLangTag(strings.TrimSpace(tag)) {
			return nil, fmt.Errorf("%w: bad Content-Language", ErrInvalidMessage)
		}
	}
	if !strings.HasPrefix(messageID, "<") || !strings.HasSuffix(messageID, ">") || hasControl(messageID) || strings.ContainsAny(messageID, " \t") {
		return nil, fmt.Errorf("%w: bad Message-ID", ErrInvalidMessage)
	}
	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(fold(name + ": " + value)) }
	header("Date", date.Format(time.RFC1123Z))
	header("From", from.String()) // net/mail encodes a non-ASCII name (RFC 2047)
	header("To", to)
	header("Subject", encodeSubject(m.Subject))
	header("Message-ID", messageID)
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	if m.Language != "" {
		header("Content-Language", m.Language)
	}
	// RFC 3834: an automatic message; asks for no vacation auto-replies.
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	return b.Bytes(), nil
}

// encodeSubject leaves an ASCII subject as it is and otherwise writes it
// as RFC 2047 "Q" encoded-words of at most 60 characters each, split
// between characters, so that the header can be folded between words.
func encodeSubject(v string) string {
	if isASCII(v) {
		return v
	}
	const maxWord = 60
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, "=?utf-8?q?"+cur.String()+"?=")
			cur.Reset()
		}
	}
	for _, r := range v {
		var enc strings.Builder
		var buf [utf8.UTFMax]byte
		for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
			switch {
			case b == ' ':
				enc.WriteByte('_')
			case b > ' ' && b < 0x7f && b != '=' && b != '?' && b != '_':
				enc.WriteByte(b)
			default:
				fmt.Fprintf(&enc, "=%02X", b)
			}
		}
		if len("=?utf-8?q?")+cur.Len()+enc.Len()+len("?=") > maxWord {
			flush()
		}
		cur.WriteString(enc.String())
	}
	flush()
	return strings.Join(words, " ")
}

// fold folds a header line at spaces so that lines stay within 78
// characters where possible (RFC 5322 §2.2.3), and ends it with CRLF.
func fold(line string) string {
	const limit = 78
	min := strings.IndexByte(line, ':') + 2 // never fold between the name and its value
	var out strings.Builder
	for len(line) > limit {
		cut := strings.LastIndexByte(line[:limit], ' ')
		if cut < min {
			next := strings.IndexByte(line[max(limit, min):], ' ')
			if next < 0 {
				break
			}
			cut = max(limit, min) + next
		}
		out.WriteString(line[:cut])
		out.WriteString("\r\n")
		line = line[cut:] // keeps the space: it starts the continuation line
		min = 1
	}
	out.WriteString(line)
	out.WriteString("\r\n")
	return out.String()
}

func validLangTag(t string) bool {
	if t == "" || len(t) > 35 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// ErrorKind names what a failed [Sender.Send] says, for an outbox row to
// record (never the server's text): "rejected", "invalid_address",
// "auth", "unavailable" (also a cancelled or timed-out send), "uncertain"
// or "error". Rejected and invalid_address are refused for good: not to be
// retried without a change.
func ErrorKind(err error) string {
	switch {
	case errors.Is(err, ErrRejected):
		return "rejected"
	case errors.Is(err, ErrInvalidMessage):
		return "invalid_address"
	case errors.Is(err, ErrAuth):
		return "auth"
	case errors.Is(err, ErrUncertain):
		return "uncertain"
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return "error"
}
