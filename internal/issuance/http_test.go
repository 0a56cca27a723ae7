package issuance_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/issuance"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/web/page"
)

func TestAuthoriseHTTP(t *testing.T) {
	pool := pgtest.NewDB(t)
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "http", Members: 2, Ledger: led, Open: true})
	keys := issuerKeys(t, led)
	// The member comes from a header set by this test standing in for the
	// session middleware; the body can never name a member.
	member := func(r *http.Request) (int64, bool) {
		id, err := strconv.ParseInt(r.Header.Get("X-Test-Member"), 10, 64)
		return id, err == nil
	}
	r := chi.NewRouter()
	issuance.NewHandler(issuance.New(pool, electiontest.SecretKey), member, testPages(t)).Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	_, msg, _ := blinded(t, keys["north-depot"])
	good := `{"blinded":"` + base64.StdEncoding.EncodeToString(msg) + `"}`
	post := func(memberHdr, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", srv.URL+"/vote/http/authorise", strings.NewReader(body))
		if memberHdr != "" {
			req.Header.Set("X-Test-Member", memberHdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	m0 := strconv.FormatInt(b.MemberIDs[0], 10)
	for _, tc := range []struct {
		name, member, body string
		status             int
		code               string
	}{
		{"no session", "", good, 401, "not_signed_in"},
		{"not json", m0, "blinded=x", 400, "malformed"},
		{"unknown field (member_id)", m0, `{"blinded":"AA==","member_id":1}`, 400, "malformed"},
		{"trailing data", m0, good + `{}`, 400, "malformed"},
		{"not base64", m0, `{"blinded":"***"}`, 400, "malformed"},
		{"wrong length", m0, `{"blinded":"AAAA"}`, 400, "bad_blinded"},
		{"too large", m0, `{"blinded":"` + strings.Repeat("A", 8000) + `"}`, 413, "too_large"},
		{"ok", m0, good, 200, ""},
		{"retry", m0, good, 200, ""},
	} {
		status, out := post(tc.member, tc.body)
		if status != tc.status || (tc.code != "" && out["error"] != tc.code) {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, out, tc.status, tc.code)
		}
		if status == 200 && (out["style"] != "north-depot" || out["blind_signature"] == "") {
			t.Errorf("%s: %v", tc.name, out)
		}
	}
	// Another blinded message for the same member: a clear refusal.
	_, msg2, _ := blinded(t, keys["north-depot"])
	status, out := post(m0, `{"blinded":"`+base64.StdEncoding.EncodeToString(msg2)+`"}`)
	if status != 409 || out["error"] != "already_authorised" || !strings.Contains(out["message"].(string), "vote again") {
		t.Errorf("second message: %d %v", status, out)
	}
	// The member's language: the same refusal in Welsh.
	req, _ := http.NewRequest("POST", srv.URL+"/vote/http/authorise", strings.NewReader(`{"blinded":"`+base64.StdEncoding.EncodeToString(msg2)+`"}`))
	req.Header.Set("X-Test-Member", m0)
	req.Header.Set("Accept-Language", "cy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	out = map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 409 || out["error"] != "already_authorised" || !strings.Contains(out["message"].(string), "craffwr") {
		t.Errorf("second message in Welsh: %d %v", resp.StatusCode, out)
	}

	req, _ = http.NewRequest("POST", srv.URL+"/vote/nope/authorise", strings.NewReader(good))
	req.Header.Set("X-Test-Member", m0)
	resp, _ = http.DefaultClient.Do(req)
	if resp.StatusCode != 404 {
		t.Errorf("unknown ballot: %d", resp.StatusCode)
	}
	resp.Body.Close()
}

func TestPublicCounts(t *testing.T) {
	pool := pgtest.NewDB(t)
	led := electiontest.NewLedger()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "counts", Members: 4, Ledger: led, Open: true})
	svc := issuance.New(pool, electiontest.SecretKey)
	keys := issuerKeys(t, led)
	_, msg, _ := blinded(t, keys["north-depot"])
	if _, err := svc.Authorise(context.Background(), "counts", b.MemberIDs[0], msg); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	issuance.NewHandler(svc, func(*http.Request) (int64, bool) { return 0, false }, testPages(t)).Counts().Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get("/issuance/v1/counts/counts"); status != 403 || !strings.Contains(body, "not_closed") {
		t.Fatalf("open ballot: %d %s", status, body)
	}
	if err := b.Admin.Close(context.Background(), "s", b.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	status, body := get("/issuance/v1/counts/counts")
	want := `{"election_id":"counts","styles":[{"style":"north-depot","entitled":2,"issued":1,"replaced":0,"postal":0},{"style":"south-depot","entitled":2,"issued":0,"replaced":0,"postal":0}]}`
	if status != 200 || strings.TrimSpace(body) != want {
		t.Fatalf("counts: %d %s", status, body)
	}
	if status, _ := get("/issuance/v1/nope/counts"); status != 404 {
		t.Fatalf("unknown: %d", status)
	}
}

// testPages are the site's pages with issuance's catalogue, as the
// service has them.
func testPages(t *testing.T) *page.Pages {
	t.Helper()
	p, err := page.New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := issuance.RegisterStaffPages(p); err != nil {
		t.Fatal(err)
	}
	return p
}
