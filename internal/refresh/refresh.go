// Package refresh is the contact-data refresh before a ballot
// (docs/contact-refresh.md; issue 24): an organiser starts a campaign for
// the union's members (all, a workplace, an employer, or those without a
// verified mobile and email); each member gets a text (or, with no
// mobile, an email) with a personal one-tap link; the member's page (/r/{token}) shows the details held,
// masked, and takes "these are right" in one tap or a short correction; a
// new mobile or email is verified by a code sent to it (internal/auth)
// before it replaces the old one, and the old contact gets a notice. The
// organiser watches coverage by employer and workplace (minimum cell size
// applied) and its trend, exports the changes as CSV for the union's
// membership system and imports that system's file back.
//
// Texts go through internal/gotv's outbox ([gotv.Refresher]): quiet
// hours, the daily cap, STOP and exactly-once sending are the reminders'.
// Emails go through this package's outbox (email.go, refresh_emails) and
// the service's mail sender, at most once each.
// Contact values, their provenance and history are internal/register's
// (contactfields.go); this package owns the refresh_* tables: campaigns,
// links (only their hashes), new contacts waiting for their code, the
// emails' outbox, opt-outs and notices.
package refresh

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Errors; each documents its HTTP status and shows its catalogue message.
var (
	// ErrUnknownLink (404): no such link, or one replaced by a newer text.
	ErrUnknownLink = page.NewError("refresh: unknown link", http.StatusNotFound, "unknown_link", "refresh.err.unknown").Titled("refresh.err.link_title")
	// ErrExpiredLink (410): the link's time is up.
	ErrExpiredLink = page.NewError("refresh: link expired", http.StatusGone, "expired_link", "refresh.err.expired").Titled("refresh.err.link_title")
	// ErrUsedLink (410): the member already confirmed or saved their
	// details with this link.
	ErrUsedLink = page.NewError("refresh: link used", http.StatusGone, "used_link", "refresh.err.used").Titled("refresh.err.used_title")
	// ErrInvalid (400): a campaign form value is missing or wrong.
	ErrInvalid = page.NewError("refresh: invalid input", http.StatusBadRequest, "invalid", "refresh.err.invalid")
	// ErrNotFound (404): no such campaign for this organiser's union.
	ErrNotFound = page.NewError("refresh: not found", http.StatusNotFound, "not_found", "refresh.err.notfound")
	// ErrNoPending (409): a code was entered with no new contact waiting.
	ErrNoPending = page.NewError("refresh: nothing to verify", http.StatusConflict, "nothing_pending", "refresh.err.nopending")
)

// Register is what refresh needs of internal/register's store.
type Register interface {
	Details(ctx context.Context, memberID int64) (*register.Details, error)
	UnionMember(ctx context.Context, unionID int64, memberNumber string) (int64, error)
	UpdateContacts(ctx context.Context, memberID int64, source, actor string, changes []register.Change, confirm []string, at time.Time) error
	RefreshTargets(ctx context.Context, unionID int64, segment, value string) ([]register.Target, error)
	UnionPlaces(ctx context.Context, unionID int64) (workplaces, employers []string, err error)
	Reachability(ctx context.Context, unionID int64) ([]register.Reach, error)
	CoverageTrend(ctx context.Context, unionID int64, times []time.Time) ([]register.CoveragePoint, error)
	ChangesSince(ctx context.Context, unionID int64, since time.Time) ([]register.ExportRow, error)
	ImportUnionFile(ctx context.Context, unionID int64, actor string, rows []register.UnionRow, at time.Time) (register.ImportReport, error)
}

// Outbox is what refresh needs of internal/gotv's outbox.
type Outbox interface {
	EnqueueRefresh(ctx context.Context, campaignID int64, memberIDs []int64, notBefore time.Time) (int, error)
	CancelRefresh(ctx context.Context, campaignID int64) error
	RefreshCounts(ctx context.Context, campaignID int64) (map[string]int, error)
	MinCell(ctx context.Context, unionID int64) (int, error)
	EnqueueNotice(ctx context.Context, noticeID, memberID int64) error
	StoppedNumbers(ctx context.Context, numbers []string) (map[string]bool, error)
}

// Codes sends and checks the codes that verify a new contact
// (internal/auth), with its rate limits.
type Codes interface {
	SendContactCode(r *http.Request, memberID int64, channel, to, lang string) error
	// CheckContactCode is the send limits, checked without counting a
	// try (before the new contact is written).
	CheckContactCode(r *http.Request, memberID int64) error
	VerifyContactCode(r *http.Request, memberID int64, code string) error
	LimitLink(r *http.Request) error
}

// PolicyFunc is a union's employer channels (internal/election).
type PolicyFunc func(ctx context.Context, unionID int64) (register.ContactPolicy, error)

// Options are the dependencies of [New].
type Options struct {
	Pool     *pgxpool.Pool
	Register Register
	Outbox   Outbox
	Codes    Codes
	Policy   PolicyFunc
	// Mail sends the notice of a change to the old email (may be nil: no
	// email notices); the notice to an old mobile goes through Outbox.
	Mail  mail.Sender
	Staff page.StaffFunc
	Pages page.Renderer
	Log   *slog.Logger
	Now   func() time.Time
	// PublicURL is the site's origin, for the links in texts.
	PublicURL string
	// Fictional accepts Ofcom's drama-range numbers as mobiles (the demo
	// and development only).
	Fictional bool
	// SecretKey (32 bytes, EBALLOT_SECRET_KEY) seals the new contacts
	// waiting for their code (refresh_pending).
	SecretKey []byte
}

// Service is the contact refresh.
type Service struct {
	key       []byte // EBALLOT_SECRET_KEY: seals refresh_pending values
	pool      *pgxpool.Pool
	reg       Register
	outbox    Outbox
	codes     Codes
	policy    PolicyFunc
	mail      mail.Sender
	staff     page.StaffFunc
	pages     page.Renderer
	log       *slog.Logger
	now       func() time.Time
	public    string
	fictional bool
}

// New builds the service.
func New(o Options) (*Service, error) {
	if o.Pool == nil || o.Register == nil || o.Outbox == nil || o.Codes == nil || o.Policy == nil || o.Pages == nil {
		return nil, errors.New("refresh: pool, register, outbox, codes, policy and pages are required")
	}
	if o.PublicURL == "" {
		return nil, errors.New("refresh: public URL required")
	}
	if len(o.SecretKey) != 32 {
		return nil, errors.New("refresh: secret key must be 32 bytes")
	}
	s := &Service{pool: o.Pool, reg: o.Register, outbox: o.Outbox, codes: o.Codes, policy: o.Policy, mail: o.Mail,
		staff: o.Staff, pages: o.Pages, log: o.Log, now: o.Now, public: o.PublicURL, fictional: o.Fictional,
		key: o.SecretKey}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.staff == nil {
		s.staff = func(*http.Request) (page.Staff, bool) { return page.Staff{}, false }
	}
	return s, nil
}

// newToken is a link's 256-bit secret (base64url, 43 characters) and the
// SHA-256 kept of it.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("refresh: random source failed: " + err.Error()) // crypto/rand never fails on supported systems
	}
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, tokenHash(t)
}

func tokenHash(t string) []byte {
	h := sha256.Sum256([]byte("eballot refresh link v1\x00" + t))
	return h[:]
}

// validToken: the shape of a token (43 base64url characters).
func validToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}
