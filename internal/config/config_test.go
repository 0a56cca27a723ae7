package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const testKey = "0000000000000000000000000000000000000000000000000000000000000001"

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.PublicURL.String() != "http://localhost:8080" || c.LogFormat != "text" || c.Secure() || c.SMSProvider != "dev" || len(c.SecretKey) != 32 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres:///eballot?host=/tmp", "EBALLOT_SECRET_KEY": testKey}
	for _, tc := range []struct {
		name, key, val, wantVar string
	}{
		{"missing db", "DATABASE_URL", " ", "DATABASE_URL"},
		{"malformed db", "DATABASE_URL", "mysql://root:secret@x/db", "DATABASE_URL"},
		{"bad url escape", "DATABASE_URL", "postgres://u:%zz@h/db", "DATABASE_URL"},
		{"addr not host:port", "EBALLOT_ADDR", "8080", "EBALLOT_ADDR"},
		{"port too big", "EBALLOT_ADDR", "127.0.0.1:70000", "EBALLOT_ADDR"},
		{"port not a number", "EBALLOT_ADDR", "127.0.0.1:http", "EBALLOT_ADDR"},
		{"public url path", "EBALLOT_PUBLIC_URL", "https://vote.example/x", "EBALLOT_PUBLIC_URL"},
		{"public url scheme", "EBALLOT_PUBLIC_URL", "ftp://vote.example", "EBALLOT_PUBLIC_URL"},
		{"log format", "EBALLOT_LOG_FORMAT", "xml", "EBALLOT_LOG_FORMAT"},
		{"log level", "EBALLOT_LOG_LEVEL", "loud", "EBALLOT_LOG_LEVEL"},
		{"shutdown", "EBALLOT_SHUTDOWN_TIMEOUT", "soon", "EBALLOT_SHUTDOWN_TIMEOUT"},
		{"db wait", "EBALLOT_DB_CONNECT_WAIT", "-1s", "EBALLOT_DB_CONNECT_WAIT"},
		{"secret key missing", "EBALLOT_SECRET_KEY", "", "EBALLOT_SECRET_KEY"},
		{"secret key short", "EBALLOT_SECRET_KEY", "c2hvcnQ=", "EBALLOT_SECRET_KEY"},
		{"sms provider", "EBALLOT_SMS_PROVIDER", "pigeon", "EBALLOT_SMS_PROVIDER"},
		{"twilio without sid", "EBALLOT_SMS_PROVIDER", "twilio", "TWILIO_ACCOUNT_SID"},
		{"bilingual", "EBALLOT_SMS_BILINGUAL", "yes", "EBALLOT_SMS_BILINGUAL"},
		{"debug public", "EBALLOT_DEBUG_ADDR", "0.0.0.0:6060", "EBALLOT_DEBUG_ADDR"},
		{"debug lan", "EBALLOT_DEBUG_ADDR", "192.168.1.5:6060", "EBALLOT_DEBUG_ADDR"},
		{"debug name", "EBALLOT_DEBUG_ADDR", "example.org:6060", "EBALLOT_DEBUG_ADDR"},
		{"debug no port", "EBALLOT_DEBUG_ADDR", "127.0.0.1", "EBALLOT_DEBUG_ADDR"},
		{"debug same as service", "EBALLOT_DEBUG_ADDR", "127.0.0.1:8080", "EBALLOT_DEBUG_ADDR"},
		{"metrics on the public listener", "EBALLOT_METRICS_ADDR", "127.0.0.1:8080", "EBALLOT_METRICS_ADDR"},
		{"metrics no port", "EBALLOT_METRICS_ADDR", "127.0.0.1", "EBALLOT_METRICS_ADDR"},
		{"replay window too short", "EBALLOT_WEBHOOK_REPLAY_WINDOW", "10m", "EBALLOT_WEBHOOK_REPLAY_WINDOW"},
		{"replay window not a duration", "EBALLOT_WEBHOOK_REPLAY_WINDOW", "week", "EBALLOT_WEBHOOK_REPLAY_WINDOW"},
		{"batch zero", "EBALLOT_BATCH_MAX", "0", "EBALLOT_BATCH_MAX"},
		{"batch wait too long for a receipt", "EBALLOT_BATCH_WAIT", "5s", "EBALLOT_BATCH_WAIT"},
		{"batch min over the default max", "EBALLOT_BATCH_MIN", "257", "EBALLOT_BATCH_MIN"},
		{"batch min zero", "EBALLOT_BATCH_MIN", "0", "EBALLOT_BATCH_MIN"},
		{"batch min not a number", "EBALLOT_BATCH_MIN", "some", "EBALLOT_BATCH_MIN"},
		{"batch min wait over the default wait", "EBALLOT_BATCH_MIN_WAIT", "1.2s", "EBALLOT_BATCH_MIN_WAIT"},
		{"batch min wait zero", "EBALLOT_BATCH_MIN_WAIT", "0s", "EBALLOT_BATCH_MIN_WAIT"},
		{"metrics bad port", "EBALLOT_METRICS_ADDR", "127.0.0.1:99999", "EBALLOT_METRICS_ADDR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			m[tc.key] = tc.val
			_, err := Load(env(m))
			ce, ok := err.(*Error)
			if !ok || ce.Var != tc.wantVar {
				t.Fatalf("got %v, want an error naming %s", err, tc.wantVar)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error echoes a secret: %v", err)
			}
		})
	}
}

func TestHTTPSIsSecure(t *testing.T) {
	_, err := Load(env(map[string]string{"DATABASE_URL": "host=/tmp dbname=x", "EBALLOT_PUBLIC_URL": "https://vote.example", "EBALLOT_SECRET_KEY": testKey}))
	if ce, ok := err.(*Error); !ok || ce.Var != "EBALLOT_SMS_PROVIDER" {
		t.Fatalf("https with the dev SMS outbox must be refused: %v", err)
	}
	c, err := Load(env(map[string]string{"DATABASE_URL": "host=/tmp dbname=x", "EBALLOT_PUBLIC_URL": "https://vote.example", "EBALLOT_SECRET_KEY": testKey,
		"EBALLOT_SMS_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "0123456789abcdef0123", "TWILIO_MESSAGING_SERVICE_SID": "MG0123"}))
	if err != nil || !c.Secure() || c.Twilio.AuthToken == "" {
		t.Fatalf("https public URL: %v %+v", err, c)
	}
}

// TestDocsListEveryVariable keeps docs/configuration.md true.
func TestDocsListEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		if !strings.Contains(string(b), "`"+v.Name+"`") {
			t.Errorf("docs/configuration.md does not document %s", v.Name)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}
	c, err := Load(env(base))
	if err != nil || c.TrustedProxies != nil {
		t.Fatalf("default: %v %v", c.TrustedProxies, err)
	}
	base["EBALLOT_TRUSTED_PROXIES"] = " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,::ffff:198.51.100.0/120"
	c, err = Load(env(base))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 fd00::/8 198.51.100.0/24" {
		t.Fatalf("parsed %v", got)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "0.0.0.0/0", "::/0", "10.0.0.1/8x", "fe80::1%eth0"} {
		base["EBALLOT_TRUSTED_PROXIES"] = bad
		if _, err := Load(env(base)); err == nil || err.(*Error).Var != "EBALLOT_TRUSTED_PROXIES" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestMailConfig(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}
	}
	c, err := Load(env(base()))
	if err != nil || c.MailProvider != "dev" || c.SMTP.From != "Union e-ballot <no-reply@localhost>" {
		t.Fatalf("dev default: %+v %v", c, err)
	}
	https := base()
	https["EBALLOT_PUBLIC_URL"], https["EBALLOT_SMS_PROVIDER"] = "https://vote.example", "twilio"
	https["TWILIO_ACCOUNT_SID"], https["TWILIO_AUTH_TOKEN"], https["TWILIO_FROM"] = "AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123", "+447700900000"
	if c, err := Load(env(https)); err != nil || c.MailProvider != "none" {
		t.Fatalf("https default: %v %v", c, err)
	}
	smtp := func(kv ...string) map[string]string {
		m := base()
		for k, v := range https {
			m[k] = v
		}
		m["EBALLOT_MAIL_PROVIDER"], m["EBALLOT_SMTP_HOST"], m["EBALLOT_SMTP_FROM"] = "smtp", "smtp.example.org", "Union e-ballot <ballots@vote.example>"
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err = Load(env(smtp("EBALLOT_SMTP_USERNAME", "mailer", "EBALLOT_SMTP_PASSWORD", "hunter2-secret")))
	if err != nil || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" || c.SMTP.Password != "hunter2-secret" {
		t.Fatalf("smtp: %+v %v", c.SMTP, err)
	}
	if c, err := Load(env(smtp("EBALLOT_SMTP_TLS", "tls"))); err != nil || c.SMTP.Port != 465 {
		t.Fatalf("implicit TLS port: %v", err)
	}
	if c, err := Load(env(smtp("EBALLOT_SMTP_TLS", "none", "EBALLOT_SMTP_HOST", "127.0.0.1"))); err != nil || c.SMTP.Port != 25 {
		t.Fatalf("plain to loopback: %v", err)
	}
	for _, tc := range []struct {
		kv      []string
		wantVar string
	}{
		{[]string{"EBALLOT_MAIL_PROVIDER", "pigeon"}, "EBALLOT_MAIL_PROVIDER"},
		{[]string{"EBALLOT_MAIL_PROVIDER", "dev"}, "EBALLOT_MAIL_PROVIDER"}, // https
		{[]string{"EBALLOT_SMTP_HOST", ""}, "EBALLOT_SMTP_HOST"},
		{[]string{"EBALLOT_SMTP_TLS", "none"}, "EBALLOT_SMTP_TLS"},
		{[]string{"EBALLOT_SMTP_TLS", "ssl"}, "EBALLOT_SMTP_TLS"},
		{[]string{"EBALLOT_SMTP_PORT", "0"}, "EBALLOT_SMTP_PORT"},
		{[]string{"EBALLOT_SMTP_PORT", "smtp"}, "EBALLOT_SMTP_PORT"},
		{[]string{"EBALLOT_SMTP_USERNAME", "mailer"}, "EBALLOT_SMTP_PASSWORD"},
		{[]string{"EBALLOT_SMTP_PASSWORD", "secret-only"}, "EBALLOT_SMTP_USERNAME"},
		{[]string{"EBALLOT_SMTP_FROM", ""}, "EBALLOT_SMTP_FROM"},
		{[]string{"EBALLOT_SMTP_FROM", "ballots@vote.example\r\nBcc: all@example.org"}, "EBALLOT_SMTP_FROM"},
		{[]string{"EBALLOT_SMTP_FROM", "not an address"}, "EBALLOT_SMTP_FROM"},
	} {
		_, err := Load(env(smtp(tc.kv...)))
		ce, ok := err.(*Error)
		if !ok || ce.Var != tc.wantVar {
			t.Errorf("%v: got %v, want an error naming %s", tc.kv, err, tc.wantVar)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error echoes a secret: %v", err)
		}
	}
}

func TestGOTVSettings(t *testing.T) {
	base := map[string]string{
		"DATABASE_URL":       "postgres://localhost/x",
		"EBALLOT_SECRET_KEY": strings.Repeat("ab", 32),
	}
	load := func(extra map[string]string) (*Config, error) {
		return Load(func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		})
	}
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := c.GOTV; g.RatePerSecond != 1 || g.Burst != 1 || g.QuietStart != 9*60 || g.QuietEnd != 20*60 ||
		g.TimeZone != "Europe/London" || g.MaxPerDay != 1 || g.MaxPerBallot != 3 || g.PricePerPart != 4 {
		t.Errorf("defaults: %+v", g)
	}
	c, err = load(map[string]string{"EBALLOT_GOTV_RATE": "30", "EBALLOT_GOTV_QUIET_HOURS": "08:30-21:15",
		"EBALLOT_GOTV_TIMEZONE": "Europe/Dublin", "EBALLOT_GOTV_MAX_PER_BALLOT": "5", "EBALLOT_GOTV_PRICE_PENCE": "3.5"})
	if err != nil {
		t.Fatal(err)
	}
	if g := c.GOTV; g.RatePerSecond != 30 || g.QuietStart != 8*60+30 || g.QuietEnd != 21*60+15 ||
		g.TimeZone != "Europe/Dublin" || g.MaxPerBallot != 5 || g.PricePerPart != 3.5 {
		t.Errorf("set: %+v", g)
	}
	for name, bad := range map[string]string{
		"EBALLOT_GOTV_RATE":           "fast",
		"EBALLOT_GOTV_BURST":          "0",
		"EBALLOT_GOTV_QUIET_HOURS":    "20:00-09:00",
		"EBALLOT_GOTV_TIMEZONE":       "Mars/Olympus",
		"EBALLOT_GOTV_MAX_PER_DAY":    "25",
		"EBALLOT_GOTV_MAX_PER_BALLOT": "-1",
		"EBALLOT_GOTV_PRICE_PENCE":    "NaN",
	} {
		_, err := load(map[string]string{name: bad})
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != name {
			t.Errorf("%s=%q: error %v does not name the variable", name, bad, err)
		}
	}
	for _, bad := range []string{"9-20", "09:00", "09:60-20:00", "24:01-24:30", "09:00-09:00"} {
		if _, err := load(map[string]string{"EBALLOT_GOTV_QUIET_HOURS": bad}); err == nil {
			t.Errorf("quiet hours %q accepted", bad)
		}
	}
}

func TestRetentionConfig(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}
	}
	c, err := Load(env(base()))
	if err != nil || c.RetentionPeriod != MinRetention || c.Retention != "report" {
		t.Fatalf("defaults: %v %v %q", err, c.RetentionPeriod, c.Retention)
	}
	m := base()
	m["EBALLOT_RETENTION_PERIOD"], m["EBALLOT_RETENTION"] = "17520h", "apply"
	if c, err := Load(env(m)); err != nil || c.RetentionPeriod != 2*MinRetention || c.Retention != "apply" {
		t.Fatalf("two years, apply: %v %+v", err, c)
	}
	for _, tc := range []struct{ key, val, want string }{
		{"EBALLOT_RETENTION_PERIOD", "8759h", "shorter than one year (8760h)"},
		{"EBALLOT_RETENTION_PERIOD", "720h", "TULRCA s.49(3)(d)"},
		{"EBALLOT_RETENTION_PERIOD", "1y", "not a duration"},
		{"EBALLOT_RETENTION_PERIOD", "100000h", "longer than ten years"},
		{"EBALLOT_RETENTION", "delete", "not off, report or apply"},
	} {
		m := base()
		m[tc.key] = tc.val
		_, err := Load(env(m))
		ce, ok := err.(*Error)
		if !ok || ce.Var != tc.key || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: %v, want an error naming %s saying %q", tc.key, tc.val, err, tc.key, tc.want)
		}
	}
}

func TestSMSBilingual(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres:///eballot?host=/tmp", "EBALLOT_SECRET_KEY": testKey}
	c, err := Load(env(base))
	if err != nil || c.SMSBilingual {
		t.Fatalf("default: %v %v, want off", c, err)
	}
	base["EBALLOT_SMS_BILINGUAL"] = "on"
	if c, err = Load(env(base)); err != nil || !c.SMSBilingual {
		t.Fatalf("on: %v", err)
	}
}

func TestDebugAddr(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres:///eballot?host=/tmp", "EBALLOT_SECRET_KEY": testKey}
	c, err := Load(env(base))
	if err != nil || c.DebugAddr != "" {
		t.Fatalf("default: %q %v, want off", c.DebugAddr, err)
	}
	for _, ok := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060", "127.0.0.1:0"} {
		base["EBALLOT_DEBUG_ADDR"] = ok
		if c, err = Load(env(base)); err != nil || c.DebugAddr != ok {
			t.Errorf("%s: %q %v", ok, c.DebugAddr, err)
		}
	}
}

func TestMetricsAddr(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}
	c, err := Load(env(base))
	if err != nil || c.MetricsAddr != "127.0.0.1:9464" {
		t.Fatalf("default: %q %v (want loopback 127.0.0.1:9464)", c.MetricsAddr, err)
	}
	for v, want := range map[string]string{"off": "", "10.0.0.5:9464": "10.0.0.5:9464", "127.0.0.1:0": "127.0.0.1:0"} {
		base["EBALLOT_METRICS_ADDR"] = v
		if c, err = Load(env(base)); err != nil || c.MetricsAddr != want {
			t.Errorf("%s: %q %v", v, c.MetricsAddr, err)
		}
	}
}

func TestBatchDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}))
	if err != nil || c.BatchMax != 256 || c.BatchWait != time.Second || c.BatchMin != 32 || c.BatchMinWait != 150*time.Millisecond {
		t.Fatalf("defaults: K=%d T=%s M=%d T_min=%s %v", c.BatchMax, c.BatchWait, c.BatchMin, c.BatchMinWait, err)
	}
}

// M and T_min must be within K and T: their defaults follow K and T set
// lower, and values set beyond them are refused naming the variable.
func TestBatchMinBounds(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := Load(env(base("EBALLOT_BATCH_MAX", "16", "EBALLOT_BATCH_WAIT", "100ms")))
	if err != nil || c.BatchMin != 16 || c.BatchMinWait != 100*time.Millisecond {
		t.Fatalf("defaults under a small K and T: M=%d T_min=%s %v", c.BatchMin, c.BatchMinWait, err)
	}
	c, err = Load(env(base("EBALLOT_BATCH_MIN", "64", "EBALLOT_BATCH_MIN_WAIT", "1s")))
	if err != nil || c.BatchMin != 64 || c.BatchMinWait != time.Second {
		t.Fatalf("M=64, T_min=T: M=%d T_min=%s %v", c.BatchMin, c.BatchMinWait, err)
	}
	for _, tc := range []struct{ kv []string }{
		{[]string{"EBALLOT_BATCH_MAX", "16", "EBALLOT_BATCH_MIN", "17"}},
		{[]string{"EBALLOT_BATCH_WAIT", "100ms", "EBALLOT_BATCH_MIN_WAIT", "150ms"}},
	} {
		_, err := Load(env(base(tc.kv...)))
		if ce, ok := err.(*Error); !ok || ce.Var != tc.kv[2] || !strings.Contains(ce.Error(), tc.kv[0]) {
			t.Errorf("%v: %v, want an error naming %s and %s", tc.kv, err, tc.kv[2], tc.kv[0])
		}
	}
}

// TestEVotingCommencement: the e-ballot order's commencement day is not
// fixed in statute; unset by default, a date after 18 Feb 2026 when set.
func TestEVotingCommencement(t *testing.T) {
	base := func() map[string]string {
		return map[string]string{"DATABASE_URL": "postgres://u@localhost/db", "EBALLOT_SECRET_KEY": testKey}
	}
	if c, err := Load(env(base())); err != nil || c.EVotingCommencement != "" {
		t.Fatalf("default: %v %q, want not in force", err, c.EVotingCommencement)
	}
	m := base()
	m["EBALLOT_EVOTING_COMMENCEMENT"] = "2026-09-01"
	if c, err := Load(env(m)); err != nil || c.EVotingCommencement != "2026-09-01" {
		t.Fatalf("set: %v %+v", err, c)
	}
	for val, want := range map[string]string{"1 Sep 2026": "not a date", "2026-02-18": "not after 18 Feb 2026"} {
		m := base()
		m["EBALLOT_EVOTING_COMMENCEMENT"] = val
		_, err := Load(env(m))
		if ce, ok := err.(*Error); !ok || ce.Var != "EBALLOT_EVOTING_COMMENCEMENT" || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", val, err, want)
		}
	}
}
