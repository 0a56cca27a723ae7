package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
)

// ErrResultPublished (409): PublishResult was called with other files for
// an election whose result is already published (a published result is
// never changed).
var ErrResultPublished = &Error{Code: "result_published", Status: http.StatusConflict}

// Result is the published result of a closed election: the scrutineer's
// signed report exactly as `scrutineer report` wrote it (report.json and
// report.json.sig) and the trustees' partial decryptions.
type Result struct {
	Report    []byte
	Signature []byte
	// Partials is the JSON array of the trustees' partial decryptions.
	Partials []byte
}

// PublishResult puts a result on the board. The caller (internal/election)
// has checked it against the ledger; the ledger only requires that the
// election is closed and keeps the files as given, for good. Publishing the
// same files again is a no-op; other files are refused with
// ErrResultPublished.
func (l *Ledger) PublishResult(ctx context.Context, electionID string, r Result) error {
	if _, err := l.election(ctx, electionID); err != nil {
		return err
	}
	var partials []json.RawMessage
	if err := json.Unmarshal(r.Partials, &partials); err != nil || len(r.Report) == 0 || len(r.Signature) == 0 {
		return reject(ErrMalformed, "a result is a report, its signature and a JSON array of partial decryptions")
	}
	var closed bool
	if err := l.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_closures WHERE election_id = $1)`, electionID).Scan(&closed); err != nil {
		return unavailable(err)
	}
	if !closed {
		return reject(ErrNotOpen, "a result is published only after the close")
	}
	tag, err := l.pool.Exec(ctx, `INSERT INTO ledger_results (election_id, report, signature, partials) VALUES ($1, $2, $3, $4)
		ON CONFLICT (election_id) DO NOTHING`, electionID, r.Report, r.Signature, r.Partials)
	if err != nil {
		return unavailable(err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	old, err := l.PublishedResult(ctx, electionID)
	if err != nil {
		return err
	}
	if !bytes.Equal(old.Report, r.Report) || !bytes.Equal(old.Signature, r.Signature) || !bytes.Equal(old.Partials, r.Partials) {
		return reject(ErrResultPublished, "another result is already published for this election")
	}
	return nil
}

// PublishedResult returns the election's published result (ErrNotFound
// before it is published).
func (l *Ledger) PublishedResult(ctx context.Context, electionID string) (*Result, error) {
	if _, err := l.election(ctx, electionID); err != nil {
		return nil, err
	}
	var r Result
	err := l.pool.QueryRow(ctx, `SELECT report, signature, partials FROM ledger_results WHERE election_id = $1`, electionID).
		Scan(&r.Report, &r.Signature, &r.Partials)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, reject(ErrNotFound, "no result has been published for this election yet")
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return &r, nil
}

// resultRoutes serves the published result (docs/board-api.yaml).
func (l *Ledger) resultRoutes(r chi.Router) {
	serve := func(ctype string, part func(*Result) []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			res, err := l.PublishedResult(r.Context(), chi.URLParam(r, "election"))
			if err != nil {
				l.writeError(w, r, err)
				return
			}
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Cache-Control", cacheImmutable)
			_, _ = w.Write(part(res))
		}
	}
	r.Get("/result", serve("application/json", func(r *Result) []byte { return r.Report }))
	r.Get("/result/signature", serve("text/plain; charset=utf-8", func(r *Result) []byte { return r.Signature }))
	r.Get("/partials", serve("application/json", func(r *Result) []byte {
		return append(append([]byte(`{"partials":`), r.Partials...), "}\n"...)
	}))
}

// ResultsPublishedAt gives when the board published the result of each of
// the elections that has one.
func (l *Ledger) ResultsPublishedAt(ctx context.Context, electionIDs []string) (map[string]time.Time, error) {
	rows, err := l.pool.Query(ctx, `SELECT election_id, published_at FROM ledger_results WHERE election_id = ANY($1)`, electionIDs)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read results: %w", err))
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, unavailable(fmt.Errorf("read results: %w", err))
		}
		out[id] = at
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("read results: %w", err))
	}
	return out, nil
}
