package auth_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// An upload larger than the 64 KiB the middleware reads of a form (a
// register, a result with its trustees' files) is accepted with its token
// as the first field, as the pages' forms send it, and reaches the handler
// intact; a missing, wrong or late token is still refused.
func TestCSRFLargeMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var got struct {
		csrf string
		sum  [32]byte
		n    int
	}
	h := e.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, e.svc.CSRFToken(r))
			return
		}
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f, _, err := r.FormFile("report")
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		b, _ := io.ReadAll(f)
		got.csrf, got.sum, got.n = r.PostFormValue("csrf"), sha256.Sum256(b), len(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	// A browser's first visit: the pre-session cookie and its token.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", e.base+"/scrutineer/ballots/1/result", nil))
	cookies := w.Result().Cookies()
	token := w.Body.String()
	if len(cookies) == 0 || token == "" {
		t.Fatal("no pre-session cookie or token")
	}
	big := bytes.Repeat([]byte(`{"trustee":1,"D":["0123456789abcdef"]}`+"\n"), 200<<10/40) // ~200 KiB
	small := []byte(`{"small":true}`)
	post := func(fields [][2]string, file []byte) int {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, f := range fields {
			if f[0] == "report" {
				fw, _ := mw.CreateFormFile("report", "report.json")
				fw.Write(file)
				continue
			}
			mw.WriteField(f[0], f[1])
		}
		mw.Close()
		req := httptest.NewRequest("POST", e.base+"/scrutineer/ballots/1/result", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", e.base)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		got.csrf, got.n = "", 0
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	bad := "AAAA" + token[4:]
	if bad == token {
		bad = "BBBB" + token[4:]
	}
	for _, tc := range []struct {
		name   string
		fields [][2]string
		file   []byte
		want   int
	}{
		{"large, token first", [][2]string{{"csrf", token}, {"report", ""}}, big, 204},
		{"large, no token", [][2]string{{"report", ""}}, big, 403},
		{"large, wrong token first", [][2]string{{"csrf", bad}, {"report", ""}}, big, 403},
		{"large, token after the file", [][2]string{{"report", ""}, {"csrf", token}}, big, 403},
		{"large, token twice, the first wrong", [][2]string{{"csrf", bad}, {"csrf", token}, {"report", ""}}, big, 403},
		{"small, token after the file", [][2]string{{"report", ""}, {"csrf", token}}, small, 204},
		{"small, token first", [][2]string{{"csrf", token}, {"report", ""}}, small, 204},
		{"small, wrong token", [][2]string{{"csrf", bad}, {"report", ""}}, small, 403},
		{"small, no token", [][2]string{{"report", ""}}, small, 403},
	} {
		if code := post(tc.fields, tc.file); code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, code, tc.want)
			continue
		}
		if tc.want == 204 && (got.n != len(tc.file) || got.sum != sha256.Sum256(tc.file) || got.csrf != token) {
			t.Errorf("%s: the handler read %d bytes, csrf %q: the body was not passed on intact", tc.name, got.n, got.csrf)
		}
	}
	// A url-encoded form is read as before.
	req := httptest.NewRequest("POST", e.base+"/x", strings.NewReader(url.Values{"csrf": {token}, "a": {strings.Repeat("b", 70<<10)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	w = httptest.NewRecorder()
	e.svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })).ServeHTTP(w, req)
	if w.Code != 403 {
		t.Errorf("url-encoded form over 64 KiB: %d, want 403 (unchanged)", w.Code)
	}
}
