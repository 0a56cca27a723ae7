// Package mailtest is a local SMTP server for tests, written over
// net/textproto: it records the whole conversation and every message, can
// require STARTTLS or speak implicit TLS (with a self-signed certificate
// made at start), can require AUTH PLAIN/LOGIN with given credentials, and
// can be told to refuse recipients or to drop the connection after the
// message so that tests reach every branch of a client.
package mailtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mode is how the server uses TLS.
type Mode int

// TLS modes.
const (
	StartTLS Mode = iota // plain greeting; offers STARTTLS
	Implicit             // TLS from the first byte
	Plain                // no TLS at all (never offers STARTTLS)
)

// Options configure [Start].
type Options struct {
	Mode Mode
	// User and Password, if set, make AUTH (PLAIN or LOGIN) required
	// before MAIL; it is offered only once TLS is on (or in Plain mode).
	User, Password string
	// Mechanisms advertised (default "PLAIN LOGIN").
	Mechanisms string
	// RcptCode, if set, gives the reply code for a recipient (e.g. 550,
	// 450); 250 otherwise.
	RcptCode func(to string) int
	// DropAfterData, if set and true for a recipient, closes the
	// connection after the message's final dot without answering.
	DropAfterData func(to string) bool
}

// Message is one message accepted (or dropped) by the server.
type Message struct {
	From    string
	To      []string
	Data    []byte // as received, dot-unstuffed, CRLF line ends
	TLS     bool   // the connection was encrypted
	User    string // the authenticated user, or ""
	Dropped bool   // DropAfterData applied: no answer was given
}

// Server is the fake.
type Server struct {
	Addr string // 127.0.0.1:port
	Port int
	ln   net.Listener
	cert tls.Certificate
	pool *x509.CertPool
	opt  Options

	mu    sync.Mutex
	lines []string // client lines, in order, per connection prefixed "C<n>: "
	msgs  []Message
	conns int
	wg    sync.WaitGroup
}

// Start listens on 127.0.0.1 and stops when the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	if opt.Mechanisms == "" {
		opt.Mechanisms = "PLAIN LOGIN"
	}
	s := &Server{opt: opt}
	var err error
	if s.cert, s.pool, err = selfSigned(); err != nil {
		t.Fatal(err)
	}
	if s.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	s.Addr = s.ln.Addr().String()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.Port, _ = strconv.Atoi(port)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and waits for its connections.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.wg.Wait()
}

// RootCAs trusts the server's self-signed certificate (for "localhost"
// and 127.0.0.1).
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

// Lines returns the client's lines so far ("C1: EHLO …"); AUTH payloads
// are recorded as sent (base64).
func (s *Server) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Messages returns the messages received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Connections is how many connections were accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		n := s.conns
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			s.serve(c, n)
		}()
	}
}

func (s *Server) record(n int, line string) {
	s.mu.Lock()
	s.lines = append(s.lines, "C"+strconv.Itoa(n)+": "+line)
	s.mu.Unlock()
}

func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
}

func (s *Server) serve(conn net.Conn, n int) {
	encrypted := false
	if s.opt.Mode == Implicit {
		tc := tls.Server(conn, s.tlsConfig())
		if err := tc.Handshake(); err != nil {
			s.record(n, "TLS handshake failed")
			return
		}
		conn, encrypted = tc, true
	}
	tp := textproto.NewConn(conn)
	reply := func(format string, args ...any) { _ = tp.PrintfLine(format, args...) }
	reply("220 localhost ESMTP mailtest")
	var from, user string
	var rcpts []string
	authed := s.opt.User == ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		s.record(n, line)
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"localhost greets " + arg, "8BITMIME", "SIZE 10485760"}
			if s.opt.Mode == StartTLS && !encrypted {
				ext = append(ext, "STARTTLS")
			}
			if s.opt.User != "" && (encrypted || s.opt.Mode == Plain) {
				ext = append(ext, "AUTH "+s.opt.Mechanisms)
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply("250%s%s", sep, e)
			}
		case "HELO":
			reply("250 localhost")
		case "STARTTLS":
			if s.opt.Mode != StartTLS || encrypted {
				reply("502 5.5.1 not available")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(conn, s.tlsConfig())
			if err := tc.Handshake(); err != nil {
				s.record(n, "TLS handshake failed")
				return
			}
			conn, encrypted = tc, true
			tp = textproto.NewConn(conn)
			from, rcpts, user = "", nil, ""
			authed = s.opt.User == ""
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			var u, p string
			switch strings.ToUpper(mech) {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					if initial, err = tp.ReadLine(); err != nil {
						return
					}
					s.record(n, initial)
				}
				b, _ := base64.StdEncoding.DecodeString(initial)
				parts := strings.Split(string(b), "\x00")
				if len(parts) == 3 {
					u, p = parts[1], parts[2]
				}
			case "LOGIN":
				reply("334 %s", base64.StdEncoding.EncodeToString([]byte("Username:")))
				l1, err := tp.ReadLine()
				if err != nil {
					return
				}
				s.record(n, l1)
				reply("334 %s", base64.StdEncoding.EncodeToString([]byte("Password:")))
				l2, err := tp.ReadLine()
				if err != nil {
					return
				}
				s.record(n, l2)
				bu, _ := base64.StdEncoding.DecodeString(l1)
				bp, _ := base64.StdEncoding.DecodeString(l2)
				u, p = string(bu), string(bp)
			default:
				reply("504 5.5.4 mechanism not supported")
				continue
			}
			if s.opt.User != "" && u == s.opt.User && p == s.opt.Password {
				authed, user = true, u
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 authentication credentials invalid")
			}
		case "MAIL":
			if !authed {
				reply("530 5.7.0 authentication required")
				continue
			}
			from, rcpts = addrArg(arg), nil
			reply("250 2.1.0 ok")
		case "RCPT":
			to := addrArg(arg)
			code := 250
			if s.opt.RcptCode != nil {
				code = s.opt.RcptCode(to)
			}
			if code != 250 {
				reply("%d refused <%s>", code, to)
				continue
			}
			rcpts = append(rcpts, to)
			reply("250 2.1.5 ok")
		case "DATA":
			if from == "" || len(rcpts) == 0 {
				reply("503 5.5.1 need MAIL and RCPT")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m := Message{From: from, To: rcpts, Data: crlf(data), TLS: encrypted, User: user}
			drop := s.opt.DropAfterData != nil && s.opt.DropAfterData(rcpts[0])
			m.Dropped = drop
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			if drop {
				return
			}
			reply("250 2.0.0 queued")
			from, rcpts = "", nil
		case "RSET":
			from, rcpts = "", nil
			reply("250 ok")
		case "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 5.5.2 command not recognised")
		}
	}
}

// crlf turns the "\n" line ends of textproto's ReadDotBytes back into
// CRLF, as they were on the wire.
func crlf(b []byte) []byte {
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out.WriteString(sc.Text())
		out.WriteString("\r\n")
	}
	return []byte(out.String())
}

func addrArg(arg string) string {
	if i := strings.IndexByte(arg, '<'); i >= 0 {
		if j := strings.IndexByte(arg[i:], '>'); j > 0 {
			return arg[i+1 : i+j]
		}
	}
	return arg
}

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool, nil
}
