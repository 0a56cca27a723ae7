package auth_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/auth"
)

func fuzzLimits() *auth.Limits {
	l := auth.DefaultLimits()
	big := auth.Rate{Max: 1 << 30, Window: time.Minute}
	l.InviteIP, l.InviteMember, l.InviteGlobal, l.OTPVerifyIP, l.OTPVerifyMember, l.OTPVerifyGlobal = big, big, big, big, big, big
	return &l
}

// FuzzInvitationToken: any token in the invitation URL gives a page, never
// a panic or a 500.
func FuzzInvitationToken(f *testing.F) {
	e := newEnv(f, fuzzLimits())
	good := e.inviteLink(0)
	good = good[strings.LastIndex(good, "/")+1:]
	for _, s := range []string{good, "", "x", strings.Repeat("A", 43), good[:42] + "!", "%00", "../..", strings.Repeat("é", 30), "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req := httptest.NewRequest(method, "/i/x", strings.NewReader("csrf=x"))
			req.URL.Path = "/i/" + tok
			req.URL.RawPath = ""
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("%s %q: %d", method, tok, w.Code)
			}
		}
	})
}

// FuzzOTPVerify: any code posted to the code form gives 303/400, never a
// panic or a 500.
func FuzzOTPVerify(f *testing.F) {
	e := newEnv(f, fuzzLimits())
	b := e.browser()
	csrf := b.startCode(0)
	u, _ := url.Parse(e.base)
	var cookies []string
	for _, c := range b.HTTP.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	for _, s := range []string{"123456", "", "12345", "1234567", " 12 34 56 ", "abcdef", "１２３４５６", "\x00", strings.Repeat("9", 1000), "-1", "000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		form := url.Values{"csrf": {csrf}, "code": {code}}
		req := httptest.NewRequest(http.MethodPost, "/auth/code", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%q: %d %s", code, w.Code, w.Body.String())
		}
		if w.Code == http.StatusSeeOther {
			t.Skip("guessed the code") // the session is now signed in
		}
	})
}
