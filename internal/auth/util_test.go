package auth_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type http_cookie = http.Cookie

func mustReq(t testing.TB, method, u string, form url.Values) *http.Request {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req
}
