// Package config reads the service's configuration from the environment into
// one struct, validated once at start-up. Every variable, its default and its
// meaning is listed in [Vars] (and in docs/configuration.md, generated from
// the same table by a test that keeps them equal).
package config

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of ballotd.
type Config struct {
	DatabaseURL string
	Addr        string // host:port to listen on
	// DebugAddr, when set, is a loopback host:port serving Go's profiler
	// (/debug/pprof/) for performance work; empty (the default) is off.
	DebugAddr string
	// MetricsAddr is the host:port of the Prometheus /metrics listener,
	// never the public one; "" is off.
	MetricsAddr     string
	PublicURL       *url.URL
	LogFormat       string // text or json
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	DBConnectWait   time.Duration

	// SecretKey encrypts private keys (issuer and ledger keys) and frozen
	// contacts at rest, and keys the blind indexes (internal/sealed).
	// MUST NOT be logged.
	SecretKey []byte

	SMSProvider string // "dev" (outbox in PostgreSQL) or "twilio"
	// SMSBilingual adds a Welsh line to invitation texts when it costs no
	// extra SMS part (EBALLOT_SMS_BILINGUAL=on).
	SMSBilingual bool
	Twilio       Twilio

	// TrustedProxies are our reverse proxies' address ranges: only from
	// them is X-Forwarded-For believed (per-IP rate limits).
	TrustedProxies []netip.Prefix

	MailProvider string // "dev" (outbox in PostgreSQL), "smtp" or "none"
	SMTP         SMTP

	GOTV GOTV

	// BatchMax (K) and BatchWait (T): the ledger closes a batch of casts
	// after K casts or T after its first, whichever comes first, and
	// appends it in a random order (internal/ledger). BatchMin (M) and
	// BatchMinWait (T_min): it also closes a batch that holds M casts once
	// it is T_min old (busy hours; BatchMin 0: never).
	BatchMax     int
	BatchWait    time.Duration
	BatchMin     int
	BatchMinWait time.Duration

	// RetentionPeriod is how long a published ballot's personal data is
	// kept after its result was announced (TULRCA s.49(3)(d), s.75(3)(d):
	// at least one year; internal/retention).
	RetentionPeriod time.Duration
	// Retention is what serve does about ballots due for deletion once a
	// day: "off", "report" (log them) or "apply" (delete them).
	Retention string

	// EVotingCommencement is the day (YYYY-MM-DD, Europe/London) the
	// e-ballot order (electronic, hybrid and workplace voting in statutory
	// ballots) and the ERA25 repeal of the 50% turnout threshold came into
	// force, "" while they are not: not fixed in statute, so configured
	// (internal/election regimes.json, "commencement").
	EVotingCommencement string
}

// MinRetention is the shortest retention period accepted: one year from
// the announcement of the result (TULRCA s.49(3)(d), s.75(3)(d);
// statutory.md §5 F39).
const MinRetention = 8760 * time.Hour

// GOTV tunes the SMS reminder campaigns (internal/gotv). Zero values mean
// the defaults documented in [Vars].
type GOTV struct {
	RatePerSecond  float64 // messages handed to the provider per second
	Burst          int     // token bucket size
	QuietStart     int     // minutes after midnight, member's local time, when sending may start
	QuietEnd       int     // minutes after midnight when sending stops
	TimeZone       string  // IANA zone for members without one
	MaxPerDay      int     // reminders per member in any 24 hours
	MaxPerBallot   int     // reminders per member per ballot
	MaxPerCampaign int     // reminders per member per campaign
	PricePerPart   float64 // price of one SMS part in pence, for cost estimates
	// ReplayWindow: processed webhooks are remembered this long (replays
	// refused), and delivery reports older than it are refused.
	ReplayWindow time.Duration
	// ReleaseEvery is the turnout release schedule: organisers see turnout
	// only as released at these snapshots (whole hours; issue 21).
	ReleaseEvery time.Duration
}

// SMTP is the submission server for emails. Password MUST NOT be logged.
type SMTP struct {
	Host               string
	Port               int
	TLS                string // starttls, tls or none (localhost only)
	Username, Password string
	From               string // "Name <address>" or an address
}

// Twilio holds the Twilio Messaging credentials. MUST NOT be logged.
type Twilio struct {
	AccountSID, AuthToken, MessagingServiceSID, From string
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Help string
}

// Vars lists every environment variable ballotd reads.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL URL or DSN (required). `make run` sets it to the local cluster in ./.data unless you set it yourself."},
	{"EBALLOT_ADDR", "127.0.0.1:8080", "host:port the HTTP server listens on."},
	{"EBALLOT_DEBUG_ADDR", "", "off when empty. A loopback host:port (127.0.0.1:6060, [::1]:6060 or localhost:6060) that serves Go's profiler at /debug/pprof/ on its own listener, for performance work (`make bench-system` uses it); never the public address. Other hosts are refused: profiles show memory contents such as request data."},
	{"EBALLOT_METRICS_ADDR", "127.0.0.1:9464", "host:port of the listener that serves Prometheus metrics at /metrics, separate from EBALLOT_ADDR (the public listener has no /metrics). Loopback by default; set a private address (e.g. 10.0.0.5:9464) for a scraper on another host, never a public one, or off. Ballot counters (ledger appends, reminders skipped because the member voted) are shown only as released each hour, no finer than the turnout organisers see."},
	{"EBALLOT_PUBLIC_URL", "http://localhost:<port of EBALLOT_ADDR>", "the URL members and organisers open (scheme, host, optional port; no path). https enables HSTS and Secure cookies."},
	{"EBALLOT_LOG_FORMAT", "text", "log format: text or json."},
	{"EBALLOT_LOG_LEVEL", "info", "log level: debug, info, warn or error."},
	{"EBALLOT_SHUTDOWN_TIMEOUT", "15s", "how long a SIGTERM/SIGINT waits for requests in flight."},
	{"EBALLOT_DB_CONNECT_WAIT", "10s", "how long start-up waits for the database before giving up."},
	{"EBALLOT_SECRET_KEY", "", "32 random bytes, hex or base64, that encrypt private keys and frozen contacts at rest and key the blind indexes of member numbers, mobiles and opt-outs (required; `make run` generates one in ./.data/secret-key). Keep it out of logs and backups of the database; it cannot be changed once data exists."},
	{"EBALLOT_SMS_PROVIDER", "dev", "dev (messages kept in PostgreSQL and shown on the development outbox page) or twilio."},
	{"EBALLOT_SMS_BILINGUAL", "off", "on: invitation texts add a short Welsh line to the English when that needs no more SMS parts than the English alone (the register records no language preference; sign-in codes follow the page's language anyway). off: English invitations."},
	{"TWILIO_ACCOUNT_SID", "", "Twilio account SID (AC…), required with EBALLOT_SMS_PROVIDER=twilio."},
	{"TWILIO_AUTH_TOKEN", "", "Twilio auth token, required with twilio; also validates webhook signatures."},
	{"TWILIO_MESSAGING_SERVICE_SID", "", "Twilio Messaging Service SID (MG…); or set TWILIO_FROM."},
	{"TWILIO_FROM", "", "sender number in E.164 when no messaging service is used."},
	{"EBALLOT_TRUSTED_PROXIES", "none", "comma-separated CIDR ranges (or single addresses) of your own reverse proxies or load balancers. Only a request whose connection comes from one of them has its client address taken from X-Forwarded-For (the rightmost address not in these ranges); otherwise X-Forwarded-For is ignored. Used by the per-IP rate limits."},
	{"EBALLOT_MAIL_PROVIDER", "dev with an http public URL, none with https", "dev (emails kept in PostgreSQL and shown on the development outbox page; refused with https), smtp (sent through EBALLOT_SMTP_HOST) or none (invitations go by text only)."},
	{"EBALLOT_SMTP_HOST", "", "SMTP submission server host name, required with smtp; its TLS certificate must be valid for this name."},
	{"EBALLOT_SMTP_PORT", "587 (465 with tls, 25 with none)", "SMTP server port."},
	{"EBALLOT_SMTP_TLS", "starttls", "starttls (STARTTLS required: never sends in clear), tls (implicit TLS, usually port 465) or none (no TLS: only allowed when EBALLOT_SMTP_HOST is localhost or a loopback address)."},
	{"EBALLOT_SMTP_USERNAME", "", "SMTP user name (AUTH PLAIN or LOGIN, only over TLS or to localhost); set with EBALLOT_SMTP_PASSWORD, or neither."},
	{"EBALLOT_SMTP_PASSWORD", "", "SMTP password. Keep it out of logs."},
	{"EBALLOT_BATCH_MAX", "256", "K: the ledger closes a batch of casts once it holds this many (1 to 4096). Each batch is appended in one transaction in a random order, so the ledger's order, row placement and transaction ids show only which batch a ballot is in."},
	{"EBALLOT_BATCH_WAIT", "1s", "T: the ledger closes a batch this long after its first cast when it has fewer than EBALLOT_BATCH_MAX (1ms to 1.5s; a member's receipt waits at most this plus one commit). Longer hides more ballots in each batch in quiet hours (docs/threat-model.md)."},
	{"EBALLOT_BATCH_MIN", "32 (or EBALLOT_BATCH_MAX if smaller)", "M: the ledger also closes a batch that holds at least this many casts once it is EBALLOT_BATCH_MIN_WAIT old (1 to EBALLOT_BATCH_MAX). So a ballot's batch holds at least M casts whenever M arrive within EBALLOT_BATCH_WAIT, and at busy times (M/EBALLOT_BATCH_MIN_WAIT casts a second or more: 213 with the defaults) the receipt waits only EBALLOT_BATCH_MIN_WAIT. EBALLOT_BATCH_MIN equal to EBALLOT_BATCH_MAX turns this off."},
	{"EBALLOT_BATCH_MIN_WAIT", "150ms (or EBALLOT_BATCH_WAIT if shorter)", "T_min: how old a batch of at least EBALLOT_BATCH_MIN casts must be before it closes (1ms to EBALLOT_BATCH_WAIT). With 150ms a cast waits at most 150 ms for its batch at 213 casts a second or more, leaving about 100 ms of the 250 ms p99 target for verification and commit (docs/benchmarks.md)."},
	{"EBALLOT_GOTV_RATE", "1", "reminder texts handed to the SMS provider per second (your Twilio sender's throughput)."},
	{"EBALLOT_GOTV_BURST", "1", "how many reminder texts may go at once before the rate applies."},
	{"EBALLOT_GOTV_QUIET_HOURS", "09:00-20:00", "local sending window HH:MM-HH:MM: reminders wait outside it (unsocial-hours courtesy; a campaign never texts at night)."},
	{"EBALLOT_GOTV_TIMEZONE", "Europe/London", "IANA time zone of the sending window."},
	{"EBALLOT_GOTV_MAX_PER_DAY", "1", "reminders per member in any 24 hours, across all campaigns."},
	{"EBALLOT_GOTV_MAX_PER_BALLOT", "3", "reminders per member per ballot."},
	{"EBALLOT_GOTV_MAX_PER_CAMPAIGN", "2", "texts per member per reminder campaign (over its steps; a volunteer campaign sends a member one such text)."},
	{"EBALLOT_TURNOUT_RELEASE_EVERY", "1h", "how often turnout is released to organisers (whole hours, 1h to 24h): every figure that depends on who has voted is shown only as of the last snapshot, from the opening hour on this schedule (docs/threat-model.md \"Turnout release\")."},
	{"EBALLOT_GOTV_PRICE_PENCE", "4", "price of one SMS part in pence, used for the cost estimate shown before sending."},
	{"EBALLOT_WEBHOOK_REPLAY_WINDOW", "168h", "how long the SMS provider's processed webhooks are remembered by message id so that a replayed one changes nothing (at least 1h); delivery reports whose signed send time is older than this, or in the future, are refused."},
	{"EBALLOT_RETENTION_PERIOD", "8760h", "how long a ballot's personal data (register, contacts, marked register, sign-in and reminder records) is kept after its result is published; at least 8760h (one year, TULRCA s.49(3)(d), s.75(3)(d)), and never less than one calendar year. Holds (complaints) extend it."},
	{"EBALLOT_RETENTION", "report", "what serve does once a day about ballots past their retention period: off, report (log them, no personal data) or apply (delete their personal data, as `ballotd retention --apply`)."},
	{"EBALLOT_EVOTING_COMMENCEMENT", "", "the day (YYYY-MM-DD, Europe/London) the e-ballot order and the ERA 2025 repeal of the 50% turnout threshold (s.226(2)(a)(iia)) came into force; ballots opening from that day follow the regime from commencement (no turnout threshold; electronic, hybrid and workplace voting permitted). Empty: not in force, ballots follow the ERA 2025 regime of 18 Feb 2026. Set it only from the commencement order as made (docs/ballots.md \"Legal regimes\")."},
	{"EBALLOT_SMTP_FROM", "Union e-ballot <no-reply@host of EBALLOT_PUBLIC_URL> (dev only)", "sender of emails, an address or Name <address>; required with smtp."},
}

// Error is a configuration error naming the variable at fault.
type Error struct {
	Var, Msg string
}

func (e *Error) Error() string { return "config: " + e.Var + ": " + e.Msg }

// Load reads the configuration through getenv (os.Getenv in production) and
// validates it. The error names the first variable at fault.
func Load(getenv func(string) string) (*Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &Config{}

	c.DatabaseURL = get("DATABASE_URL", "")
	if c.DatabaseURL == "" {
		return nil, &Error{"DATABASE_URL", "not set (run `make run`, which starts a local PostgreSQL, or set it to your database)"}
	}
	if !validDatabaseURL(c.DatabaseURL) {
		return nil, &Error{"DATABASE_URL", "not a PostgreSQL URL (postgres://…) or key=value DSN"}
	}

	c.Addr = get("EBALLOT_ADDR", "127.0.0.1:8080")
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return nil, &Error{"EBALLOT_ADDR", fmt.Sprintf("%q is not host:port", c.Addr)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return nil, &Error{"EBALLOT_ADDR", fmt.Sprintf("port %q is not a number from 0 to 65535", port)}
	}

	if c.DebugAddr, err = debugAddr(get("EBALLOT_DEBUG_ADDR", ""), c.Addr); err != nil {
		return nil, err
	}

	if c.MetricsAddr, err = metricsAddr(get("EBALLOT_METRICS_ADDR", "127.0.0.1:9464"), c.Addr, c.DebugAddr); err != nil {
		return nil, err
	}

	pub := get("EBALLOT_PUBLIC_URL", "")
	if pub == "" {
		h := host
		if h == "" || h == "127.0.0.1" || h == "0.0.0.0" || h == "::" || h == "::1" {
			h = "localhost"
		}
		pub = "http://" + net.JoinHostPort(h, port)
	}
	u, err := url.Parse(pub)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, &Error{"EBALLOT_PUBLIC_URL", fmt.Sprintf("%q must be http(s)://host[:port] with no path, query or user", pub)}
	}
	u.Path = ""
	c.PublicURL = u

	c.LogFormat = get("EBALLOT_LOG_FORMAT", "text")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, &Error{"EBALLOT_LOG_FORMAT", fmt.Sprintf("%q is not text or json", c.LogFormat)}
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("EBALLOT_LOG_LEVEL", "info"))); err != nil {
		return nil, &Error{"EBALLOT_LOG_LEVEL", "not one of debug, info, warn, error"}
	}
	if c.ShutdownTimeout, err = duration(get, "EBALLOT_SHUTDOWN_TIMEOUT", "15s"); err != nil {
		return nil, err
	}
	if c.DBConnectWait, err = duration(get, "EBALLOT_DB_CONNECT_WAIT", "10s"); err != nil {
		return nil, err
	}
	if c.SecretKey, err = secretKey(get("EBALLOT_SECRET_KEY", "")); err != nil {
		return nil, err
	}
	c.SMSProvider = get("EBALLOT_SMS_PROVIDER", "dev")
	switch c.SMSProvider {
	case "dev":
		if c.Secure() {
			return nil, &Error{"EBALLOT_SMS_PROVIDER", "dev keeps messages in the database and is for local development only; use twilio with an https EBALLOT_PUBLIC_URL"}
		}
	case "twilio":
		c.Twilio = Twilio{
			AccountSID:          get("TWILIO_ACCOUNT_SID", ""),
			AuthToken:           get("TWILIO_AUTH_TOKEN", ""),
			MessagingServiceSID: get("TWILIO_MESSAGING_SERVICE_SID", ""),
			From:                get("TWILIO_FROM", ""),
		}
		if !strings.HasPrefix(c.Twilio.AccountSID, "AC") || len(c.Twilio.AccountSID) != 34 {
			return nil, &Error{"TWILIO_ACCOUNT_SID", "must be the 34-character account SID starting AC"}
		}
		if len(c.Twilio.AuthToken) < 16 {
			return nil, &Error{"TWILIO_AUTH_TOKEN", "not set or too short"}
		}
		if c.Twilio.MessagingServiceSID == "" && c.Twilio.From == "" {
			return nil, &Error{"TWILIO_MESSAGING_SERVICE_SID", "set it (MG…) or TWILIO_FROM"}
		}
		if c.Twilio.MessagingServiceSID != "" && !strings.HasPrefix(c.Twilio.MessagingServiceSID, "MG") {
			return nil, &Error{"TWILIO_MESSAGING_SERVICE_SID", "must start MG"}
		}
	default:
		return nil, &Error{"EBALLOT_SMS_PROVIDER", fmt.Sprintf("%q is not dev or twilio", c.SMSProvider)}
	}
	switch v := get("EBALLOT_SMS_BILINGUAL", "off"); v {
	case "on":
		c.SMSBilingual = true
	case "off":
	default:
		return nil, &Error{"EBALLOT_SMS_BILINGUAL", fmt.Sprintf("%q is not on or off", v)}
	}
	if c.TrustedProxies, err = trustedProxies(get("EBALLOT_TRUSTED_PROXIES", "")); err != nil {
		return nil, err
	}
	if err := c.loadMail(get); err != nil {
		return nil, err
	}
	if err := c.loadGOTV(get); err != nil {
		return nil, err
	}
	if err := c.loadRetention(get); err != nil {
		return nil, err
	}
	if err := c.loadBatch(get); err != nil {
		return nil, err
	}
	c.EVotingCommencement = get("EBALLOT_EVOTING_COMMENCEMENT", "")
	if v := c.EVotingCommencement; v != "" {
		if d, err := time.Parse("2006-01-02", v); err != nil {
			return nil, &Error{"EBALLOT_EVOTING_COMMENCEMENT", fmt.Sprintf("%q is not a date YYYY-MM-DD", v)}
		} else if !d.After(time.Date(2026, 2, 18, 0, 0, 0, 0, time.UTC)) {
			return nil, &Error{"EBALLOT_EVOTING_COMMENCEMENT", fmt.Sprintf("%q is not after 18 Feb 2026, when the ERA 2025 regime began (the order came later)", v)}
		}
	}
	return c, nil
}

func (c *Config) loadGOTV(get func(string, string) string) error {
	g := &c.GOTV
	num := func(name, def string, lo, hi float64) (float64, error) {
		v := get(name, def)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f != f || f < lo || f > hi {
			return 0, &Error{name, fmt.Sprintf("%q is not a number from %g to %g", v, lo, hi)}
		}
		return f, nil
	}
	integer := func(name, def string, lo, hi int) (int, error) {
		v := get(name, def)
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, &Error{name, fmt.Sprintf("%q is not a whole number from %d to %d", v, lo, hi)}
		}
		return n, nil
	}
	var err error
	if g.RatePerSecond, err = num("EBALLOT_GOTV_RATE", "1", 0.01, 10000); err != nil {
		return err
	}
	if g.Burst, err = integer("EBALLOT_GOTV_BURST", "1", 1, 10000); err != nil {
		return err
	}
	q := get("EBALLOT_GOTV_QUIET_HOURS", "09:00-20:00")
	from, to, ok := strings.Cut(q, "-")
	start, ok1 := clock(from)
	end, ok2 := clock(to)
	if !ok || !ok1 || !ok2 || start >= end {
		return &Error{"EBALLOT_GOTV_QUIET_HOURS", fmt.Sprintf("%q is not a sending window HH:MM-HH:MM with the start before the end (e.g. 09:00-20:00)", q)}
	}
	g.QuietStart, g.QuietEnd = start, end
	g.TimeZone = get("EBALLOT_GOTV_TIMEZONE", "Europe/London")
	if _, err := time.LoadLocation(g.TimeZone); err != nil || g.TimeZone == "Local" {
		return &Error{"EBALLOT_GOTV_TIMEZONE", fmt.Sprintf("%q is not an IANA time zone (e.g. Europe/London)", g.TimeZone)}
	}
	if g.MaxPerDay, err = integer("EBALLOT_GOTV_MAX_PER_DAY", "1", 1, 24); err != nil {
		return err
	}
	if g.MaxPerBallot, err = integer("EBALLOT_GOTV_MAX_PER_BALLOT", "3", 1, 100); err != nil {
		return err
	}
	if g.MaxPerCampaign, err = integer("EBALLOT_GOTV_MAX_PER_CAMPAIGN", "2", 1, 5); err != nil {
		return err
	}
	if g.PricePerPart, err = num("EBALLOT_GOTV_PRICE_PENCE", "4", 0.01, 1000); err != nil {
		return err
	}
	v := get("EBALLOT_TURNOUT_RELEASE_EVERY", "1h")
	if g.ReleaseEvery, err = time.ParseDuration(v); err != nil || g.ReleaseEvery < time.Hour || g.ReleaseEvery > 24*time.Hour ||
		g.ReleaseEvery%time.Hour != 0 {
		return &Error{"EBALLOT_TURNOUT_RELEASE_EVERY", fmt.Sprintf("%q is not a whole number of hours from 1h to 24h (the marked register keeps the hour only)", v)}
	}
	v = get("EBALLOT_WEBHOOK_REPLAY_WINDOW", "168h")
	if g.ReplayWindow, err = time.ParseDuration(v); err != nil || g.ReplayWindow < time.Hour || g.ReplayWindow > 8760*time.Hour {
		return &Error{"EBALLOT_WEBHOOK_REPLAY_WINDOW", fmt.Sprintf("%q is not a duration from 1h (the provider retries webhooks for hours) to 8760h", v)}
	}
	return nil
}

// loadBatch reads the ledger's batch bounds: K casts or T seconds, and M
// casts at T_min.
func (c *Config) loadBatch(get func(string, string) string) error {
	v := get("EBALLOT_BATCH_MAX", "256")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 4096 {
		return &Error{"EBALLOT_BATCH_MAX", fmt.Sprintf("%q is not a whole number from 1 to 4096", v)}
	}
	c.BatchMax = n
	v = get("EBALLOT_BATCH_WAIT", "1s")
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Millisecond || d > 1500*time.Millisecond {
		return &Error{"EBALLOT_BATCH_WAIT", fmt.Sprintf("%q is not a duration from 1ms to 1.5s (the member waits for the receipt)", v)}
	}
	c.BatchWait = d
	// M and T_min default to 32 and 150ms, within K and T when those are
	// set lower; set explicitly they must be within them.
	v = get("EBALLOT_BATCH_MIN", strconv.Itoa(min(32, c.BatchMax)))
	if n, err = strconv.Atoi(v); err != nil || n < 1 || n > c.BatchMax {
		return &Error{"EBALLOT_BATCH_MIN", fmt.Sprintf("%q is not a whole number from 1 to EBALLOT_BATCH_MAX (%d)", v, c.BatchMax)}
	}
	c.BatchMin = n
	v = get("EBALLOT_BATCH_MIN_WAIT", min(150*time.Millisecond, c.BatchWait).String())
	if d, err = time.ParseDuration(v); err != nil || d < time.Millisecond || d > c.BatchWait {
		return &Error{"EBALLOT_BATCH_MIN_WAIT", fmt.Sprintf("%q is not a duration from 1ms to EBALLOT_BATCH_WAIT (%s)", v, c.BatchWait)}
	}
	c.BatchMinWait = d
	return nil
}

// loadRetention reads the retention period (at least MinRetention, at most
// ten years) and what serve does about due ballots.
func (c *Config) loadRetention(get func(string, string) string) error {
	v := get("EBALLOT_RETENTION_PERIOD", "8760h")
	d, err := time.ParseDuration(v)
	if err != nil {
		return &Error{"EBALLOT_RETENTION_PERIOD", fmt.Sprintf("%q is not a duration in hours (e.g. 8760h for one year)", v)}
	}
	if d < MinRetention {
		return &Error{"EBALLOT_RETENTION_PERIOD", fmt.Sprintf("%q is shorter than one year (8760h): returned votes are kept at least one year from the announcement of the result (TULRCA s.49(3)(d), s.75(3)(d))", v)}
	}
	if d > 10*MinRetention {
		return &Error{"EBALLOT_RETENTION_PERIOD", fmt.Sprintf("%q is longer than ten years (87600h): keep personal data no longer than needed (UK GDPR Art 5(1)(e)); record a hold for a complaint instead", v)}
	}
	c.RetentionPeriod = d
	c.Retention = get("EBALLOT_RETENTION", "report")
	switch c.Retention {
	case "off", "report", "apply":
	default:
		return &Error{"EBALLOT_RETENTION", fmt.Sprintf("%q is not off, report or apply", c.Retention)}
	}
	return nil
}

// clock parses HH:MM (00:00 to 24:00) into minutes after midnight.
func clock(s string) (int, bool) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// trustedProxies parses a comma-separated list of CIDR ranges or single
// addresses ("" or "none": no proxy is trusted).
func trustedProxies(v string) ([]netip.Prefix, error) {
	if v == "" || v == "none" {
		return nil, nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil || a.Zone() != "" {
				return nil, &Error{"EBALLOT_TRUSTED_PROXIES", fmt.Sprintf("%q is not a CIDR range (e.g. 10.0.0.0/8, fd00::/8) or an IP address", part)}
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Bits() == 0 {
			return nil, &Error{"EBALLOT_TRUSTED_PROXIES", fmt.Sprintf("%q trusts every address: list only your proxies' ranges", part)}
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (c *Config) loadMail(get func(string, string) string) error {
	def := "dev"
	if c.Secure() {
		def = "none"
	}
	c.MailProvider = get("EBALLOT_MAIL_PROVIDER", def)
	switch c.MailProvider {
	case "none":
		return nil
	case "dev":
		if c.Secure() {
			return &Error{"EBALLOT_MAIL_PROVIDER", "dev keeps emails in the database and is for local development only; use smtp (or none) with an https EBALLOT_PUBLIC_URL"}
		}
		c.SMTP.From = get("EBALLOT_SMTP_FROM", "Union e-ballot <no-reply@"+c.PublicURL.Hostname()+">")
		if !validFrom(c.SMTP.From) {
			return &Error{"EBALLOT_SMTP_FROM", "must be an address or Name <address>, one line, ASCII address"}
		}
		return nil
	case "smtp":
	default:
		return &Error{"EBALLOT_MAIL_PROVIDER", fmt.Sprintf("%q is not dev, smtp or none", c.MailProvider)}
	}
	s := &c.SMTP
	s.Host = get("EBALLOT_SMTP_HOST", "")
	if s.Host == "" || strings.ContainsAny(s.Host, " /:@") && net.ParseIP(s.Host) == nil {
		return &Error{"EBALLOT_SMTP_HOST", "set it to the SMTP server's host name (required with EBALLOT_MAIL_PROVIDER=smtp)"}
	}
	s.TLS = get("EBALLOT_SMTP_TLS", "starttls")
	switch s.TLS {
	case "starttls", "tls":
	case "none":
		if ip := net.ParseIP(s.Host); !strings.EqualFold(s.Host, "localhost") && (ip == nil || !ip.IsLoopback()) {
			return &Error{"EBALLOT_SMTP_TLS", "none (no TLS) is only allowed when EBALLOT_SMTP_HOST is localhost or a loopback address"}
		}
	default:
		return &Error{"EBALLOT_SMTP_TLS", fmt.Sprintf("%q is not starttls, tls or none", s.TLS)}
	}
	defPort := map[string]string{"starttls": "587", "tls": "465", "none": "25"}[s.TLS]
	port := get("EBALLOT_SMTP_PORT", defPort)
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return &Error{"EBALLOT_SMTP_PORT", fmt.Sprintf("%q is not a port number from 1 to 65535", port)}
	}
	s.Port = p
	s.Username, s.Password = get("EBALLOT_SMTP_USERNAME", ""), get("EBALLOT_SMTP_PASSWORD", "")
	if s.Username != "" && s.Password == "" {
		return &Error{"EBALLOT_SMTP_PASSWORD", "not set, but EBALLOT_SMTP_USERNAME is (set both or neither)"}
	}
	if s.Password != "" && s.Username == "" {
		return &Error{"EBALLOT_SMTP_USERNAME", "not set, but EBALLOT_SMTP_PASSWORD is (set both or neither)"}
	}
	s.From = get("EBALLOT_SMTP_FROM", "")
	if !validFrom(s.From) {
		return &Error{"EBALLOT_SMTP_FROM", "required with smtp: an address or Name <address>, one line, ASCII address"}
	}
	return nil
}

// validFrom accepts "address" or "Name <address>" on one line with an
// ASCII address.
func validFrom(v string) bool {
	if v == "" || strings.ContainsAny(v, "\r\n\x00") {
		return false
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		return false
	}
	for i := 0; i < len(a.Address); i++ {
		if a.Address[i] >= 0x80 {
			return false
		}
	}
	return true
}

// secretKey decodes a 32-byte key given in hex or base64.
func secretKey(v string) ([]byte, error) {
	if v == "" {
		return nil, &Error{"EBALLOT_SECRET_KEY", "not set (generate one with: head -c32 /dev/urandom | base64)"}
	}
	if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, &Error{"EBALLOT_SECRET_KEY", "must be 32 bytes in hex (64 characters) or base64 (44 characters)"}
}

func duration(get func(string, string) string, name, def string) (time.Duration, error) {
	v := get(name, def)
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > time.Hour {
		return 0, &Error{name, fmt.Sprintf("%q is not a duration between 0s and 1h (e.g. 15s)", v)}
	}
	return d, nil
}

// validDatabaseURL accepts postgres:// and postgresql:// URLs and key=value
// DSNs, without echoing secrets in errors.
func validDatabaseURL(s string) bool {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		_, err := url.Parse(s)
		return err == nil
	}
	return strings.Contains(s, "=") && !strings.Contains(s, "://")
}

// Secure reports whether the public URL is https (HSTS, Secure cookies).
func (c *Config) Secure() bool { return c.PublicURL.Scheme == "https" }

// metricsAddr checks EBALLOT_METRICS_ADDR: "off", or a host:port other
// than the public and the profiler's addresses.
func metricsAddr(v, addr, debug string) (string, error) {
	if v == "off" {
		return "", nil
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", &Error{"EBALLOT_METRICS_ADDR", fmt.Sprintf("%q is not host:port (or off)", v)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", &Error{"EBALLOT_METRICS_ADDR", fmt.Sprintf("port %q is not a number from 0 to 65535", port)}
	}
	if port != "0" && (v == addr || v == debug) {
		return "", &Error{"EBALLOT_METRICS_ADDR", "must differ from EBALLOT_ADDR and EBALLOT_DEBUG_ADDR (metrics have their own listener)"}
	}
	return v, nil
}

// debugAddr checks EBALLOT_DEBUG_ADDR: empty, or a loopback host:port
// other than the service's own address.
func debugAddr(v, addr string) (string, error) {
	if v == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", &Error{"EBALLOT_DEBUG_ADDR", fmt.Sprintf("%q is not host:port", v)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", &Error{"EBALLOT_DEBUG_ADDR", fmt.Sprintf("port %q is not a number from 0 to 65535", port)}
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", &Error{"EBALLOT_DEBUG_ADDR", fmt.Sprintf("%q is not a loopback address (127.0.0.1, ::1 or localhost): the profiler must not be reachable from the network", host)}
	}
	if v == addr && port != "0" {
		return "", &Error{"EBALLOT_DEBUG_ADDR", "must differ from EBALLOT_ADDR (the profiler has its own listener)"}
	}
	return v, nil
}
