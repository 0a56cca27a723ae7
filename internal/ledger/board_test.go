package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/export"
	"github.com/unionvote/eballot/crypto/receipt"
)

type board struct {
	t *testing.T
	h http.Handler
}

func newBoard(t *testing.T, l *Ledger) *board {
	r := chi.NewRouter()
	l.Routes(r)
	return &board{t: t, h: r}
}

func (b *board) do(method, path string, body io.Reader) *httptest.ResponseRecorder {
	b.t.Helper()
	req := httptest.NewRequest(method, path, body)
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, req)
	if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
		b.t.Fatalf("%s %s: status %d: %s", method, path, w.Code, w.Body)
	}
	if w.Header().Get("Set-Cookie") != "" {
		b.t.Fatalf("%s %s sets a cookie", method, path)
	}
	return w
}

// want checks the status, the error code of an error answer, and the
// Cache-Control header (if cache is not empty).
func (b *board) want(method, path string, body io.Reader, status int, code, cache string) *httptest.ResponseRecorder {
	b.t.Helper()
	w := b.do(method, path, body)
	if w.Code != status {
		b.t.Fatalf("%s %s: status %d, want %d: %s", method, path, w.Code, status, w.Body)
	}
	if code != "" {
		var e errorBody
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error != code || e.Message == "" {
			b.t.Fatalf("%s %s: error body %s, want code %s", method, path, w.Body, code)
		}
		if w.Header().Get("Content-Type") != "application/json" {
			b.t.Fatalf("%s %s: content type %q", method, path, w.Header().Get("Content-Type"))
		}
	}
	if cache != "" && w.Header().Get("Cache-Control") != cache {
		b.t.Fatalf("%s %s: Cache-Control %q, want %q", method, path, w.Header().Get("Cache-Control"), cache)
	}
	return w
}

func castJSON(c *testCast) io.Reader {
	return strings.NewReader(fmt.Sprintf(`{"ballot":%q,"authorisation":%q}`,
		base64.StdEncoding.EncodeToString(c.ballot), base64.StdEncoding.EncodeToString(c.auth)))
}

const pre = "/ledger/v1/" + testElection

func TestBoardCast(t *testing.T) {
	l, f, _ := newOpenLedger(t)
	b := newBoard(t, l)
	casts := f.castsN(t, 3)

	w := b.want("POST", pre+"/cast", castJSON(casts[0]), http.StatusCreated, "", cacheNone)
	rc, err := receipt.ParseReceipt(w.Body.Bytes())
	if err != nil {
		t.Fatalf("receipt: %v: %s", err, w.Body)
	}
	entry := append(append(append([]byte(nil), casts[0].tracker[:]...), casts[0].auth...), casts[0].ballot...)
	if _, err := receipt.VerifyReceipt(rc, f.logKey, entry); err != nil {
		t.Fatal(err)
	}
	w = b.want("POST", pre+"/cast", castJSON(casts[0]), http.StatusOK, "", cacheNone)
	if rc2, err := receipt.ParseReceipt(w.Body.Bytes()); err != nil || rc2.Index != rc.Index {
		t.Fatalf("resubmission: %v", err)
	}

	good := fmt.Sprintf(`{"ballot":%q,"authorisation":%q}`, base64.StdEncoding.EncodeToString(casts[1].ballot), base64.StdEncoding.EncodeToString(casts[1].auth))
	for _, tc := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"unknown field", pre + "/cast", `{"ballot":"AA==","authorisation":"AA==","member":"x"}`, 400, "malformed"},
		{"not json", pre + "/cast", `ballot=1`, 400, "malformed"},
		{"trailing", pre + "/cast", good + `{}`, 400, "malformed"},
		{"bad base64", pre + "/cast", `{"ballot":"@@@","authorisation":"AA=="}`, 400, "malformed"},
		{"empty", pre + "/cast", `{}`, 400, "malformed"},
		{"too large", pre + "/cast", `{"ballot":"` + strings.Repeat("A", 130<<10) + `","authorisation":""}`, 413, "too_large"},
		{"bad signature", pre + "/cast", fmt.Sprintf(`{"ballot":%q,"authorisation":%q}`, base64.StdEncoding.EncodeToString(casts[1].ballot), base64.StdEncoding.EncodeToString(casts[2].auth)), 400, "bad_signature"},
		{"unknown election", "/ledger/v1/nope/cast", good, 404, "unknown_election"},
		{"bad election id", "/ledger/v1/NOPE!/cast", good, 404, "unknown_election"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.t = t
			b.want("POST", tc.path, strings.NewReader(tc.body), tc.status, tc.code, cacheNone)
		})
	}
	b.t = t
	b.want("POST", pre+"/cast", strings.NewReader(good), http.StatusCreated, "", cacheNone)
	if _, err := l.Close(context.Background(), testElection); err != nil {
		t.Fatal(err)
	}
	b.want("POST", pre+"/cast", castJSON(casts[2]), http.StatusForbidden, "election_not_open", cacheNone)

	// Rejections are counted by code.
	for code, want := range map[string]float64{"malformed": 5, "too_large": 1, "bad_signature": 1, "unknown_election": 2, "election_not_open": 1} {
		var m dto.Metric
		if err := l.metrics.rejected.WithLabelValues(code).Write(&m); err != nil {
			t.Fatal(err)
		}
		if got := m.GetCounter().GetValue(); got != want {
			t.Errorf("rejections{code=%q} = %v, want %v", code, got, want)
		}
	}
}

func TestBoardRead(t *testing.T) {
	l, f, _ := newOpenLedger(t)
	b := newBoard(t, l)
	casts := f.castsN(t, 5)
	castN(t, l, casts)
	ctx := context.Background()
	latest, err := l.LatestCheckpoint(ctx, testElection)
	if err != nil || latest.Size != 5 {
		t.Fatal(latest, err)
	}

	// Status and manifest.
	w := b.want("GET", pre+"/", nil, 200, "", cacheFresh)
	var st statusBody
	if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Size != 5 || st.Closed || st.LogKey != f.logKey {
		t.Fatalf("status: %s", w.Body)
	}
	w = b.want("GET", pre+"/manifest", nil, 200, "", cacheImmutable)
	if h := sha256.Sum256(w.Body.Bytes()); hex.EncodeToString(h[:]) != st.ManifestHash || !bytes.Equal(w.Body.Bytes(), f.manifestJSON) {
		t.Fatal("manifest does not hash to manifest_hash")
	}

	// Checkpoints.
	var cp checkpointBody
	w = b.want("GET", pre+"/checkpoint", nil, 200, "", cacheFresh)
	if err := json.Unmarshal(w.Body.Bytes(), &cp); err != nil || cp.Size != 5 {
		t.Fatalf("latest: %s", w.Body)
	}
	if c, err := receipt.OpenCheckpoint([]byte(cp.Note), f.logKey); err != nil || c.Size != 5 || hex.EncodeToString(c.Root[:]) != cp.Root {
		t.Fatalf("latest checkpoint does not open: %v", err)
	}
	b.want("GET", pre+"/checkpoints/3", nil, 200, "", cacheImmutable)
	b.want("GET", pre+"/checkpoints/0", nil, 200, "", cacheImmutable)
	b.want("GET", pre+"/checkpoints/99", nil, 404, "not_found", cacheNone)
	b.want("GET", pre+"/checkpoints/abc", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/checkpoints/-1", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/checkpoints/99999999999999999999999", nil, 400, "bad_request", cacheNone)
	w = b.want("GET", pre+"/checkpoints?from=2&count=2", nil, 200, "", cacheFresh)
	var cps struct{ Checkpoints []checkpointBody }
	if err := json.Unmarshal(w.Body.Bytes(), &cps); err != nil || len(cps.Checkpoints) != 2 || cps.Checkpoints[0].Size != 2 {
		t.Fatalf("checkpoints: %s", w.Body)
	}
	b.want("GET", pre+"/checkpoints?count=0", nil, 400, "bad_request", cacheNone)

	// Entries.
	var e entryBody
	w = b.want("GET", pre+"/entries/2", nil, 200, "", cacheImmutable)
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Index != 2 || e.Tracker != hex.EncodeToString(casts[2].tracker[:]) ||
		e.Ballot != base64.StdEncoding.EncodeToString(casts[2].ballot) || e.ShortCode != receipt.ShortCode(casts[2].tracker) {
		t.Fatalf("entry: %s", w.Body)
	}
	b.want("GET", pre+"/entries/5", nil, 404, "not_found", cacheNone)
	b.want("GET", pre+"/entries/x", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/entries/1e3", nil, 400, "bad_request", cacheNone)
	w = b.want("GET", pre+"/entries?from=1&count=3", nil, 200, "", cacheImmutable)
	var es struct{ Entries []entryBody }
	if err := json.Unmarshal(w.Body.Bytes(), &es); err != nil || len(es.Entries) != 3 || es.Entries[0].Index != 1 {
		t.Fatalf("entries: %s", w.Body)
	}
	w = b.want("GET", pre+"/entries?from=3", nil, 200, "", cacheFresh) // partial: may grow
	if err := json.Unmarshal(w.Body.Bytes(), &es); err != nil || len(es.Entries) != 2 {
		t.Fatalf("entries from 3: %s", w.Body)
	}
	b.want("GET", pre+"/entries?from=0&count=1001", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/entries?from=0&count=99999999999999999999", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/entries?from=-5", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/entries?from=zz", nil, 400, "bad_request", cacheNone)

	// By tracker, and receipts.
	th := hex.EncodeToString(casts[4].tracker[:])
	w = b.want("GET", pre+"/trackers/"+th, nil, 200, "", cacheImmutable)
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Index != 4 {
		t.Fatalf("by tracker: %s", w.Body)
	}
	b.want("GET", pre+"/trackers/"+strings.ToUpper(th), nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/trackers/abcd", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/trackers/"+strings.Repeat("0", 64), nil, 404, "not_found", cacheNone)
	w = b.want("GET", pre+"/receipts/"+th, nil, 200, "", cacheFresh)
	rc, err := receipt.ParseReceipt(w.Body.Bytes())
	if err != nil || rc.Index != 4 {
		t.Fatalf("receipt: %v", err)
	}
	checkReceipt(t, l, f, rc, latest)
	// By short code, as a member types it.
	code := strings.ToLower(strings.ReplaceAll(receipt.ShortCode(casts[4].tracker), "-", ""))
	w = b.want("GET", pre+"/codes/"+code, nil, 200, "", cacheFresh)
	if rc, err := receipt.ParseReceipt(w.Body.Bytes()); err != nil || rc.Index != 4 {
		t.Fatalf("receipt by code: %v %s", err, w.Body)
	}
	b.want("GET", pre+"/codes/ZZZZ", nil, 400, "bad_request", cacheNone)
	b.want("GET", pre+"/codes/0000-0000-0000-0000", nil, 404, "not_found", cacheNone)

	// Proofs.
	var p struct {
		Proof []string
	}
	hashes := func() []tlog.Hash {
		var out []tlog.Hash
		for _, s := range p.Proof {
			h, err := hex.DecodeString(s)
			if err != nil || len(h) != 32 {
				t.Fatalf("proof hash %q", s)
			}
			out = append(out, tlog.Hash(h))
		}
		return out
	}
	w = b.want("GET", pre+"/proofs/inclusion?index=1&size=5", nil, 200, "", cacheImmutable)
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	en, _ := l.Entry(ctx, testElection, 1)
	if err := tlog.CheckRecord(hashes(), 5, latest.Root, 1, en.Leaf); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}
	cp3, _ := l.Checkpoint(ctx, testElection, 3)
	w = b.want("GET", pre+"/proofs/consistency?old=3&new=5", nil, 200, "", cacheImmutable)
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(hashes(), 5, latest.Root, 3, cp3.Root); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
	b.want("GET", pre+"/proofs/consistency?old=0&new=5", nil, 200, "", cacheImmutable)
	for _, q := range []string{
		"/proofs/inclusion?index=1&size=6", "/proofs/inclusion?index=5&size=5", "/proofs/inclusion?index=1",
		"/proofs/inclusion?index=a&size=5", "/proofs/inclusion?index=1&size=0",
		"/proofs/consistency?old=4&new=3", "/proofs/consistency?old=1&new=9", "/proofs/consistency?new=3",
	} {
		b.want("GET", pre+q, nil, 400, "bad_request", cacheNone)
	}

	// Export of the open election, up to a checkpoint.
	w = b.want("GET", pre+"/export?size=3", nil, 200, "", cacheImmutable)
	ex := readExport(t, w.Body, f.logKey)
	if ex.size != 3 || ex.closed || ex.checkpoints != 4 {
		t.Fatalf("export: %+v", ex)
	}
	w = b.want("GET", pre+"/export", nil, 200, "", cacheFresh)
	if ex := readExport(t, w.Body, f.logKey); ex.size != 5 {
		t.Fatalf("export: %+v", ex)
	}
	b.want("GET", pre+"/export?size=77", nil, 404, "not_found", cacheNone)
	b.want("GET", pre+"/export?size=x", nil, 400, "bad_request", cacheNone)
	if _, err := l.Close(ctx, testElection); err != nil {
		t.Fatal(err)
	}
	w = b.want("GET", pre+"/export", nil, 200, "", cacheImmutable)
	if ex := readExport(t, w.Body, f.logKey); ex.size != 5 || !ex.closed || ex.styleCounts[0] != 3 || ex.styleCounts[1] != 2 {
		t.Fatalf("export: %+v", ex)
	}

	// Unknown endpoints and methods answer JSON too.
	b.want("GET", pre+"/nope", nil, 404, "not_found", cacheNone)
	b.want("GET", pre+"/entries/", nil, 404, "not_found", cacheNone)
	b.want("DELETE", pre+"/entries/1", nil, 405, "method_not_allowed", cacheNone)
	b.want("GET", pre, nil, 200, "", cacheFresh)

	// Unknown elections.
	for _, path := range []string{"/", "/manifest", "/checkpoint", "/checkpoints/0", "/checkpoints", "/entries/0", "/entries",
		"/trackers/" + th, "/receipts/" + th, "/proofs/inclusion?index=0&size=1", "/proofs/consistency?old=0&new=1", "/export"} {
		b.want("GET", "/ledger/v1/other-election"+path, nil, 404, "unknown_election", cacheNone)
	}
}

// TestBoardUnavailable: with the database gone, answers are 503 with
// Retry-After, never 500.
func TestBoardUnavailable(t *testing.T) {
	l, f, pool := newOpenLedger(t)
	b := newBoard(t, l)
	casts := f.castsN(t, 1)
	pool.Close()
	for _, r := range []struct{ method, path string }{{"GET", pre + "/checkpoint"}, {"GET", pre + "/entries/0"}, {"POST", pre + "/cast"}} {
		var body io.Reader
		if r.method == "POST" {
			body = castJSON(casts[0])
		}
		w := b.want(r.method, r.path, body, http.StatusServiceUnavailable, "unavailable", cacheNone)
		if w.Header().Get("Retry-After") == "" {
			t.Fatalf("%s: no Retry-After", r.path)
		}
	}
}

type exportSummary struct {
	size        int64
	closed      bool
	checkpoints int
	styleCounts []int64
}

// readExport reads an export as the scrutineer would (crypto/export,
// streaming) and checks it: header, manifest hash, entries in order, every
// checkpoint's signature and root at its place, the signed close of a
// closed election, counts and the end line.
func readExport(t *testing.T, r io.Reader, logKey string) exportSummary {
	t.Helper()
	rd, err := export.NewReader(r)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	h := rd.Header()
	if h.Version != export.Version || h.ElectionID != testElection || h.LogKey != logKey || sha256.Sum256(rd.Manifest()) != h.ManifestHash {
		t.Fatalf("export header: %+v", h)
	}
	var tb receipt.TreeBuilder
	sum := exportSummary{size: h.TreeSize, closed: h.Closed, styleCounts: []int64{0, 0}}
	closed := false
	for {
		it, err := rd.Next()
		if err == io.EOF {
			if !closed && h.Closed {
				t.Fatal("a closed export without its close")
			}
			return sum
		}
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		switch it.Kind {
		case export.KindCheckpoint, export.KindClose:
			c := it.Checkpoint
			cp, err := receipt.OpenCheckpoint(c.Note, logKey)
			if err != nil || cp.Size != tb.Size() || cp.Root != tb.Root() || [32]byte(cp.Root) != c.Root || cp.Closed != (it.Kind == export.KindClose) {
				t.Fatalf("export: checkpoint %d at %d: %v", c.Size, tb.Size(), err)
			}
			if it.Kind == export.KindClose {
				closed = true
			} else {
				sum.checkpoints++
			}
		case export.KindEntry:
			e := it.Entry
			if e.Index != tb.Size() {
				t.Fatalf("export: entry %d", e.Index)
			}
			tb.Append(e.Bytes)
			sum.styleCounts[e.Style]++
		case export.KindEnd:
			e := it.End
			if e.Entries != h.TreeSize || tb.Size() != h.TreeSize || e.Root != [32]byte(tb.Root()) || int(e.Checkpoints) != sum.checkpoints {
				t.Fatalf("export end: %+v", e)
			}
			for i, c := range e.StyleCounts {
				if c != sum.styleCounts[i] {
					t.Fatalf("style counts %v vs %v", e.StyleCounts, sum.styleCounts)
				}
			}
		}
	}
}
