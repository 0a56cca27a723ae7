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
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of ballotd.
type Config struct {
	DatabaseURL     string
	Addr            string // host:port to listen on
	PublicURL       *url.URL
	LogFormat       string // text or json
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	DBConnectWait   time.Duration

	// SecretKey encrypts private keys at rest (issuer and ledger keys).
	// MUST NOT be logged.
	SecretKey []byte

	SMSProvider string // "dev" (outbox in PostgreSQL) or "twilio"
	Twilio      Twilio
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
	{"EBALLOT_PUBLIC_URL", "http://localhost:<port of EBALLOT_ADDR>", "the URL members and organisers open (scheme, host, optional port; no path). https enables HSTS and Secure cookies."},
	{"EBALLOT_LOG_FORMAT", "text", "log format: text or json."},
	{"EBALLOT_LOG_LEVEL", "info", "log level: debug, info, warn or error."},
	{"EBALLOT_SHUTDOWN_TIMEOUT", "15s", "how long a SIGTERM/SIGINT waits for requests in flight."},
	{"EBALLOT_DB_CONNECT_WAIT", "10s", "how long start-up waits for the database before giving up."},
	{"EBALLOT_SECRET_KEY", "", "32 random bytes, hex or base64, that encrypt private keys at rest (required; `make run` generates one in ./.data/secret-key). Keep it out of logs and backups of the database."},
	{"EBALLOT_SMS_PROVIDER", "dev", "dev (messages kept in PostgreSQL and shown on the development outbox page) or twilio."},
	{"TWILIO_ACCOUNT_SID", "", "Twilio account SID (AC…), required with EBALLOT_SMS_PROVIDER=twilio."},
	{"TWILIO_AUTH_TOKEN", "", "Twilio auth token, required with twilio; also validates webhook signatures."},
	{"TWILIO_MESSAGING_SERVICE_SID", "", "Twilio Messaging Service SID (MG…); or set TWILIO_FROM."},
	{"TWILIO_FROM", "", "sender number in E.164 when no messaging service is used."},
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
	return c, nil
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
