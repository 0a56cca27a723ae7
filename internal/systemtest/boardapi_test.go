package systemtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"gopkg.in/yaml.v3"

	"github.com/unionvote/eballot/crypto/blind"
	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/crypto/report"
	"github.com/unionvote/eballot/crypto/tally"
	"github.com/unionvote/eballot/crypto/threshold"
	"github.com/unionvote/eballot/crypto/verify"
	"github.com/unionvote/eballot/internal/election/electiontest"
)

// The board's API description as a client reads it.
type apiDoc struct {
	Paths      map[string]map[string]*apiOp `yaml:"paths"`
	Components struct {
		Parameters map[string]*apiParam    `yaml:"parameters"`
		Schemas    map[string]any          `yaml:"schemas"`
		Responses  map[string]*apiResponse `yaml:"responses"`
		Headers    map[string]any          `yaml:"headers"`
	} `yaml:"components"`
}

type apiOp struct {
	OperationID string                  `yaml:"operationId"`
	Parameters  []*apiParam             `yaml:"parameters"`
	Responses   map[string]*apiResponse `yaml:"responses"`
}

type apiParam struct {
	Ref      string         `yaml:"$ref"`
	Name     string         `yaml:"name"`
	In       string         `yaml:"in"`
	Required bool           `yaml:"required"`
	Schema   map[string]any `yaml:"schema"`
}

type apiResponse struct {
	Ref     string                    `yaml:"$ref"`
	Headers map[string]map[string]any `yaml:"headers"`
	Content map[string]struct {
		Schema map[string]any `yaml:"schema"`
	} `yaml:"content"`
}

func loadAPI(t *testing.T) *apiDoc {
	t.Helper()
	b, err := os.ReadFile("../../docs/board-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d apiDoc
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatalf("docs/board-api.yaml: %v", err)
	}
	return &d
}

func (d *apiDoc) param(p *apiParam) *apiParam {
	if p.Ref != "" {
		return d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
	}
	return p
}

func (d *apiDoc) response(r *apiResponse) *apiResponse {
	if r.Ref != "" {
		return d.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
	}
	return r
}

// validate checks v (decoded JSON) against the schema: the subset of JSON
// Schema docs/board-api.yaml uses ($ref, type, properties, required,
// additionalProperties: false, items, pattern, enum, minimum, format byte).
func (d *apiDoc) validate(schema map[string]any, v any, at string) error {
	if ref, ok := schema["$ref"].(string); ok {
		return d.validate(d.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any), v, at)
	}
	if e, ok := schema["enum"].([]any); ok && !slices.ContainsFunc(e, func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(v) }) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, e)
	}
	switch schema["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", at)
		}
		props, _ := schema["properties"].(map[string]any)
		for _, r := range asList(schema["required"]) {
			if _, ok := m[r]; !ok {
				return fmt.Errorf("%s: member %q missing", at, r)
			}
		}
		for k, x := range m {
			ps, ok := props[k].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					return fmt.Errorf("%s: member %q not in the schema", at, k)
				}
				continue
			}
			if err := d.validate(ps, x, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", at)
		}
		if it, ok := schema["items"].(map[string]any); ok {
			for i, x := range l {
				if err := d.validate(it, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", at)
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			return fmt.Errorf("%s: %q does not match %s", at, s, p)
		}
		if schema["format"] == "byte" {
			if _, err := base64.StdEncoding.Strict().DecodeString(s); err != nil {
				return fmt.Errorf("%s: not base64: %v", at, err)
			}
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				return fmt.Errorf("%s: not a date-time: %v", at, err)
			}
		}
	case "integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s: %v is not an integer", at, v)
		}
		if m, ok := schema["minimum"].(int); ok && n < float64(m) {
			return fmt.Errorf("%s: %v below %d", at, v, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", at)
		}
	}
	return nil
}

func asList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// apiCall is one request of the contract test and the status it must get.
type apiCall struct {
	method, path, ctype, body string
	hdr                       map[string]string
	want                      int
	code                      string // the error code of an error answer
}

// TestBoardAPIContract calls every path of docs/board-api.yaml on the
// running service (internal/app's wiring, real PostgreSQL), with good
// parameters and with every documented error case it can provoke, and
// checks each answer against the description: a documented status, the
// documented content type, the body against its schema, errors as the
// Error schema with no-store, 405 with Allow naming the documented methods.
// The ballot is then closed (the published counts answer), counted and
// its result published by the scrutineer's upload page (the result,
// signature and partials answer 200), and last the database goes away:
// every path answers its documented 503 with Retry-After.
func TestBoardAPIContract(t *testing.T) {
	api := loadAPI(t)
	skey, vkey, err := note.GenerateKey(rand.Reader, "scrutineer.contract.example")
	if err != nil {
		t.Fatal(err)
	}
	s := newSystem(t, 5, func(o *electiontest.Options) { o.ScrutineerKey = vkey })
	e := s.ballot.ElectionID
	ctx := context.Background()
	// The answers before the close of the paths that publish after it.
	notYet := func(path string) (int, string) {
		switch {
		case strings.HasPrefix(path, "/issuance/"):
			return 403, "not_closed"
		case strings.Contains(path, "/result") || strings.HasSuffix(path, "/partials"):
			return 404, "not_found" // nothing published yet
		}
		return 200, ""
	}
	// Two members vote, as the phone does.
	var phones []*phone
	var rcs []*receipt.Receipt
	for i := range 2 {
		mem := s.member(i)
		mem.signedInPage("member")
		p := s.newPhone(i, i)
		rc, err := vote(s, mem, p, time.Now().Add(time.Minute), func(string, resp) {})
		if err != nil {
			t.Fatal(err)
		}
		phones, rcs = append(phones, p), append(rcs, rc)
	}
	// A third member's authorisation of the first ballot's tracker: the
	// tracker is in the ledger with another authorisation (409).
	mem := s.member(2)
	mem.signedInPage("member")
	dup := s.newPhone(2, 0)
	if dup.style != phones[0].style {
		t.Fatalf("members 0 and 2 vote in different workplaces")
	}
	dup.ballot, dup.tracker = phones[0].ballot, phones[0].tracker
	der, _ := base64.StdEncoding.DecodeString(dup.m.Styles[dup.style].IssuerKey)
	pk, err := blind.ParsePublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	prepared, err := blind.Prepare(rand.Reader, dup.tracker[:])
	if err != nil {
		t.Fatal(err)
	}
	if dup.blinded, dup.state, err = blind.Blind(rand.Reader, pk, prepared); err != nil {
		t.Fatal(err)
	}
	r := mem.send("POST", "/vote/"+e+"/authorise", "application/json", strings.NewReader(dup.authoriseBody()), map[string]string{"X-CSRF-Token": mem.CSRF})
	if r.code != http.StatusOK {
		t.Fatalf("authorise: %d %s", r.code, r.body)
	}
	if err := dup.finish([]byte(r.body)); err != nil {
		t.Fatal(err)
	}
	latest, err := s.svc.Ledger.LatestCheckpoint(ctx, e)
	if err != nil {
		t.Fatal(err)
	}
	n := fmt.Sprint(latest.Size)
	tr := hex.EncodeToString(rcs[0].Tracker[:])
	good := map[string]string{"election": e, "size": n, "index": "0", "tracker": tr, "code": rcs[0].ShortCode,
		"from": "0", "count": "10", "old": "1", "new": n}
	// A value of each parameter that is not in its documented form.
	bad := map[string]string{"size": "x", "index": "-1", "tracker": strings.ToUpper(tr), "code": "!!", "from": "-1", "count": "0", "old": "x", "new": "x"}
	const unknown = "no-such-ballot"
	tooBig := `{"ballot":"` + strings.Repeat("A", 200<<10) + `","authorisation":""}`
	castBody := func(p *phone) string { return p.castBody() }

	var calls []apiCall
	covered := map[string]bool{} // "path status"
	build := func(path string, op *apiOp, vals map[string]string) string {
		u := path
		var q []string
		for _, p := range op.Parameters {
			p = api.param(p)
			v, ok := vals[p.Name]
			if !ok {
				continue
			}
			switch p.In {
			case "path":
				u = strings.ReplaceAll(u, "{"+p.Name+"}", v)
			case "query":
				q = append(q, p.Name+"="+v)
			}
		}
		if len(q) > 0 {
			u += "?" + strings.Join(q, "&")
		}
		return u
	}
	with := func(m map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for a, b := range m {
			c[a] = b
		}
		c[k] = v
		return c
	}
	paths := make([]string, 0, len(api.Paths))
	for p := range api.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		for method, op := range api.Paths[path] {
			method = strings.ToUpper(method)
			if method == "POST" { // the cast
				calls = append(calls,
					apiCall{method: "POST", path: build(path, op, good), ctype: "application/json", body: castBody(phones[0]), want: 200},
					apiCall{method: "POST", path: build(path, op, good), ctype: "application/json", body: `{}`, want: 400, code: "malformed"},
					apiCall{method: "POST", path: build(path, op, good), ctype: "application/json", body: castBody(dup), want: 409, code: "duplicate_tracker"},
					apiCall{method: "POST", path: build(path, op, good), ctype: "application/json", body: tooBig, want: 413, code: "too_large"},
					apiCall{method: "POST", path: build(path, op, good), ctype: "application/json", body: `{"ballot":"` + strings.Repeat("A", 2<<20) + `"}`, want: 413, code: "too_large"},
					apiCall{method: "POST", path: build(path, op, good), ctype: "text/plain", body: castBody(phones[0]), want: 403, code: "forbidden"},
					apiCall{method: "POST", path: build(path, op, good), ctype: "application/json", body: castBody(phones[0]), hdr: map[string]string{"Cookie": "eb_pre=x"}, want: 403, code: "forbidden"},
					apiCall{method: "POST", path: build(path, op, with(good, "election", unknown)), ctype: "application/json", body: castBody(phones[0]), want: 404, code: "unknown_election"},
				)
			} else {
				c := apiCall{method: method, path: build(path, op, good)}
				c.want, c.code = notYet(path)
				calls = append(calls, c)
				if _, ok := op.Responses["400"]; ok {
					for _, p := range op.Parameters {
						if v, ok := bad[api.param(p).Name]; ok {
							calls = append(calls, apiCall{method: method, path: build(path, op, with(good, api.param(p).Name, v)), want: 400, code: "bad_request"})
						}
					}
				}
				calls = append(calls, apiCall{method: method, path: build(path, op, with(good, "election", unknown)), want: 404, code: "unknown_election"})
			}
			for _, m := range []string{"DELETE", "PUT", "PATCH"} {
				calls = append(calls, apiCall{method: m, path: build(path, op, good), want: 405, code: "method_not_allowed"})
			}
		}
	}

	anon := s.client()
	anon.HTTP.Jar = nil
	anon.Origin = ""
	check := func(path string, c apiCall) {
		t.Helper()
		var op *apiOp
		for m, o := range api.Paths[path] {
			if strings.ToUpper(m) == c.method || op == nil {
				op = o
			}
		}
		r := anon.send(c.method, c.path, c.ctype, strings.NewReader(c.body), c.hdr)
		what := fmt.Sprintf("%s %s", c.method, c.path)
		if len(what) > 120 {
			what = what[:120] + "…"
		}
		if r.code != c.want {
			t.Errorf("%s: %d, want %d: %.300s", what, r.code, c.want, r.body)
			return
		}
		covered[fmt.Sprintf("%s %d", path, r.code)] = true
		if c.want == 405 {
			var allow []string
			for m := range api.Paths[path] {
				allow = append(allow, strings.ToUpper(m))
			}
			got := strings.Split(r.h.Get("Allow"), ", ")
			if !slices.Contains(got, allow[0]) || slices.Contains(got, c.method) {
				t.Errorf("%s: Allow %q, want the documented %v", what, r.h.Get("Allow"), allow)
			}
		}
		{
			doc, ok := op.Responses[fmt.Sprint(r.code)]
			if !ok {
				t.Errorf("%s: status %d is not documented", what, r.code)
				return
			}
			doc = api.response(doc)
			ctype, _, _ := strings.Cut(r.h.Get("Content-Type"), ";")
			if len(doc.Content) == 0 && r.body == "" {
				return // documented without a body (checked: the Allow header above)
			}
			ct, ok := doc.Content[ctype]
			if !ok {
				t.Errorf("%s: %d with Content-Type %q, not documented", what, r.code, ctype)
				return
			}
			if ctype == "application/json" {
				var v any
				if err := json.Unmarshal([]byte(r.body), &v); err != nil {
					t.Errorf("%s: %d body is not JSON: %v", what, r.code, err)
					return
				}
				if err := api.validate(ct.Schema, v, "body"); err != nil {
					t.Errorf("%s: %d body does not match its schema: %v (%.200s)", what, r.code, err, r.body)
				}
			}
			for h := range doc.Headers {
				if r.h.Get(h) == "" {
					t.Errorf("%s: %d without its documented header %s", what, r.code, h)
				}
			}
		}
		if r.code >= 400 {
			var eb struct{ Error, Message string }
			if err := json.Unmarshal([]byte(r.body), &eb); err != nil || eb.Error != c.code || eb.Message == "" {
				t.Errorf("%s: %d body %.200q, want the error %q", what, r.code, r.body, c.code)
			}
			if err := api.validate(map[string]any{"$ref": "#/components/schemas/Error"}, mustJSON(r.body), "error"); err != nil {
				t.Errorf("%s: %v", what, err)
			}
			if cc := r.h.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: %d with Cache-Control %q, want no-store", what, r.code, cc)
			}
		}
	}
	for _, c := range calls {
		path := ""
		for p := range api.Paths {
			re := strings.ReplaceAll(regexp.QuoteMeta(paramRE.ReplaceAllString(p, "PARAM")), "PARAM", `[^/?]+`)
			if regexp.MustCompile(`^` + re + `(\?.*)?$`).MatchString(c.path) {
				if path == "" || len(p) > len(path) {
					path = p
				}
			}
		}
		if path == "" {
			t.Fatalf("%s matches no documented path", c.path)
		}
		check(path, c)
	}

	// The cast of a new ballot (201), then the close: a cast is refused
	// (403 election_not_open) and the board serves the closed election.
	p := s.newPhone(3, 1)
	mem = s.member(3)
	mem.signedInPage("member")
	r = mem.send("POST", "/vote/"+e+"/authorise", "application/json", strings.NewReader(p.authoriseBody()), map[string]string{"X-CSRF-Token": mem.CSRF})
	if r.code != http.StatusOK || p.finish([]byte(r.body)) != nil {
		t.Fatalf("authorise: %d %s", r.code, r.body)
	}
	late := s.newPhone(4, 0) // authorised before the close, cast after it
	mem = s.member(4)
	mem.signedInPage("member")
	r = mem.send("POST", "/vote/"+e+"/authorise", "application/json", strings.NewReader(late.authoriseBody()), map[string]string{"X-CSRF-Token": mem.CSRF})
	if r.code != http.StatusOK || late.finish([]byte(r.body)) != nil {
		t.Fatalf("authorise: %d %s", r.code, r.body)
	}
	cast := "/ledger/v1/" + e + "/cast"
	check("/ledger/v1/{election}/cast", apiCall{method: "POST", path: cast, ctype: "application/json", body: p.castBody(), want: 201})
	if err := s.ballot.Admin.Close(ctx, "scrutineer:test", s.ballot.ID, "test: closed early to count"); err != nil {
		t.Fatal(err)
	}
	check("/ledger/v1/{election}/cast", apiCall{method: "POST", path: cast, ctype: "application/json", body: late.castBody(), want: 403, code: "election_not_open"})
	check("/ledger/v1/{election}/", apiCall{method: "GET", path: "/ledger/v1/" + e + "/", want: 200})
	check("/ledger/v1/{election}/export", apiCall{method: "GET", path: "/ledger/v1/" + e + "/export", want: 200})
	countsPath := "/issuance/v1/{election}/counts"
	check(countsPath, apiCall{method: "GET", path: "/issuance/v1/" + e + "/counts", want: 200})
	published := anon.get("/issuance/v1/" + e + "/counts").body
	for _, p := range []string{"/ledger/v1/{election}/result", "/ledger/v1/{election}/result/signature", "/ledger/v1/{election}/partials"} {
		check(p, apiCall{method: "GET", path: strings.ReplaceAll(p, "{election}", e), want: 404, code: "not_found"})
	}

	// The scrutineer counts (the export checked against the published
	// counts, two trustees' partial decryptions) and publishes the signed
	// result with the upload page; the board then serves it.
	rep, sig, partials := s.count(t, skey, []byte(published))
	scr := s.staff("scrutineer", 0)
	scr.signedInPage("scrutineer")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for field, fs := range map[string][][]byte{"report": {rep}, "signature": {sig}, "partials": partials} {
		for i, f := range fs {
			w, _ := mw.CreateFormFile(field, fmt.Sprintf("%s-%d.json", field, i+1))
			_, _ = w.Write(f)
		}
	}
	_ = mw.Close()
	r = scr.send("POST", fmt.Sprintf("/scrutineer/ballots/%d/result", s.ballot.ID), mw.FormDataContentType(), &body, map[string]string{"X-CSRF-Token": scr.CSRF})
	if r.code != http.StatusOK && r.code != http.StatusSeeOther {
		t.Fatalf("publish the result: %d %.500s", r.code, r.body)
	}
	check("/ledger/v1/{election}/result", apiCall{method: "GET", path: "/ledger/v1/" + e + "/result", want: 200})
	check("/ledger/v1/{election}/result/signature", apiCall{method: "GET", path: "/ledger/v1/" + e + "/result/signature", want: 200})
	check("/ledger/v1/{election}/partials", apiCall{method: "GET", path: "/ledger/v1/" + e + "/partials", want: 200})
	if got := anon.get("/ledger/v1/" + e + "/result").body; got != string(rep) {
		t.Errorf("the board serves another report.json than the one published:\n%.300s", got)
	}
	if got := anon.get("/ledger/v1/" + e + "/result/signature").body; got != string(sig) {
		t.Errorf("the board serves other signature lines than those published: %q", got)
	}

	// The database goes away: every documented 503, with Retry-After.
	// The manifest, once read, is served from memory (it never changes):
	// its 503 is for a replica that has not read it yet, not provoked here.
	const memoryServed = "/ledger/v1/{election}/manifest"
	s.pool.Close()
	for _, path := range paths {
		for method, op := range api.Paths[path] {
			if _, ok := op.Responses["503"]; !ok || path == memoryServed {
				continue
			}
			c := apiCall{method: strings.ToUpper(method), path: build(path, op, good), want: 503, code: "unavailable"}
			if c.method == "POST" {
				c.ctype, c.body = "application/json", late.castBody()
			}
			check(path, c)
		}
	}

	// Every path and every documented status it can be made to answer.
	for _, path := range paths {
		for method, op := range api.Paths[path] {
			for st := range op.Responses {
				if !covered[path+" "+st] && !(path == "/ledger/v1/{election}/manifest" && st == "503") {
					t.Errorf("%s %s: the documented %s was never answered", strings.ToUpper(method), path, st)
				}
			}
		}
	}
	t.Logf("%d calls, %d documented (path, status) seen", len(calls), len(covered))
}

func mustJSON(s string) any {
	var v any
	_ = json.Unmarshal([]byte(s), &v)
	return v
}

// count is the scrutineer's count of the closed ballot with the scrutineer
// tool's library (as `scrutineer verify`, `decrypt`, `tally` and `report`
// do): the export verified against the published counts, trustees 1 and
// 3 decrypt, the result computed and signed. It returns report.json, its
// signature lines and the two partial decryptions.
func (s *system) count(t *testing.T, skey string, published []byte) (rep, sig []byte, partials [][]byte) {
	t.Helper()
	ctx := context.Background()
	var exp bytes.Buffer
	if err := s.svc.Ledger.Export(ctx, &exp, s.ballot.ElectionID, -1, nil); err != nil {
		t.Fatal(err)
	}
	v, err := verify.Verify(ctx, &exp, verify.Options{Published: published})
	if err != nil || !v.OK() {
		t.Fatalf("verify: %v %+v", err, v.Failures)
	}
	mh := v.Election.ManifestHash()
	alphas := v.Sums.Alphas()
	var ps []*threshold.Partial
	for _, j := range []int{0, 2} {
		p, err := threshold.PartialDecrypt(rand.Reader, s.ballot.Trustees, s.ballot.Shares[j], mh[:], alphas)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		pj, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		partials = append(partials, append(pj, '\n'))
	}
	counts, bad, err := tally.Decrypt(s.ballot.Trustees, v.Sums, ps)
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	counts.ClosedAt = v.ClosedAt // the actual close, from the signed close
	res, err := tally.Compute(v.Manifest, counts)
	if err != nil {
		t.Fatal(err)
	}
	rf := &report.ResultFile{Version: report.Version, Result: res, Verification: report.Summary(v), Rejected: []report.RejectedTrust{}}
	rf.Verification.Issued = v.Issued
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	r := report.New(rf, signer.Name(), report.Options{Date: time.Now().UTC().Format(time.DateOnly)})
	if rep, sig, err = report.Sign(r, signer); err != nil {
		t.Fatal(err)
	}
	return rep, sig, partials
}
