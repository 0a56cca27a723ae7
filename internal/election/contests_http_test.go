package election_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
	"github.com/unionvote/eballot/internal/web/page"
	"github.com/unionvote/eballot/internal/web/webtest"
)

// electionServer serves the admin pages and the public pages (the
// candidates' addresses).
func electionServer(t *testing.T, b *electiontest.Ballot) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pages, err := page.New(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := election.RegisterPages(pages); err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	election.NewAdminPages(b.Admin, b.Store, pages, webtest.Staff, log).Routes(r)
	election.NewHomePage(b.Store, pages, false).Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

// testJPEG is a w×h JPEG with an EXIF-like APP1 block (which the service
// must strip) after its SOI marker.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x%h, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	app1 := append([]byte{0xff, 0xe1, 0x00, 0x16}, []byte("Exif\x00\x00GPS 51.48N 3.18W")...)
	return append(append(append([]byte{}, b[:2]...), app1...), b[2:]...)
}

// addressForm posts a candidate's address as the browser does: a
// multipart form, the "csrf" field first.
func addressForm(t *testing.T, c *webtest.Client, path string, fields map[string]string, photo []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", "test")
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if photo != nil {
		fw, _ := mw.CreateFormFile("photo", "me.jpg")
		fw.Write(photo)
	}
	mw.Close()
	return c.Do("POST", path, mw.FormDataContentType(), &buf)
}

// An organiser sets a union election up through the pages: the kind,
// contests (ranked STV and choose-up-to-N), candidates' election
// addresses with a photo, the address limit and the independent person;
// every mistake is refused with its reason; the opening checklist names
// what is missing; the opening freezes it all; members then read the
// same addresses, in English and Welsh, with the photo served strictly.
func TestUnionElectionSetupJourney(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "exec-2027", Members: 4, Ready: true})
	srv := electionServer(t, b)
	org := newClient(t, srv, "organiser", b.UnionID)
	other := newClient(t, srv, "organiser", b.UnionID+1000)
	scr := newClient(t, srv, "scrutineer", 0)
	id := strconv.FormatInt(b.ID, 10)
	base := "/organiser/ballots/" + id + "/election"

	// An industrial action ballot has no election page.
	if status, _ := org.Get(base); status != 404 {
		t.Fatalf("election page of an IA ballot: %d", status)
	}
	// The organiser makes it a union election with the set-up form.
	status, body := org.Post("/organiser/ballots/"+id+"/edit", url.Values{"title": {"Executive election 2027"}, "kind": {"union_election"},
		"workplaces": {"North Depot | Acme Transport Ltd\nSouth Depot | Acme Transport Ltd"},
		"opens_at":   {"2026-01-01T09:00"}, "closes_at": {"2030-01-01T09:00"}})
	if status != 200 || !strings.Contains(body, "Contests, candidates and election addresses") {
		t.Fatalf("make it an election: %d %s", status, body)
	}
	for _, why := range []string{"add at least one contest", "name the independent person (s.51A)"} {
		if !strings.Contains(body, why) {
			t.Errorf("checklist lacks %q", why)
		}
	}
	if status, _ := other.Get(base); status != 404 {
		t.Fatalf("another union's organiser reached the page: %d", status)
	}

	// Mistakes are refused with their reason, and the form is shown back.
	contest := url.Values{"title": {"National Executive"}, "title_cy": {"Pwyllgor Gwaith Cenedlaethol"},
		"candidates": {"Ann Jones\nBob Smith\nCerys Evans\nDewi Lloyd"}, "method": {"ranked"}, "rule": {"meek"},
		"seats": {"2"}, "min": {"1"}, "max": {"4"}}
	for _, c := range []struct {
		field, value, want string
	}{
		{"seats", "4", "fewer than its 4 candidates"},
		{"seats", "two", "the seats must be a whole number"},
		{"rule", "borda", "choose the counting rules"},
		{"max", "5", "at most its 4 candidates"},
		{"min", "0", "at least 1"},
		{"candidates", "Ann Jones\nann jones\nBob", "listed twice"},
		{"candidates", "Ann Jones", "at least 2 candidates"},
		{"title", "", "give the contest a title"},
		{"method", "approval", "choose how members vote"},
	} {
		bad := url.Values{}
		for k, v := range contest {
			bad[k] = v
		}
		bad.Set(c.field, c.value)
		status, body := org.Post(base+"/contests", bad)
		if status != 422 || !strings.Contains(body, c.want) {
			t.Errorf("%s=%q: %d, want 422 with %q", c.field, c.value, status, c.want)
		}
		if c.want == "listed twice" && !strings.Contains(body, "ann jones") {
			t.Errorf("%s: form not shown back", c.field)
		}
	}
	status, body = org.Post(base+"/contests", contest)
	if status != 200 || !strings.Contains(body, "Contest added.") || !strings.Contains(body, "Meek&#39;s method") {
		t.Fatalf("add ranked contest: %d %s", status, body)
	}
	choose := url.Values{"title": {"President"}, "title_cy": {"Llywydd"}, "candidates": {"Eve Price\nFrank Hughes"},
		"method": {"choose"}, "rule": {"ers97"}, "seats": {"1"}, "min": {"0"}, "max": {"2"}}
	if status, body := org.Post(base+"/contests", choose); status != 422 || !strings.Contains(body, "at most the 1 seats") {
		t.Fatalf("choose 2 of 1 seat: %d", status)
	}
	choose.Set("max", "1")
	if status, _ := org.Post(base+"/contests", choose); status != 200 {
		t.Fatalf("add choose contest: %d", status)
	}
	// A third contest, added then removed.
	extra := url.Values{"title": {"Treasurer"}, "title_cy": {"Trysorydd"}, "candidates": {"G\nH"}, "method": {"ranked"},
		"rule": {"ers97"}, "seats": {"1"}, "min": {"1"}, "max": {"2"}}
	org.Post(base+"/contests", extra)
	if status, body := org.Post(base+"/contests/c3/remove", url.Values{}); status != 200 || !strings.Contains(body, "Contest removed.") || strings.Contains(body, "Treasurer") {
		t.Fatalf("remove: %d", status)
	}
	eb, err := b.Store.AdminBallot(ctx, b.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	qs := eb.Config.Questions
	if len(qs) != 2 || qs[0].Method != "ranked" || qs[0].Rule != "meek" || qs[0].Seats != 2 || qs[0].Min != 1 || qs[0].Max != 4 ||
		len(qs[0].Options) != 4 || qs[0].Options[2].Label != "Cerys Evans" || qs[0].TextCy != "Pwyllgor Gwaith Cenedlaethol" ||
		qs[1].Method != "choose" || qs[1].Rule != "" || qs[1].Max != 1 {
		t.Fatalf("contests stored: %+v", qs)
	}

	// The address limit (never below 100 words, s.48(3)) and the
	// independent person, who holds trustee 2's key share.
	if status, body := org.Post(base+"/settings", url.Values{"address_words": {"99"}}); status != 422 || !strings.Contains(body, "between 100 and 5000 words") {
		t.Fatalf("99 words: %d", status)
	}
	if status, body := org.Post(base+"/settings", url.Values{"address_words": {"100"}, "independent_name": {"Jo Bloggs"}, "key_required": {"on"}}); status != 422 || !strings.Contains(body, "trustee number") {
		t.Fatalf("key required without a trustee: %d", status)
	}
	if status, body := org.Post(base+"/settings", url.Values{"address_words": {"100"}, "independent_name": {"Jo Bloggs"},
		"independent_organisation": {"Ballot Services Ltd"}, "independent_trustee": {"4"}, "key_required": {"on"}}); status != 200 || !strings.Contains(body, "Settings saved.") {
		t.Fatalf("settings: %d %s", status, body)
	}
	status, body = scr.Get("/scrutineer/ballots/" + id)
	if !strings.Contains(body, "the independent person is trustee 4 but the key ceremony has 3 trustees") || !strings.Contains(body, "Jo Bloggs, Ballot Services Ltd") {
		t.Fatalf("checklist on trustee 4 of 3: %d %s", status, body)
	}
	org.Post(base+"/settings", url.Values{"address_words": {"100"}, "independent_name": {"Jo Bloggs"},
		"independent_organisation": {"Ballot Services Ltd"}, "independent_trustee": {"2"}, "key_required": {"on"}})

	// Election addresses: over the word limit, a file that is not an
	// image, a GIF and an oversized image are refused; a JPEG with
	// metadata is kept without it.
	addr := base + "/contests/c1/candidates/k1/address"
	status, body = org.Get(addr)
	if status != 200 || !strings.Contains(body, "Ann Jones") || !strings.Contains(body, `enctype="multipart/form-data"`) {
		t.Fatalf("address form: %d", status)
	}
	long := strings.Repeat("word ", 101)
	if status, body := addressForm(t, org, addr, map[string]string{"text_en": long}, nil); status != 422 || !strings.Contains(body, "the English address has 101 words; your union&#39;s limit is 100") {
		t.Fatalf("101 words: %d %s", status, body)
	}
	if status, body := addressForm(t, org, addr, map[string]string{"text_cy": long}, nil); status != 422 || !strings.Contains(body, "Welsh address has 101 words") {
		t.Fatalf("101 Welsh words: %d", status)
	}
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	for name, photo := range map[string][]byte{"text": []byte("<script>alert(1)</script>"), "gif": gif} {
		if status, body := addressForm(t, org, addr, map[string]string{"text_en": "Hi"}, photo); status != 422 || !strings.Contains(body, "must be a JPEG or PNG") {
			t.Errorf("%s as a photo: %d", name, status)
		}
	}
	if status, body := addressForm(t, org, addr, map[string]string{"text_en": "Hi"}, testJPEG(t, 2049, 8)); status != 422 || !strings.Contains(body, "at most 2048 pixels") {
		t.Errorf("wide photo: %d", status)
	}
	textEn := "I will fight for fair pay.\r\nAnd for safe depots."
	textCy := "Byddaf yn ymladd dros gyflog teg."
	status, body = addressForm(t, org, addr, map[string]string{"text_en": textEn, "text_cy": textCy}, testJPEG(t, 40, 30))
	if status != 200 || !strings.Contains(body, "Election address saved.") || !strings.Contains(body, "election address, photo") {
		t.Fatalf("save address: %d %s", status, body)
	}
	addressForm(t, org, base+"/contests/c1/candidates/k2/address", map[string]string{"text_en": "Bob for the executive."}, nil)
	if status, _ := other.Get(base + "/contests/c1/candidates/k1/photo"); status != 404 {
		t.Fatalf("another union's organiser reached the photo: %d", status)
	}
	// Saving the text again keeps the photo.
	addressForm(t, org, addr, map[string]string{"text_en": textEn, "text_cy": textCy}, nil)
	addrs, err := b.Store.Addresses(ctx, nil, b.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	a := addrs[[2]string{"c1", "k1"}]
	if a.TextEn != "I will fight for fair pay.\nAnd for safe depots." || a.TextCy != textCy || a.PhotoType != "image/jpeg" || a.PhotoWidth != 40 || a.PhotoHeight != 30 {
		t.Fatalf("address stored: %+v", a)
	}
	ph, hash, err := b.Store.AddressPhoto(ctx, b.ID, "", "c1", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ph.Data, []byte("Exif")) || bytes.Contains(ph.Data, []byte("GPS")) {
		t.Fatal("the photo's metadata was kept")
	}
	if _, _, err := image.Decode(bytes.NewReader(ph.Data)); err != nil {
		t.Fatalf("stored photo does not decode: %v", err)
	}
	// The stored hash is §3.2's over what is served.
	want := addressHash(a.TextEn, a.TextCy, ph.Type, ph.Data)
	if hash != want || a.Hash != want {
		t.Fatalf("address hash %s, want %s", hash, want)
	}

	// Every change is in the audit log.
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE ballot_id = $1 AND action IN ('ballot.contest_add', 'ballot.contest_remove',
		'ballot.election_settings', 'ballot.election_address')`, b.ID).Scan(&n)
	if n != 3+1+2+3 {
		t.Errorf("audit entries: %d", n)
	}

	// Before the opening, members see nothing.
	if status, _ := newClient(t, srv, "", 0).Get("/ballots/exec-2027/addresses"); status != 404 {
		t.Fatalf("addresses of a draft: %d", status)
	}

	// A member who asked for their ballot by post would be posted a ranked
	// paper that the count cannot take: the checklist says so, by number,
	// until they vote online again.
	if _, err := pool.Exec(ctx, `UPDATE members SET ballot_by = 'post' WHERE id = $1`, b.MemberIDs[0]); err != nil {
		t.Fatal(err)
	}
	const paperWhy = "the ballot has a ranked contest and 1 member(s) on the register would be posted a paper"
	if _, body := org.Get("/organiser/ballots/" + id); !strings.Contains(body, paperWhy) {
		t.Fatalf("checklist lacks the ranked paper: %s", body)
	}
	if _, err := pool.Exec(ctx, `UPDATE members SET ballot_by = 'online' WHERE id = $1`, b.MemberIDs[0]); err != nil {
		t.Fatal(err)
	}
	if _, body := org.Get("/organiser/ballots/" + id); strings.Contains(body, "rankings on paper cannot be counted") {
		t.Fatal("the ranked paper reason stayed once every member votes online")
	}

	// The scrutineer approves the paper as it now is (contests, candidates
	// and their addresses' hashes: any change after this needs a new
	// approval), opens it, and everything is frozen.
	_, body = scr.Get("/scrutineer/ballots/" + id)
	approved := regexp.MustCompile(`name="paper_hash" value="([0-9a-f]{64})"`).FindStringSubmatch(body)
	if approved == nil {
		t.Fatalf("no paper hash on the scrutineer's page")
	}
	if status, body := scr.Post("/scrutineer/ballots/"+id+"/approve-paper", url.Values{"paper_hash": {approved[1]}}); status != 200 || !strings.Contains(body, "The voting paper was approved.") {
		t.Fatalf("approve: %d", status)
	}
	status, body = scr.Post("/scrutineer/ballots/"+id+"/open", url.Values{"confirm": {"exec-2027"}})
	if status != 200 || !strings.Contains(body, "The ballot is open.") {
		t.Fatalf("open: %d %s", status, body)
	}
	if status, _ := org.Post(base+"/contests", extra); status != 409 {
		t.Fatalf("contest added after the opening: %d", status)
	}
	if status, _ := addressForm(t, org, addr, map[string]string{"text_en": "changed"}, nil); status != 409 {
		t.Fatalf("address changed after the opening: %d", status)
	}
	if status, body := org.Get(base); status != 200 || !strings.Contains(body, "can no longer change") {
		t.Fatalf("frozen page: %d", status)
	}

	// Members read the addresses, the same for everyone, in English and
	// Welsh, with the photo lazy-loaded at its size.
	anon := newClient(t, srv, "", 0)
	status, body = anon.Get("/ballots/exec-2027/addresses")
	if status != 200 {
		t.Fatalf("addresses page: %d", status)
	}
	for _, w := range []string{"National Executive", "Ann Jones", "I will fight for fair pay.\nAnd for safe depots.", "Bob for the executive.",
		"This candidate gave no election address.", `loading="lazy"`, `width="40" height="30"`, want, "Read it in Welsh"} {
		if !strings.Contains(body, w) {
			t.Errorf("addresses page lacks %q", w)
		}
	}
	photoURL := regexp.MustCompile(`src="(/ballots/exec-2027/addresses/c1/k1/photo\?v=[0-9a-f]{64})"`).FindStringSubmatch(body)
	if photoURL == nil {
		t.Fatal("no photo link")
	}
	req, _ := http.NewRequest("GET", srv.URL+photoURL[1], nil)
	req.Header.Set("Accept-Language", "cy")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
		res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !bytes.Equal(got, ph.Data) {
		t.Fatalf("photo: %d %v", res.StatusCode, res.Header)
	}
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 304 {
		t.Fatalf("photo revalidation: %v %v", res, err)
	}
	if status, _ := anon.Get("/ballots/exec-2027/addresses/c1/k2/photo"); status != 404 {
		t.Fatalf("photo of a candidate without one: %d", status)
	}
	// In Welsh: the Welsh title and address, English one tap away.
	status, body = anon.Get("/ballots/exec-2027/addresses?lang=cy")
	if status != 200 || !strings.Contains(body, `lang="cy">Byddaf yn ymladd dros gyflog teg.`) || !strings.Contains(body, "Darllen yn Saesneg") {
		t.Fatalf("Welsh addresses page: %d %s", status, body)
	}

	// The manifest frozen at the opening carries the contests (version
	// 2: the ranked contest's method, seats and rule, the candidates'
	// address hashes) and is valid.
	var raw []byte
	pool.QueryRow(ctx, `SELECT manifest FROM ballots WHERE id = $1`, b.ID).Scan(&raw)
	// The test ledger's log key is a placeholder (electiontest.Ledger):
	// Validate checks it after the questions and options, so a failure
	// there alone means every contest and address passed.
	m, err := manifest.Parse(raw)
	if err != nil && !strings.Contains(err.Error(), "log_key: malformed verifier key") {
		t.Fatalf("manifest: %v\n%s", err, raw)
	}
	if m == nil {
		m = new(manifest.Manifest)
		if err := json.Unmarshal(raw, m); err != nil {
			t.Fatal(err)
		}
	}
	if m.Version != manifest.Version2 || m.Kind != "union_election" || len(m.Questions) != 2 {
		t.Fatalf("manifest: %s", raw)
	}
	q1, q2 := m.Questions[0], m.Questions[1]
	if q1.Method != "ranked" || q1.Seats != 2 || q1.Rule != "meek" || q1.Min != 1 || q1.Max != 4 || q1.Text != "National Executive" {
		t.Errorf("ranked contest in the manifest: %+v", q1)
	}
	if q1.Options[0].Address != want || q1.Options[1].Address != addressHash("Bob for the executive.", "", "", nil) || q1.Options[2].Address != "" {
		t.Errorf("address hashes in the manifest: %+v", q1.Options)
	}
	if q2.Method != "" || q2.Seats != 0 || q2.Max != 1 || q2.Options[0].Label != "Eve Price" {
		t.Errorf("choose contest in the manifest: %+v", q2)
	}
	if m.Texts["independent_person"] != "Jo Bloggs, Ballot Services Ltd" {
		t.Errorf("independent person in the manifest: %q", m.Texts["independent_person"])
	}
	// Protocol 7: the independent person and the trustee whose share the
	// union's rules require for the count, signed with the paper, so that
	// `scrutineer ranked … --export` enforces it (s.51A).
	if ip := m.IndependentPerson; ip == nil || ip.Name != "Jo Bloggs, Ballot Services Ltd" || ip.Trustee != 2 || m.RequiredTrustee() != 2 {
		t.Errorf("independent_person in the manifest: %+v", ip)
	}
	if !strings.Contains(string(raw), `"method":"ranked"`) || !strings.Contains(string(raw), `"address":"`+want+`"`) {
		t.Errorf("manifest JSON names: %s", raw)
	}
}

// addressHash is docs/protocol.md §3.2's address_hash, written out.
func addressHash(en, cy, typ string, photo []byte) string {
	var b []byte
	for _, f := range [][]byte{[]byte(manifest.AddressDomain), []byte(en), []byte(cy), []byte(typ), photo} {
		b = append(b, byte(len(f)>>24), byte(len(f)>>16), byte(len(f)>>8), byte(len(f)))
		b = append(b, f...)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
