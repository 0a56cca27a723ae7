package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/unionvote/eballot/internal/devoutbox"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/result"
	"github.com/unionvote/eballot/internal/web/page"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/config"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/ledger"
	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/outreach"
	"github.com/unionvote/eballot/internal/packs"
	"github.com/unionvote/eballot/internal/paper"
	"github.com/unionvote/eballot/internal/refresh"
	"github.com/unionvote/eballot/internal/retention"
	"github.com/unionvote/eballot/internal/sms"
	"github.com/unionvote/eballot/internal/vote"
	"github.com/unionvote/eballot/internal/web"
)

// Service is the whole service wired together: every module over one pool.
type Service struct {
	Pages *page.Pages
	SMS   sms.Sender
	Mail  mail.Sender // nil with EBALLOT_MAIL_PROVIDER=none
	// The development outboxes (EBALLOT_SMS_PROVIDER / MAIL_PROVIDER dev),
	// shown on /dev/outbox; nil otherwise.
	smsOutbox  *sms.Outbox
	mailOutbox *mail.Outbox
	Auth       *auth.Service
	Ledger     *ledger.Ledger
	Ballots    *election.Store
	Register   *register.Store
	Admin      *election.Admin
	Issuance   *issuance.Service
	Paper      *paper.Service
	GOTV       *gotv.Service
	Outreach   *outreach.Service
	Refresh    *refresh.Service
	// After keeps the duties after a ballot's close (result notices,
	// the report deadline); Serve runs its passes.
	After *result.After
	// Retention is the retention service behind the scrutineer's page
	// (the daily job builds its own from the same configuration).
	Retention *retention.Service
	Web       *web.Server
	// Released holds the ballot metrics (ledger, GOTV skips for voters),
	// shown on /metrics only as released on the turnout schedule: Serve
	// runs its clock.
	Released *web.Released
}

// Build constructs every module. Call Close when done.
func Build(cfg *config.Config, log *slog.Logger, pool *pgxpool.Pool, reg *prometheus.Registry) (*Service, error) {
	return build(cfg, log, pool, reg, buildHooks{})
}

// buildHooks are the test seams of build; Build leaves them zero.
type buildHooks struct {
	// twilioClient, if set, carries the Twilio sender's requests (tests
	// point it at internal/sms/smstest: twilio-go has no base-URL option).
	twilioClient *http.Client
	// now, if set, is the clock of every module that decides by the time
	// (tests drive the statutory timeline with it).
	now func() time.Time
	// mail, if set, wraps the mail sender (tests stop a sender in the
	// middle of a send).
	mail func(mail.Sender) mail.Sender
}

func build(cfg *config.Config, log *slog.Logger, pool *pgxpool.Pool, reg *prometheus.Registry, hooks buildHooks) (*Service, error) {
	s := &Service{Released: web.NewReleased()}
	// The legal regimes, with the e-ballot order's commencement day (unset:
	// the table as loaded, with no commencement).
	if cfg.EVotingCommencement != "" {
		if err := election.UseCommencement(cfg.EVotingCommencement); err != nil {
			return nil, fmt.Errorf("EBALLOT_EVOTING_COMMENCEMENT: %w", err)
		}
	}
	var err error
	if s.Pages, err = page.New(log); err != nil {
		return nil, err
	}
	var modules []web.Module
	switch cfg.SMSProvider {
	case "twilio":
		s.SMS, err = sms.NewTwilio(sms.TwilioConfig{
			AccountSID: cfg.Twilio.AccountSID, AuthToken: cfg.Twilio.AuthToken,
			MessagingServiceSID: cfg.Twilio.MessagingServiceSID, From: cfg.Twilio.From,
			StatusCallback: cfg.PublicURL.String() + "/webhooks/twilio/status",
			HTTPClient:     hooks.twilioClient,
		})
	default:
		s.smsOutbox = sms.NewOutbox(pool, log)
		s.SMS = s.smsOutbox
	}
	if err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	if err := s.buildMail(cfg, log, pool); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	if hooks.mail != nil && s.Mail != nil {
		s.Mail = hooks.mail(s.Mail)
	}
	if s.smsOutbox != nil || s.mailOutbox != nil {
		p, err := devoutbox.New(s.smsOutbox, s.mailOutbox, s.Pages)
		if err != nil {
			return nil, err
		}
		modules = append(modules, p)
	}
	if s.Auth, err = auth.New(auth.Options{Pool: pool, Log: log, Pages: s.Pages, SMS: s.SMS, Mail: s.Mail,
		PublicURL: cfg.PublicURL, SecretKey: cfg.SecretKey, TrustedProxies: cfg.TrustedProxies,
		BilingualTexts: cfg.SMSBilingual, Now: hooks.now}); err != nil {
		return nil, err
	}
	if s.Ledger, err = ledger.New(ledger.Options{Pool: pool, Log: log, Registry: s.Released, SecretKey: cfg.SecretKey,
		MaxBatch: cfg.BatchMax, MaxWait: cfg.BatchWait, MinBatch: cfg.BatchMin, MinWait: cfg.BatchMinWait, Now: hooks.now}); err != nil {
		return nil, err
	}
	s.Register = register.NewStore(pool, cfg.SecretKey)
	s.Issuance = issuance.New(pool, cfg.SecretKey)
	s.Issuance.UseKeptCounts(retention.KeptCounts{Pool: pool}) // its totals once the register is deleted
	// The ballot lists' counts come from the tables' owners.
	s.Ballots = election.NewStore(pool, election.RegisterCounter(s.Register), s.Issuance, retention.KeptCounts{Pool: pool})
	s.Admin = election.NewAdmin(s.Ballots, s.Register, cfg.SecretKey, ledger.HandOver{L: s.Ledger})
	if hooks.now != nil {
		s.Issuance.SetClock(hooks.now)
		s.Admin.SetClock(hooks.now)
	}
	s.Auth.UseContacts(authContacts(s.Register)) // frozen at open: credentials and reminders go there
	s.Auth.UseBallotOpen(s.Ballots.VotingOpen)   // when pack codes work (one rule, internal/election)

	member := func(r *http.Request) (int64, bool) { return auth.Member(r.Context()) }
	staff := func(r *http.Request) (page.Staff, bool) {
		st, ok := auth.Staff(r.Context())
		return page.Staff{ID: st.ID, UnionID: st.UnionID, Role: string(st.Role)}, ok
	}
	if err := election.RegisterPages(s.Pages); err != nil {
		return nil, err
	}
	if err := result.RegisterPages(s.Pages); err != nil {
		return nil, err
	}
	if err := result.RegisterAfterPages(s.Pages); err != nil {
		return nil, err
	}
	if err := election.RegisterRecordsPages(s.Pages); err != nil {
		return nil, err
	}
	if err := issuance.RegisterStaffPages(s.Pages); err != nil {
		return nil, err
	}
	if err := issuance.RegisterWorkplacePages(s.Pages); err != nil {
		return nil, err
	}
	if err := retention.RegisterPages(s.Pages); err != nil {
		return nil, err
	}
	if err := paper.RegisterPages(s.Pages); err != nil {
		return nil, err
	}
	if err := packs.RegisterPages(s.Pages); err != nil {
		return nil, err
	}
	s.Paper = paper.New(pool, s.Ledger, s.Issuance)
	period := cfg.RetentionPeriod
	if period == 0 { // a configuration not from config.Load: the default
		period = retention.MinPeriod
	}
	if s.Retention, err = retention.New(pool, period, retention.Others{Ballots: s.Ballots, ResultPublished: s.Ledger.ResultsPublishedAt, Staff: s.Auth,
		Addresses: s.Register}); err != nil {
		return nil, err
	}
	tfs, files, cfs, dir := vote.Templates()
	if err := s.Pages.AddTemplates(tfs, files...); err != nil {
		return nil, err
	}
	if err := s.Pages.AddCatalog(cfs, dir); err != nil {
		return nil, err
	}
	var rec gotv.Reconciler // nil in development: the outbox has nothing to reconcile
	if cfg.SMSProvider == "twilio" {
		r, err := gotv.NewTwilioReconciler(cfg.Twilio.AccountSID, cfg.Twilio.AuthToken, nil)
		if err != nil {
			return nil, err
		}
		rec = r
	}
	tfs, files, cfs, dir = gotv.Templates()
	if err := s.Pages.AddTemplates(tfs, files...); err != nil {
		return nil, err
	}
	if err := s.Pages.AddCatalog(cfs, dir); err != nil {
		return nil, err
	}
	// Replies to volunteers' texts go from gotv's signed inbound webhook
	// to outreach, built below (it sends through gotv).
	replies := func(ctx context.Context, from, body string, at time.Time) error {
		return s.Outreach.HandleReply(ctx, from, body, at)
	}
	if s.GOTV, err = gotv.New(gotv.Options{Pool: pool, Sender: s.SMS, Link: s.Auth.InvitationURL,
		Staff: staff, Replies: replies, Now: hooks.now,
		Pages: s.Pages, Log: log.With("module", "gotv"), Registerer: reg, Released: s.Released, Reconciler: rec, Mobiles: gotvMobiles(s.Register),
		Refresh: refresher{s}, Results: afterNotices{s}, Mail: s.Mail, SecretKey: cfg.SecretKey,
		Config: gotv.Config{PublicURL: cfg.PublicURL.String(), TwilioAuthToken: cfg.Twilio.AuthToken,
			RatePerSecond: cfg.GOTV.RatePerSecond, Burst: cfg.GOTV.Burst,
			QuietStart: cfg.GOTV.QuietStart, QuietEnd: cfg.GOTV.QuietEnd, TimeZone: cfg.GOTV.TimeZone,
			MaxPerDay: cfg.GOTV.MaxPerDay, MaxPerBallot: cfg.GOTV.MaxPerBallot,
			MaxPerCampaign: cfg.GOTV.MaxPerCampaign, PricePerPart: cfg.GOTV.PricePerPart,
			ReplayWindow: cfg.GOTV.ReplayWindow, ReleaseEvery: cfg.GOTV.ReleaseEvery},
	}); err != nil {
		return nil, err
	}
	s.After = result.NewAfter(result.AfterOptions{Pool: pool, Ballots: s.Ballots, Register: s.Register, Outbox: s.GOTV,
		Scrutineers: s.Auth.ScrutineerMobiles, T: s.Pages.T, PublicURL: cfg.PublicURL.String(), Now: hooks.now,
		Log: log.With("module", "after")})
	if s.Outreach, err = buildOutreach(s, pool, log, staff, cfg.SecretKey, hooks.now); err != nil {
		return nil, err
	}
	if err := refresh.RegisterPages(s.Pages); err != nil {
		return nil, err
	}
	if s.Refresh, err = refresh.New(refresh.Options{Pool: pool, Register: s.Register, Outbox: s.GOTV, Codes: s.Auth,
		Policy: s.Ballots.UnionPolicy, Mail: s.Mail, Staff: staff, Pages: s.Pages, Log: log.With("module", "refresh"),
		PublicURL: cfg.PublicURL.String(), Fictional: cfg.SMSProvider == "dev", SecretKey: cfg.SecretKey, Now: hooks.now}); err != nil {
		return nil, err
	}
	iss := issuance.NewHandler(s.Issuance, member, s.Pages)
	modules = append(modules,
		s.Refresh,
		s.Outreach,
		election.NewHomePage(s.Ballots, s.Pages, cfg.SMSProvider == "dev"), // development: drafts are listed
		s.GOTV,
		s.Auth, // with the invitation delivery pages (/scrutineer|organiser/ballots/{id}/invitations)
		iss,
		vote.New(vote.Deps{Ballots: s.Ballots, Register: s.Register, Issuance: s.Issuance, Pages: s.Pages, Member: member,
			CSRF: s.Auth.CSRFToken, SignIn: "/auth/signin", Log: log}),
		election.NewAdminPages(s.Admin, s.Ballots, s.Pages, staff, log),
		result.NewPages(result.New(pool, s.Ballots, ledger.HandOver{L: s.Ledger}, issuedCounts(s.Issuance)),
			s.Admin, s.Ballots, s.Register, s.Pages, staff, cfg.PublicURL.String()),
		election.NewRecordsPages(s.Admin, s.Ballots, s.Pages, staff),
		result.NewAfterPages(s.After, s.Ballots, s.Pages, staff),
		issuance.NewStaffPages(s.Issuance, s.Ballots, s.Pages, staff, log),
		issuance.NewWorkplacePages(s.Issuance, s.Ballots, s.Pages, staff, func(ctx context.Context, name string) (int64, string, error) {
			st, link, err := s.Auth.CreateStaff(ctx, auth.StaffInput{Role: auth.RolePresidingOfficer, Name: name})
			return st.ID, link, err
		}, log),
		paper.NewPages(s.Paper, paperBallot(staff, s.Ballots, s.Pages), s.Pages, log),
		packs.NewPages(packs.Options{Pool: pool, Store: s.Ballots, Register: s.Register, Code: s.Auth.PackCode, URL: s.Auth.PackURL(),
			Pages: s.Pages, Staff: staff, Log: log.With("module", "packs")}),
		retention.NewPages(s.Retention, s.Ballots, s.Pages, staff, log, cfg.Retention),
	)
	if s.Web, err = web.New(web.Options{
		Log: log, DB: pool, Registry: reg, Pages: s.Pages,
		Secure: cfg.Secure(), LargeBodies: LargeBodies,
		Middleware: []func(http.Handler) http.Handler{s.Auth.Middleware},
		Modules:    modules,
		// The public board and the cast: no session, no cookie (protocol §5);
		// the published counts: no session either.
		CookieFree: []web.Module{s.Ledger, iss.Counts()}, CookieFreePrefix: "/ledger/",
		Unlinkable: []string{"/vote/{election}/authorise", "/ledger/v1/{election}/cast"},
		Released:   s.Released,
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// paperBallot is the staff member and ballot of a paper count page
// (internal/paper knows no election module: the ballot comes from here).
func paperBallot(staff page.StaffFunc, store *election.Store, pages page.Renderer) paper.BallotFunc {
	return func(w http.ResponseWriter, r *http.Request, role string) (page.Staff, paper.StaffBallot, bool) {
		s, b, ok := election.StaffBallot(w, r, staff, store, pages, role)
		if !ok {
			return s, paper.StaffBallot{}, false
		}
		return s, paper.StaffBallot{Ballot: paper.Ballot{ID: b.ID, ElectionID: b.ElectionID}, Title: b.Title}, true
	}
}

// buildOutreach builds volunteer texting over gotv's outbox, the
// register's store (first names, workplaces, the frozen mobile for routing
// replies), the marked register (turnout campaigns only) and auth's staff
// accounts (volunteers).
func buildOutreach(s *Service, pool *pgxpool.Pool, log *slog.Logger, staff page.StaffFunc, secret []byte, now func() time.Time) (*outreach.Service, error) {
	tfs, files, cfs, dir := outreach.Templates()
	if err := s.Pages.AddTemplates(tfs, files...); err != nil {
		return nil, err
	}
	if err := s.Pages.AddCatalog(cfs, dir); err != nil {
		return nil, err
	}
	key := hmac.New(sha256.New, secret)
	key.Write([]byte("eballot outreach number key v1"))
	return outreach.New(outreach.Options{Pool: pool, Texter: s.GOTV, Register: s.Register, Ballots: s.Ballots,
		Marked: s.Issuance.Marked, Staff: staff, Pages: s.Pages, Log: log.With("module", "outreach"), Key: key.Sum(nil), Now: now,
		Invite: func(ctx context.Context, unionID int64, name, mobile string) (int64, string, error) {
			st, link, err := s.Auth.CreateStaff(ctx, auth.StaffInput{Role: auth.RoleVolunteer, UnionID: unionID, Name: name, Mobile: mobile})
			return st.ID, link, err
		}})
}

// refresher renders contact-refresh texts for gotv's outbox with the
// refresh service, built after gotv (it queues its texts there).
type refresher struct{ s *Service }

func (r refresher) RefreshText(ctx context.Context, campaignID, memberID int64) (string, string, error) {
	return r.s.Refresh.RefreshText(ctx, campaignID, memberID)
}

func (r refresher) RefreshNumber(ctx context.Context, memberID int64) (string, error) {
	return r.s.Refresh.RefreshNumber(ctx, memberID)
}

func (r refresher) NoticeText(ctx context.Context, noticeID int64) (string, string, error) {
	return r.s.Refresh.NoticeText(ctx, noticeID)
}

// LargeBodies are the routes that accept a body over web.MaxBody.
var LargeBodies = []web.LargeBody{
	{Pattern: "/organiser/ballots/*/register", Max: register.MaxBytes + 1<<20},        // register upload (CSV)
	{Pattern: "/scrutineer/ballots/*/result", Max: result.MaxUpload + 1<<20},          // signed report + partials
	{Pattern: "/scrutineer/ballots/*/result/election", Max: result.MaxUpload + 1<<20}, // a contest's signed election report
	{Pattern: "/organiser/refresh/import", Max: refresh.MaxImport + 1<<20},            // the union's membership file (CSV)
	// a candidate's election address with its photo (union elections, s.48)
	{Pattern: "/organiser/ballots/*/election/contests/*/candidates/*/address", Max: election.MaxPhotoUpload + 1<<20},
}

// Close stops the modules' background work.
func (s *Service) Close() { s.Ledger.Stop() }

// buildMail sets s.Mail from EBALLOT_MAIL_PROVIDER: the SMTP client, or
// the development mail outbox shown on /dev/outbox beside the texts.
func (s *Service) buildMail(cfg *config.Config, log *slog.Logger, pool *pgxpool.Pool) error {
	switch cfg.MailProvider {
	case "smtp":
		c, err := mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
			Username: cfg.SMTP.Username, Password: cfg.SMTP.Password, From: cfg.SMTP.From, HelloName: cfg.PublicURL.Hostname()})
		if err != nil {
			return err
		}
		s.Mail = c
	case "dev":
		mo, err := mail.NewOutbox(pool, log, cfg.SMTP.From)
		if err != nil {
			return err
		}
		s.Mail, s.mailOutbox = mo, mo
	}
	return nil
}

// afterNotices renders the notices after a ballot's close for gotv's
// outbox with result's After, built after gotv (it queues there).
type afterNotices struct{ s *Service }

func (a afterNotices) ResultNotice(ctx context.Context, id int64) (gotv.Notice, error) {
	return a.s.After.ResultNotice(ctx, id)
}
