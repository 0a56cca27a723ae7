package smstest

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's webhook signature is HMAC-SHA1
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Signature is X-Twilio-Signature as Twilio computes it for a webhook:
// HMAC-SHA1 with the account's auth token of the full URL followed by the
// form's parameters sorted by name, base64 — written independently of
// twilio-go, so tests check its validator against the documented scheme.
func Signature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form.Get(k))
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
