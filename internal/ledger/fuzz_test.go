package ledger

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
)

// FuzzCast feeds arbitrary bodies and ballot bytes to the cast endpoint: it
// must never answer 500 or panic, and an error is always the JSON error
// body.
func FuzzCast(f *testing.F) {
	l, fx, _ := newOpenLedger(f)
	c := fx.castsN(f, 1)[0]
	r := chi.NewRouter()
	l.Routes(r)
	body := func(b, a []byte) []byte {
		return fmt.Appendf(nil, `{"ballot":%q,"authorisation":%q}`, base64.StdEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(a))
	}
	f.Add(body(c.ballot, c.auth), false)
	f.Add(c.ballot, true)
	f.Add([]byte(`{"ballot":"","authorisation":""}`), false)
	f.Add([]byte(`{"ballot":null}`), false)
	f.Add([]byte(`[]`), false)
	f.Fuzz(func(t *testing.T, data []byte, asBallot bool) {
		if asBallot { // data is ballot bytes with a valid-length authorisation
			data = body(data, c.auth)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("POST", pre+"/cast", bytes.NewReader(data)))
		switch {
		case w.Code == http.StatusCreated || w.Code == http.StatusOK:
		case w.Code >= 500:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		case !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"error":"`)):
			t.Fatalf("status %d without a JSON error: %s", w.Code, w.Body)
		}
	})
}
