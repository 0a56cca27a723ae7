// Package auth authenticates members (voters) and staff (organisers and
// scrutineers) — docs/auth.md is the design note.
//
// Members open a personal invitation link (sent by SMS and email), prove
// it is them with a one-time code (texted, or emailed to a member with no
// personal mobile), and may then register a passkey (WebAuthn,
// discoverable credential, user verification required) for later
// sign-ins. Staff sign in with passkeys only; SMS serves their account
// recovery, which a second staff member approves.
//
// Sessions live in PostgreSQL (only the SHA-256 of the 256-bit cookie value
// is stored). [Service.Middleware] loads the session into the request
// context and enforces CSRF protection on every state-changing request;
// other modules use [Member], [Staff], [RequireMember] and [RequireStaff].
// Every authentication step is rate-limited per subject, per IP and
// globally, with counters in PostgreSQL shared by all replicas.
//
// This package MUST NOT import internal/ledger: whoever knows identities
// never touches ballots (docs/architecture.md, enforced by archtest).
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/sms"
)

//go:embed templates/*.html i18n/*.json static/*
var moduleFS embed.FS

// Options are the dependencies of [New].
type Options struct {
	Pool  *pgxpool.Pool
	Log   *slog.Logger
	Pages *page.Pages // templates and catalogues are added; CSRFToken is set
	SMS   sms.Sender
	// Mail sends invitation emails; nil sends none (they are counted as
	// IssueReport.EmailPending).
	Mail mail.Sender
	// PublicURL is the URL members open: WebAuthn RP ID = its host name,
	// origin = scheme://host[:port]; https makes cookies Secure and
	// __Host- prefixed.
	PublicURL *url.URL
	// SecretKey (32 bytes, EBALLOT_SECRET_KEY) derives the keys of
	// invitation tokens, code MACs, CSRF tokens and IP hashes. MUST NOT be
	// logged.
	SecretKey []byte
	// SMSStatusCallback, if set, is passed to the SMS provider for
	// delivery reports.
	SMSStatusCallback string
	Now               func() time.Time // default time.Now
	Rand              io.Reader        // default crypto/rand.Reader
	Limits            *Limits          // default DefaultLimits()
	// BilingualTexts adds a short Welsh line to invitation texts when
	// that takes no more SMS parts than the English text alone (no extra
	// cost); otherwise, and by default, invitation texts are in English.
	// The register records no language preference (docs/auth.md, Welsh).
	// Sign-in code texts follow the language of the page instead.
	BilingualTexts bool
	// TrustedProxies (EBALLOT_TRUSTED_PROXIES) are the address ranges of
	// our own reverse proxies / load balancers: only a request whose peer
	// is in one of them has its client IP taken from X-Forwarded-For
	// (docs/auth.md, Rate limits). Empty: X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
}

// Service is the authentication module. It is a [web.Module].
type Service struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	pages   *page.Pages
	sms     sms.Sender
	mail    mail.Sender
	msgs    page.Catalog // the module's messages, for emails
	public  *url.URL
	origin  string
	secure  bool
	now     func() time.Time
	rand    io.Reader
	limits  Limits
	wa      *webauthn.WebAuthn
	jsURL   string
	js      []byte
	smsCB   string
	trusted []netip.Prefix
	// bilingual: Options.BilingualTexts.
	bilingual bool
	// contacts, if set, gives the contacts frozen at a ballot's opening
	// (contacts.go); credentials go there, never to later edits.
	contacts ContactsFunc
	// ballotOpen, if set, says when pack codes work (pack.go).
	ballotOpen BallotOpenFunc
	// reg and ballots are the owners of the register and of ballots and
	// unions: invitations and sign-in read them through their stores.
	reg     *register.Store
	ballots *election.Store

	inviteKey, otpKey, csrfKey, ipKey, enrolKey, packKey []byte
}

// New builds the service, adds its pages and messages to opt.Pages and
// sets opt.Pages.CSRFToken.
func New(opt Options) (*Service, error) {
	if len(opt.SecretKey) < 32 {
		return nil, errors.New("auth: secret key must be 32 bytes")
	}
	if opt.PublicURL == nil || opt.PublicURL.Hostname() == "" {
		return nil, errors.New("auth: public URL required")
	}
	s := &Service{
		pool: opt.Pool, log: opt.Log, pages: opt.Pages, sms: opt.SMS, mail: opt.Mail, public: opt.PublicURL,
		origin: opt.PublicURL.Scheme + "://" + opt.PublicURL.Host,
		secure: opt.PublicURL.Scheme == "https",
		now:    opt.Now, rand: opt.Rand, smsCB: opt.SMSStatusCallback,
		trusted: opt.TrustedProxies, bilingual: opt.BilingualTexts,
		reg: register.NewStore(opt.Pool, opt.SecretKey), ballots: election.NewStore(opt.Pool),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if opt.Limits != nil {
		s.limits = *opt.Limits
	} else {
		s.limits = DefaultLimits()
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, opt.SecretKey)
		m.Write([]byte("eballot/auth/v1/" + label))
		return m.Sum(nil)
	}
	s.inviteKey, s.otpKey, s.csrfKey, s.ipKey, s.enrolKey = derive("invitation"), derive("otp"), derive("csrf"), derive("ip"), derive("enrol")
	s.packKey = derive("pack")

	wa, err := webauthn.New(&webauthn.Config{
		RPID:          opt.PublicURL.Hostname(),
		RPDisplayName: "Union e-ballot",
		RPOrigins:     []string{s.origin},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTTL, TimeoutUVD: ceremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: webauthn: %w", err)
	}
	s.wa = wa

	if s.msgs, err = loadCatalog(); err != nil {
		return nil, err
	}
	s.js, err = fs.ReadFile(moduleFS, "static/passkey.js")
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	sum := sha256.Sum256(s.js)
	s.jsURL = "/auth/static/passkey." + hex.EncodeToString(sum[:4]) + ".js"

	if s.pages != nil {
		files, err := fs.Glob(moduleFS, "templates/*.html")
		if err != nil {
			return nil, err
		}
		if err := s.pages.AddTemplates(moduleFS, files...); err != nil {
			return nil, err
		}
		if err := s.pages.AddCatalog(moduleFS, "i18n"); err != nil {
			return nil, err
		}
		s.pages.CSRFToken = s.CSRFToken
	}
	return s, nil
}

// Sentinel errors, with their answers (internal/web/page writes them):
// none says whether a member or a number exists.
var (
	// ErrInvalidLink (404): unknown, expired or revoked invitation or
	// enrolment link, or a ballot that is not open.
	ErrInvalidLink = page.NewError("auth: invalid or expired link", http.StatusNotFound, "invalid_link", "auth.link_invalid")
	// ErrInvalidCode (400): wrong, expired or already used one-time code.
	ErrInvalidCode = page.NewError("auth: invalid or expired code", http.StatusBadRequest, "invalid_code", "auth.code_wrong")
	// ErrCodeLocked (400): too many wrong tries on the current code (a new
	// code must be requested).
	ErrCodeLocked = page.NewError("auth: code locked after too many attempts", http.StatusBadRequest, "code_locked", "auth.code_locked")
	// ErrCodeNotSent (503, Retry-After a minute): the text or email
	// provider was unavailable and nothing was sent; the code was withdrawn
	// (it does not count towards the member's codes an hour).
	ErrCodeNotSent = page.NewError("auth: code not sent (provider unavailable)", http.StatusServiceUnavailable, "auth.code_not_sent", "auth.code_not_sent").Wait(time.Minute)
	// ErrRateLimited (429 with Retry-After): see [RateLimitError], which
	// says how long to wait.
	ErrRateLimited = page.NewError("auth: rate limited", http.StatusTooManyRequests, "rate_limited", "auth.limit_retry_one").Wait(time.Minute).Titled("auth.limit_title")
	// ErrPasskey (400): a WebAuthn ceremony failed.
	ErrPasskey = page.NewError("auth: passkey check failed", http.StatusBadRequest, "auth.passkey_failed", "auth.passkey_failed")
	// ErrCloneWarning (403): the authenticator's signature counter went
	// backwards — a possibly cloned key; the sign-in is refused and
	// audited.
	ErrCloneWarning = page.NewError("auth: passkey signature counter regression", http.StatusForbidden, "auth.passkey_failed", "auth.passkey_failed")
	// ErrNotAllowed (403): a staff action not permitted to this actor.
	ErrNotAllowed = page.NewError("auth: not allowed", http.StatusForbidden, "not_allowed", "error.forbidden")

	// errSessionExpired (401): the enrolment session of a passkey ceremony
	// is gone.
	errSessionExpired = page.NewError("auth: sign-in session expired", http.StatusUnauthorized, "auth.expired", "auth.expired")
	// errSignedOut (401): a form or script of a signed-in page was sent
	// after its session expired (the CSRF token was bound to it).
	errSignedOut = page.NewError("auth: session expired", http.StatusUnauthorized, "session_expired", "auth.session_expired")
	// errCSRF (403 forbidden): a state-changing request without a valid
	// CSRF token, or from another origin.
	errCSRF = page.NewError("auth: missing or invalid CSRF token", http.StatusForbidden, "forbidden", "error.csrf")
	// errSessionLookup (503): the session of a request could not be read;
	// nothing is served without it.
	errSessionLookup = page.NewError("auth: session lookup failed", http.StatusServiceUnavailable, "unavailable", "error.unavailable")
)

// RateLimitError says how long to wait. It matches ErrRateLimited.
type RateLimitError struct {
	RetryAfter time.Duration
	Key        string // which limit (e.g. "otp_send:ip"), for logs; no identifiers
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("auth: rate limited (%s), retry after %s", e.Key, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Problem is the answer: 429, "try again in N minutes", Retry-After.
func (e *RateLimitError) Problem() page.Problem {
	p := ErrRateLimited.Problem()
	p.RetryAfter = max(e.RetryAfter, time.Second)
	if mins := (page.RetrySeconds(p.RetryAfter) + 59) / 60; mins != 1 {
		p.Msg = page.M("auth.limit_retry_many", mins)
	}
	return p
}

func (s *Service) randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		panic("auth: random source failed: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return b
}

func sha(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// loadCatalog reads the module's messages (also added to the pages) for
// texts composed outside a page, such as emails.
func loadCatalog() (page.Catalog, error) {
	c := page.Catalog{}
	for _, lang := range page.Languages {
		b, err := fs.ReadFile(moduleFS, "i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("auth: i18n/%s.json: %w", lang, err)
		}
		c[lang] = m
	}
	return c, nil
}
