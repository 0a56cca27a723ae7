// Package outreach is peer-to-peer texting by volunteers during a ballot
// (docs/volunteers.md; issue 25).
//
// An organiser creates a campaign for a ballot with a script and a source
// (who may be texted, per the union's published policy) and invites
// volunteers, each limited to one branch or workplace. A volunteer (a
// staff account of role "volunteer", signed in with internal/auth's
// passkey ceremonies) accepts the code of conduct, claims a small batch of
// members, sees each one's first name and workplace — never a number — and
// sends one message per press. Texts go through internal/gotv's outbox
// ([gotv.Service.SendDirect]): quiet hours, per-member caps, STOP and
// exactly-once are the reminders' own. Replies arrive through gotv's signed
// inbound webhook ([Service.HandleReply]) and land in the conversation of
// the volunteer who texted; tags route postal-pack requests and wrong
// numbers to the organiser's queue.
//
// This package owns the outreach_* tables. It reads members only through
// internal/register's store (first names, workplaces, branches, the frozen
// mobile for routing replies) and turnout only through internal/issuance,
// and only for campaigns whose source the scrutineer approved.
package outreach

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Sources of a campaign's pool (docs/volunteers.md "Who may be texted").
const (
	// SourceSelfReported: members who have not told the union they voted.
	SourceSelfReported = "self_reported"
	// SourceTurnout: members not in the marked register; needs the
	// scrutineer's approval for the ballot (statutory.md §5 D26).
	SourceTurnout = "turnout"
)

// Tags a volunteer may put on a conversation.
var Tags = []string{"voted", "wrong_number", "postal_pack", "opt_out", "needs_help"}

// queued are the tags that put an item in the organiser's queue.
var queued = map[string]bool{"wrong_number": true, "postal_pack": true}

// Canned replies a volunteer may send in a conversation (catalogue keys
// outreach.canned.<name>; the member gets English then Welsh).
var Canned = []string{"thanks", "postal", "help", "sorry"}

// Errors; each documents its HTTP status and shows its catalogue message.
var (
	// ErrForbidden (403): the signed-in person may not do this.
	ErrForbidden = page.NewError("outreach: forbidden", http.StatusForbidden, "forbidden", "outreach.err.forbidden")
	// ErrNotFound (404): no such campaign or conversation for this person
	// (another campaign's or volunteer's is answered the same way).
	ErrNotFound = page.NewError("outreach: not found", http.StatusNotFound, "not_found", "outreach.err.notfound")
	// ErrInvalid (400): a form value is missing, too long or unknown.
	ErrInvalid = page.NewError("outreach: invalid input", http.StatusBadRequest, "invalid", "outreach.err.invalid")
	// ErrOutsideScope (403): a claim outside the volunteer's own branch or
	// workplace.
	ErrOutsideScope = page.NewError("outreach: outside the volunteer's branch or workplace", http.StatusForbidden,
		"outside_scope", "outreach.err.scope")
	// ErrExpired (409): the claim lapsed before a text was sent; the member
	// went back to the pool.
	ErrExpired = page.NewError("outreach: claim expired", http.StatusConflict, "claim_expired", "outreach.err.expired")
	// ErrConduct (409): the code of conduct has not been accepted yet.
	ErrConduct = page.NewError("outreach: code of conduct not accepted", http.StatusConflict, "conduct", "outreach.err.conduct")
	// ErrNoApproval (409): a turnout campaign without the scrutineer's
	// approval for the ballot.
	ErrNoApproval = page.NewError("outreach: turnout use not approved by the scrutineer", http.StatusConflict,
		"not_approved", "outreach.err.approval")
	// ErrAlreadySent (409): the script was already sent in this
	// conversation (answer with a canned reply instead).
	ErrAlreadySent = page.NewError("outreach: already texted", http.StatusConflict, "already_sent", "outreach.err.sent")
	// ErrNotStarted (409): a canned reply before the first text.
	ErrNotStarted = page.NewError("outreach: conversation not started", http.StatusConflict, "not_started", "outreach.err.notstarted")
	// ErrClosed (409): the campaign is closed or its ballot is not open.
	ErrClosed = page.NewError("outreach: campaign closed", http.StatusConflict, "closed", "outreach.err.closed")
	// ErrVoted (409): the member told a volunteer they voted.
	ErrVoted = page.NewError("outreach: member reported voting", http.StatusConflict, "voted", "outreach.err.voted")
)

// Texter is what outreach needs of internal/gotv's outbox.
type Texter interface {
	SendDirect(ctx context.Context, d gotv.Direct) (int64, error)
	Reachable(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]bool, error)
	OptOutMember(ctx context.Context, ballotID, memberID int64) error
	MinCell(ctx context.Context, unionID int64) (int, error)
	// Partition and ReleaseTimes are the turnout release's cells and
	// schedule (a turnout campaign's figures are released with them).
	Partition(ctx context.Context, ballotID int64, otherLabel string) (*gotv.Partition, error)
	ReleaseTimes(ctx context.Context, ballotID int64) ([]time.Time, error)
}

// Register is what outreach reads of members (internal/register's store).
type Register interface {
	People(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]register.Person, error)
	Contact(ctx context.Context, ballotID, memberID int64) (register.Contact, error)
}

// Ballots reads a ballot of a union (internal/election's store).
type Ballots interface {
	AdminBallot(ctx context.Context, id, unionID int64) (*election.AdminBallot, error)
}

// MarkedFunc returns who is in a ballot's marked register
// (internal/issuance Service.Marked). Called only for turnout campaigns.
type MarkedFunc func(ctx context.Context, ballotID int64) (map[int64]bool, error)

// InviteFunc creates a volunteer's staff account (internal/auth
// CreateStaff with RoleVolunteer) and returns its id and one-time
// enrolment link (to register a passkey).
type InviteFunc func(ctx context.Context, unionID int64, name, mobile string) (staffID int64, link string, err error)

// Config tunes the service; zero values take the defaults in brackets.
type Config struct {
	BatchSize int           // members per claim [25]
	ClaimTTL  time.Duration // how long an unsent claim lasts [2h]
}

// Options are the dependencies of [New].
type Options struct {
	Pool     *pgxpool.Pool
	Texter   Texter
	Register Register
	Ballots  Ballots
	Marked   MarkedFunc
	Invite   InviteFunc
	Staff    page.StaffFunc
	Pages    page.Renderer // nil when only the webhook runs
	Log      *slog.Logger
	Now      func() time.Time
	// Key keys the hash of numbers that routes replies (derived from
	// EBALLOT_SECRET_KEY; at least 32 bytes).
	Key    []byte
	Config Config
}

// Service is volunteer texting.
type Service struct {
	pool    *pgxpool.Pool
	texter  Texter
	reg     Register
	ballots Ballots
	marked  MarkedFunc
	invite  InviteFunc
	staff   page.StaffFunc
	pages   page.Renderer
	log     *slog.Logger
	now     func() time.Time
	key     []byte
	cfg     Config
}

// New builds the service.
func New(o Options) (*Service, error) {
	if o.Pool == nil || o.Texter == nil || o.Register == nil || o.Ballots == nil || o.Marked == nil {
		return nil, errors.New("outreach: pool, texter, register, ballots and marked register are required")
	}
	if len(o.Key) < 32 {
		return nil, errors.New("outreach: key must be at least 32 bytes")
	}
	s := &Service{pool: o.Pool, texter: o.Texter, reg: o.Register, ballots: o.Ballots, marked: o.Marked, invite: o.Invite,
		staff: o.Staff, pages: o.Pages, log: o.Log, now: o.Now, key: o.Key, cfg: o.Config}
	if s.cfg.BatchSize < 1 || s.cfg.BatchSize > 25 {
		s.cfg.BatchSize = 25
	}
	if s.cfg.ClaimTTL <= 0 {
		s.cfg.ClaimTTL = 2 * time.Hour
	}
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

// numberMAC is the keyed hash of a number that routes replies.
func (s *Service) numberMAC(number string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("outreach-number-v1\x00" + number))
	return m.Sum(nil)
}
