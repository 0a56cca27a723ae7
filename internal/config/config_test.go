package config

import (
	"os"
	"strings"
	"testing"
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
