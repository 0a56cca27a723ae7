package ledger

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/unionvote/eballot/crypto/receipt"
	"github.com/unionvote/eballot/internal/web/page"
)

// MaxCastBody bounds the body of a cast request.
const MaxCastBody = 128 << 10

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheFresh     = "no-cache"
	cacheNone      = "no-store"
)

// Routes registers the public board and the cast endpoint under
// /ledger/v1/{election} (docs/board-api.yaml). No route reads a cookie or
// a session; nothing about the requester is stored.
func (l *Ledger) Routes(r chi.Router) {
	r.Route("/ledger/v1/{election}", func(r chi.Router) {
		r.Post("/cast", l.handleCast)
		r.Get("/", l.handleStatus)
		r.Get("/manifest", l.handleManifest)
		r.Get("/checkpoint", l.handleLatest)
		r.Get("/checkpoints", l.handleCheckpoints)
		r.Get("/checkpoints/{size}", l.handleCheckpoint)
		r.Get("/entries", l.handleEntries)
		r.Get("/entries/{index}", l.handleEntry)
		r.Get("/trackers/{tracker}", l.handleTracker)
		r.Get("/receipts/{tracker}", l.handleReceipt)
		r.Get("/codes/{code}", l.handleCode)
		r.Get("/proofs/inclusion", l.handleInclusion)
		r.Get("/proofs/consistency", l.handleConsistency)
		r.Get("/export", l.handleExport)
		l.resultRoutes(r)
		r.NotFound(func(w http.ResponseWriter, r *http.Request) {
			l.writeError(w, r, reject(ErrNotFound, "no such ledger endpoint (see docs/board-api.yaml)"))
		})
		page.JSONMethodNotAllowed(r)
	})
}

type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// writeError answers err with the one JSON problem of the service
// (internal/web/page): {"error": code, "message": detail} with the error's
// status; an error that is not the ledger's is "unavailable" (503, with
// Retry-After: a cast submitted again is safe).
func (l *Ledger) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if e := (*Error)(nil); !errors.As(err, &e) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	page.FailJSON(w, r, l.log, err)
}

type castBody struct {
	Ballot        string `json:"ballot"`
	Authorisation string `json:"authorisation"`
}

func (l *Ledger) handleCast(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "election")
	r.Body = http.MaxBytesReader(w, r.Body, MaxCastBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var b castBody
	err := dec.Decode(&b)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			l.metrics.rejected.WithLabelValues(ErrTooLarge.Code).Inc()
			l.writeError(w, r, reject(ErrTooLarge, "body over 128 KiB"))
			return
		}
		l.metrics.rejected.WithLabelValues(ErrMalformed.Code).Inc()
		l.writeError(w, r, reject(ErrMalformed, "body must be {\"ballot\":base64,\"authorisation\":base64}"))
		return
	}
	ballot, err1 := base64.StdEncoding.Strict().DecodeString(b.Ballot)
	auth, err2 := base64.StdEncoding.Strict().DecodeString(b.Authorisation)
	if err1 != nil || err2 != nil || len(ballot) == 0 {
		l.metrics.rejected.WithLabelValues(ErrMalformed.Code).Inc()
		l.writeError(w, r, reject(ErrMalformed, "ballot and authorisation must be standard padded base64"))
		return
	}
	rc, existed, err := l.Cast(r.Context(), id, ballot, auth)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	page.WriteJSON(w, status, cacheNone, rc)
}

type statusBody struct {
	ElectionID   string `json:"election_id"`
	ManifestHash string `json:"manifest_hash"`
	LogKey       string `json:"log_key"`
	OpensAt      string `json:"opens_at"`
	ClosesAt     string `json:"closes_at"`
	Closed       bool   `json:"closed"`
	Size         int64  `json:"size"`
}

func (l *Ledger) handleStatus(w http.ResponseWriter, r *http.Request) {
	st, err := l.Status(r.Context(), chi.URLParam(r, "election"))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheFresh, statusBody{st.ElectionID, hex.EncodeToString(st.ManifestHash[:]), st.LogKey,
		st.Opens.UTC().Format(time.RFC3339), st.Closes.UTC().Format(time.RFC3339), st.Closed, st.Size})
}

func (l *Ledger) handleManifest(w http.ResponseWriter, r *http.Request) {
	m, h, err := l.Manifest(r.Context(), chi.URLParam(r, "election"))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheImmutable)
	w.Header().Set("ETag", `"`+hex.EncodeToString(h[:])+`"`)
	_, _ = w.Write(m)
}

type checkpointBody struct {
	Size int64  `json:"size"`
	Root string `json:"root"`
	Note string `json:"note"`
}

func cpBody(cp *SignedCheckpoint) checkpointBody {
	return checkpointBody{cp.Size, hex.EncodeToString(cp.Root[:]), string(cp.Signed)}
}

func (l *Ledger) handleLatest(w http.ResponseWriter, r *http.Request) {
	cp, err := l.LatestCheckpoint(r.Context(), chi.URLParam(r, "election"))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheFresh, cpBody(cp))
}

func (l *Ledger) handleCheckpoint(w http.ResponseWriter, r *http.Request) {
	size, err := param(chi.URLParam(r, "size"), "size", 0, 1<<40)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	cp, err := l.Checkpoint(r.Context(), chi.URLParam(r, "election"), size)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheImmutable, cpBody(cp))
}

func (l *Ledger) handleCheckpoints(w http.ResponseWriter, r *http.Request) {
	from, count, err := rangeParams(r)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	cps, err := l.Checkpoints(r.Context(), chi.URLParam(r, "election"), from, int(count))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	out := struct {
		Checkpoints []checkpointBody `json:"checkpoints"`
	}{Checkpoints: []checkpointBody{}}
	for _, cp := range cps {
		out.Checkpoints = append(out.Checkpoints, cpBody(cp))
	}
	page.WriteJSON(w, http.StatusOK, cacheFresh, out)
}

type entryBody struct {
	Index         int64  `json:"index"`
	Tracker       string `json:"tracker"`
	ShortCode     string `json:"short_code"`
	Style         int    `json:"style"`
	Leaf          string `json:"leaf"`
	Authorisation string `json:"authorisation"`
	Ballot        string `json:"ballot"`
}

func entryJSON(e *Entry) entryBody {
	return entryBody{e.Index, hex.EncodeToString(e.Tracker[:]), receipt.ShortCode(e.Tracker), e.Style, hex.EncodeToString(e.Leaf[:]),
		base64.StdEncoding.EncodeToString(e.Authorisation()), base64.StdEncoding.EncodeToString(e.Ballot())}
}

func (l *Ledger) handleEntry(w http.ResponseWriter, r *http.Request) {
	idx, err := param(chi.URLParam(r, "index"), "index", 0, 1<<40)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	e, err := l.Entry(r.Context(), chi.URLParam(r, "election"), idx)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheImmutable, entryJSON(e))
}

func (l *Ledger) handleEntries(w http.ResponseWriter, r *http.Request) {
	from, count, err := rangeParams(r)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	es, err := l.Entries(r.Context(), chi.URLParam(r, "election"), from, int(count))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	out := struct {
		Entries []entryBody `json:"entries"`
	}{Entries: []entryBody{}}
	for _, e := range es {
		out.Entries = append(out.Entries, entryJSON(e))
	}
	cache := cacheFresh
	if int64(len(es)) == count {
		cache = cacheImmutable // a full range never changes
	}
	page.WriteJSON(w, http.StatusOK, cache, out)
}

func parseTracker(s string) ([32]byte, error) {
	var t [32]byte
	if len(s) != 64 {
		return t, reject(ErrBadRequest, "tracker must be 64 lowercase hex characters")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return t, reject(ErrBadRequest, "tracker must be 64 lowercase hex characters")
		}
	}
	_, err := hex.Decode(t[:], []byte(s))
	return t, err
}

func (l *Ledger) handleTracker(w http.ResponseWriter, r *http.Request) {
	t, err := parseTracker(chi.URLParam(r, "tracker"))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	e, err := l.EntryByTracker(r.Context(), chi.URLParam(r, "election"), t)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheImmutable, entryJSON(e))
}

func (l *Ledger) handleReceipt(w http.ResponseWriter, r *http.Request) {
	t, err := parseTracker(chi.URLParam(r, "tracker"))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	rc, err := l.Receipt(r.Context(), chi.URLParam(r, "election"), t)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheFresh, rc)
}

type proofBody struct {
	Index   *int64   `json:"index,omitempty"`
	Size    *int64   `json:"size,omitempty"`
	OldSize *int64   `json:"old_size,omitempty"`
	NewSize *int64   `json:"new_size,omitempty"`
	Proof   []string `json:"proof"`
}

func (l *Ledger) handleCode(w http.ResponseWriter, r *http.Request) {
	rc, err := l.ReceiptByCode(r.Context(), chi.URLParam(r, "election"), chi.URLParam(r, "code"))
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheFresh, rc)
}

func hexHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = hex.EncodeToString(h[:])
	}
	return out
}

func (l *Ledger) handleInclusion(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	idx, err := param(q.Get("index"), "index", 0, 1<<40)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	size, err := param(q.Get("size"), "size", 1, 1<<40)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	p, err := l.InclusionProof(r.Context(), chi.URLParam(r, "election"), idx, size)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheImmutable, proofBody{Index: &idx, Size: &size, Proof: hexHashes(p)})
}

func (l *Ledger) handleConsistency(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	oldSize, err := param(q.Get("old"), "old", 0, 1<<40)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	newSize, err := param(q.Get("new"), "new", 0, 1<<40)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	p, err := l.ConsistencyProof(r.Context(), chi.URLParam(r, "election"), oldSize, newSize)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	page.WriteJSON(w, http.StatusOK, cacheImmutable, proofBody{OldSize: &oldSize, NewSize: &newSize, Proof: hexHashes(p)})
}

func (l *Ledger) handleExport(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "election")
	size := int64(-1)
	if s := r.URL.Query().Get("size"); s != "" {
		var err error
		if size, err = param(s, "size", 0, 1<<40); err != nil {
			l.writeError(w, r, err)
			return
		}
	}
	n, closed, err := l.ExportSize(r.Context(), id, size)
	if err != nil {
		l.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(60 * time.Second)) }
	extend()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`-`+strconv.FormatInt(n, 10)+`.eballot-export.jsonl"`)
	// The final export of a closed election changes until the paper count
	// is closed (paper batches are appended after the close of voting).
	final := closed && size < 0
	if final {
		if _, countClosed, _, err := l.PaperState(r.Context(), id); err != nil {
			l.writeError(w, r, err)
			return
		} else if !countClosed {
			final = false
		}
	}
	if final || size >= 0 {
		w.Header().Set("Cache-Control", cacheImmutable)
	} else {
		w.Header().Set("Cache-Control", cacheFresh)
	}
	w.WriteHeader(http.StatusOK)
	if err := l.Export(r.Context(), w, id, size, extend); err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent: the file ends without its "end" line, which
		// readers treat as incomplete.
		l.log.WarnContext(r.Context(), "ledger: export failed", "election", id, "err", err)
	}
}

// param parses a decimal integer query or path parameter in [lo, hi].
func param(s, name string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, reject(ErrBadRequest, name+" must be a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
	}
	return n, nil
}

// rangeParams parses from (default 0) and count (default and maximum
// MaxRange).
func rangeParams(r *http.Request) (from, count int64, err error) {
	q := r.URL.Query()
	count = MaxRange
	if s := q.Get("from"); s != "" {
		if from, err = param(s, "from", 0, 1<<40); err != nil {
			return 0, 0, err
		}
	}
	if s := q.Get("count"); s != "" {
		if count, err = param(s, "count", 1, MaxRange); err != nil {
			return 0, 0, err
		}
	}
	return from, count, nil
}
