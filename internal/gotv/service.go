// Package gotv is turnout tracking and get-out-the-vote reminders
// (docs/gotv.md; design: protocol.md "Turnout and GOTV", statutory.md §5
// D26).
//
// Turnout comes from the marked register only — who has been given an
// authorisation or has a postal return, never how anyone voted — and this
// package MUST NOT import internal/ledger (internal/archtest enforces it).
// Organisers see aggregates with small cells suppressed ([Suppress]); they
// never see which members have not voted unless their union's policy allows
// exporting non-voter lists, and every such export is audited.
//
// Reminders are SMS campaigns sent through a transactional outbox
// (gotv_messages): exactly one message per member and campaign step, to
// members not in the marked register at the moment of sending, outside
// quiet hours, within frequency caps and never after a STOP. See
// [Service.Tick] for the state machine and docs/gotv.md for the
// exactly-once argument.
//
// Start with [New]; serve [Service.Routes] behind the auth middleware (the
// Twilio webhooks under /webhooks/ authenticate with X-Twilio-Signature);
// run [Service.Run] in the background.
package gotv

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"github.com/unionvote/eballot/internal/sealed"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/unionvote/eballot/internal/sms"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed i18n/*.json
var catalogFS embed.FS

// Templates returns the page templates and the message catalogue, for
// web.Pages.AddTemplates and AddCatalog.
func Templates() (tmpl embed.FS, files []string, catalog embed.FS, dir string) {
	return templateFS, []string{"templates/gotv_dashboard.html", "templates/gotv_campaign_new.html",
		"templates/gotv_campaign.html"}, catalogFS, "i18n"
}

// LinkFunc returns a member's personal voting link for a ballot
// (internal/auth's Service.InvitationURL).
type LinkFunc func(ctx context.Context, ballotID, memberID int64) (string, error)

// Attempt is a send whose outcome was not recorded (the process stopped
// between calling the provider and writing the answer).
type Attempt struct {
	Key        string // the row's idempotency key
	To         string // MUST NOT be logged
	BodySHA256 []byte
	StartedAt  time.Time
}

// Reconciler asks the provider whether an [Attempt] was accepted. It MUST
// answer found=false only when the provider certainly did not accept the
// message (the row is then sent again); on any doubt it returns an error
// and the row is set aside as 'unknown', never resent automatically.
type Reconciler interface {
	Lookup(ctx context.Context, a Attempt) (providerID string, found bool, err error)
}

// Config tunes the service. Zero values take the defaults in brackets.
type Config struct {
	// PublicURL is the service's public origin (EBALLOT_PUBLIC_URL), used
	// for status-callback URLs and to validate X-Twilio-Signature.
	PublicURL string
	// TwilioAuthToken validates webhooks; empty → every webhook is refused.
	TwilioAuthToken string
	MinCell         int     // smallest cell shown [10]; a union may raise it
	RatePerSecond   float64 // provider send rate [1]
	Burst           int     // token bucket size [1]
	QuietStart      int     // minutes after midnight when sending may start [9:00]
	QuietEnd        int     // minutes after midnight when sending stops [20:00]
	TimeZone        string  // default member time zone [Europe/London]
	MaxPerDay       int     // reminders per member in any 24 hours [1]
	MaxPerBallot    int     // reminders per member per ballot [3]
	// MaxPerCampaign: texts per member per reminder campaign, over its
	// steps [2]. A volunteer campaign sends a member one capped text (the
	// first of its one conversation; internal/outreach).
	MaxPerCampaign int
	PricePerPart   float64       // price of one SMS part, in pence [4]
	LinkLength     int           // length of a personal link, for estimates [len(PublicURL)+46]
	Lease          time.Duration // how long a claim lasts [2m]
	Batch          int           // rows claimed at a time [50]
	PollInterval   time.Duration // worker idle sleep [2s]
	// ReplayWindow is how long a processed webhook's event id is kept to
	// refuse its replay, and how old a delivery report may be [168h].
	ReplayWindow time.Duration
	// ReleaseEvery is the turnout release schedule, whole hours [1h]
	// (release.go).
	ReleaseEvery time.Duration
}

// DefaultReplayWindow is the default [Config.ReplayWindow]: a week, far
// longer than a provider retries a webhook.
const DefaultReplayWindow = 7 * 24 * time.Hour

func (c *Config) defaults() {
	if c.MinCell < 2 {
		c.MinCell = DefaultMinCell
	}
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = 1
	}
	if c.Burst < 1 {
		c.Burst = 1
	}
	if c.QuietStart == 0 && c.QuietEnd == 0 {
		c.QuietStart, c.QuietEnd = 9*60, 20*60
	}
	if c.TimeZone == "" {
		c.TimeZone = "Europe/London"
	}
	if c.MaxPerDay < 1 {
		c.MaxPerDay = 1
	}
	if c.MaxPerBallot < 1 {
		c.MaxPerBallot = 3
	}
	if c.MaxPerCampaign < 1 {
		c.MaxPerCampaign = 2
	}
	if c.PricePerPart <= 0 {
		c.PricePerPart = 4
	}
	if c.LinkLength <= 0 {
		c.LinkLength = len(c.PublicURL) + 3 + 43
	}
	if c.ReleaseEvery < time.Hour {
		c.ReleaseEvery = DefaultReleaseEvery
	}
	c.ReleaseEvery = c.ReleaseEvery.Truncate(time.Hour)
	if c.ReplayWindow <= 0 {
		c.ReplayWindow = DefaultReplayWindow
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Batch < 1 {
		c.Batch = 50
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
}

// Options are the dependencies of [New].
type Options struct {
	Pool       *pgxpool.Pool
	Sender     sms.Sender
	Link       LinkFunc
	Staff      page.StaffFunc
	Pages      page.Renderer // may be nil when only the worker runs
	Log        *slog.Logger
	Registerer prometheus.Registerer // nil → metrics are not registered
	// Released, if set, holds the counters that follow turnout (reminders
	// skipped because the member voted): shown only as released on the
	// turnout schedule (internal/web Released), never live.
	Released   prometheus.Registerer
	Reconciler Reconciler       // optional
	Now        func() time.Time // clock, for tests [time.Now]
	Config     Config
	// Mobiles, if set, gives the mobiles of members of a ballot as frozen
	// when it opened (internal/election Contacts): reminders go there,
	// never to a number changed later by an import to another ballot.
	Mobiles MobilesFunc
	// Replies, if set, receives every signed inbound text after the
	// STOP/START handling (internal/outreach's conversations).
	Replies ReplyFunc
	// Refresh, if set, renders contact-refresh texts (internal/refresh;
	// refresh.go): without it such rows wait.
	Refresh Refresher
	// Results, if set, renders the notices after a ballot's close
	// (internal/result; results.go): without it such rows wait.
	Results ResultNotices
	// Mail sends the notices that go by email (results.go); nil: they
	// are skipped ("no_mail").
	Mail mail.Sender
	// SecretKey (32 bytes, EBALLOT_SECRET_KEY) keys the blind index of
	// the opted-out numbers (optouts.go): gotv_optouts holds no number.
	SecretKey []byte
}

// MobilesFunc returns, for members of a ballot, their mobile ("" none).
type MobilesFunc func(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]string, error)

// Service is turnout and reminders.
type Service struct {
	pool   *pgxpool.Pool
	sender sms.Sender
	link   LinkFunc
	staff  page.StaffFunc
	pages  page.Renderer
	log    *slog.Logger
	rec    Reconciler
	now    func() time.Time
	cfg    Config
	tz     *time.Location
	bucket *bucket
	m      *metrics
	// optoutKey keys the blind index of numbers (optouts.go).
	optoutKey []byte
	// legacyOptoutKey keys the index of opt-outs recorded before the
	// purposes were separated (the mobile's, optouts.go).
	legacyOptoutKey []byte

	// afterSend, in tests, runs between the provider's answer and the
	// database record; returning true simulates a crash there.
	afterSend func(memberID int64) bool
	mobiles   MobilesFunc
	replies   ReplyFunc
	refresh   Refresher
	results   ResultNotices
	mail      mail.Sender

	// The owners of the tables turnout and reminders read: ballots,
	// the register (which opens the members' sealed names; the frozen
	// contacts come from mobiles) and the marked register.
	ballots *election.Store
	reg     *register.Store
	marks   *issuance.Marks
}

// New builds the service.
func New(opt Options) (*Service, error) {
	if opt.Pool == nil || opt.Sender == nil || opt.Link == nil {
		return nil, errors.New("gotv: pool, sender and link function are required")
	}
	if len(opt.SecretKey) != 32 {
		return nil, errors.New("gotv: secret key must be 32 bytes")
	}
	cfg := opt.Config
	cfg.defaults()
	tz, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("gotv: time zone: %w", err)
	}
	if cfg.QuietStart < 0 || cfg.QuietEnd > 24*60 || cfg.QuietStart >= cfg.QuietEnd {
		return nil, errors.New("gotv: quiet hours must satisfy 0 ≤ start < end ≤ 24:00")
	}
	s := &Service{pool: opt.Pool, sender: opt.Sender, link: opt.Link, staff: opt.Staff, pages: opt.Pages, log: opt.Log,
		rec: opt.Reconciler, now: opt.Now, cfg: cfg, tz: tz, m: newMetrics(opt.Registerer, opt.Released), mobiles: opt.Mobiles,
		replies: opt.Replies, refresh: opt.Refresh, results: opt.Results, mail: opt.Mail,
		ballots: election.NewStore(opt.Pool), reg: register.NewStore(opt.Pool, opt.SecretKey), marks: issuance.NewMarks(opt.Pool),
		optoutKey: sealed.DeriveKey(opt.SecretKey, sealed.PurposeOptOut), legacyOptoutKey: sealed.DeriveKey(opt.SecretKey, sealed.PurposeMobile)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.staff == nil {
		s.staff = func(*http.Request) (page.Staff, bool) { return page.Staff{}, false }
	}
	s.bucket = newBucket(cfg.RatePerSecond, cfg.Burst)
	return s, nil
}

type metrics struct {
	sent     prometheus.Counter
	failed   *prometheus.CounterVec
	deferred *prometheus.CounterVec
	skipped  *prometheus.CounterVec
	queue    prometheus.Gauge
	delivery *prometheus.CounterVec
}

func newMetrics(reg, released prometheus.Registerer) *metrics {
	m := &metrics{
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "gotv_messages_sent_total",
			Help: "Reminders accepted by the SMS provider."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gotv_messages_failed_total",
			Help: "Reminders that failed, by reason."}, []string{"reason"}),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gotv_messages_deferred_total",
			Help: "Reminders deferred, by reason (quiet hours, daily cap, provider unavailable)."}, []string{"reason"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gotv_messages_skipped_total",
			Help: "Reminders not sent, by reason (voted, opted out, …)."}, []string{"reason"}),
		queue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gotv_queue_depth",
			Help: "Reminders pending or being sent."}),
		delivery: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gotv_delivery_reports_total",
			Help: "Delivery reports applied, by status."}, []string{"status"}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.deferred, m.queue, m.delivery)
	}
	if released != nil {
		released.MustRegister(m.skipped)
	}
	return m
}

// bucket is a token bucket: rate tokens per second, at most burst saved.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
}

func newBucket(rate float64, burst int) *bucket {
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Wait takes one token, sleeping until one is available.
func (b *bucket) Wait(ctx context.Context) error {
	for {
		b.mu.Lock()
		now := b.now()
		if !b.last.IsZero() {
			b.tokens += now.Sub(b.last).Seconds() * b.rate
			if b.tokens > b.burst {
				b.tokens = b.burst
			}
		}
		b.last = now
		if b.tokens >= 1 {
			b.tokens--
			b.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
		b.mu.Unlock()
		if err := b.sleep(ctx, wait); err != nil {
			return err
		}
	}
}
