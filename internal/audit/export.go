package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ExportLine is one line of the audit log export (docs/audit-export.md):
// an entry of the ballot in full, or, for an entry of another ballot (or
// of none), only its seq and hashes with Redacted set, so the chain can be
// checked end to end without showing other ballots' actions.
type ExportLine struct {
	Seq      int64   `json:"seq"`
	At       string  `json:"at,omitempty"` // RFC 3339 with nanoseconds, UTC, exactly as hashed
	Actor    string  `json:"actor,omitempty"`
	Action   string  `json:"action,omitempty"`
	BallotID *int64  `json:"ballot_id,omitempty"`
	Detail   *string `json:"detail,omitempty"` // the JSON text exactly as hashed
	PrevHash string  `json:"prev_hash"`        // hex
	Hash     string  `json:"hash"`             // hex
	Redacted bool    `json:"redacted,omitempty"`
}

// Export writes the whole chain as JSON Lines, in seq order, with the
// entries of ballotID in full and every other entry redacted to its
// hashes. It returns the number of lines and of full entries.
func Export(ctx context.Context, db Reader, ballotID int64, w io.Writer) (lines, full int64, err error) {
	rows, err := db.Query(ctx, "SELECT seq, at, actor, action, ballot_id, detail, prev_hash, hash FROM audit_log ORDER BY seq")
	if err != nil {
		return 0, 0, fmt.Errorf("audit export: %w", err)
	}
	defer rows.Close()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.BallotID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return lines, full, fmt.Errorf("audit export: %w", err)
		}
		l := ExportLine{Seq: e.Seq, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
		if e.BallotID != nil && *e.BallotID == ballotID {
			d := e.Detail
			l.At, l.Actor, l.Action, l.BallotID, l.Detail = e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action, e.BallotID, &d
			full++
		} else {
			l.Redacted = true
		}
		if err := enc.Encode(l); err != nil {
			return lines, full, fmt.Errorf("audit export: %w", err)
		}
		lines++
	}
	return lines, full, rows.Err()
}
