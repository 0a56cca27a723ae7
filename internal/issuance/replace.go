package issuance

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/register"
)

// Errors of replacements (HTTP 409 on the staff pages).
var (
	// ErrNoRequest is returned for an unknown or already decided request.
	ErrNoRequest = errors.New("issuance: no such pending replacement request")
	// ErrNothingToReplace: the member is not on an open ballot's register
	// (on request), or has no online authorisation to replace (on the
	// scrutineer's decision only, so organisers never learn who voted).
	ErrNothingToReplace = errors.New("issuance: nothing to replace for this member in an open ballot")
	// ErrSamePerson: whoever asked for a replacement cannot decide it.
	ErrSamePerson = errors.New("issuance: a second person must decide a replacement request")
)

// RequestReplacement records an organiser's request to replace a member's
// lost authorisation (protocol §5 step 3). It takes effect only when the
// scrutineer approves it.
//
// The request is accepted for any member on the register of an open
// ballot, whether or not an authorisation has been issued in their name:
// refusing "nothing to replace" here would tell the organiser who has
// voted, which organisers must never learn (statutory.md §5 A; the member
// is linked to no ballot, but turnout per person is itself protected).
// Only the scrutineer learns it, when deciding.
func (s *Service) RequestReplacement(ctx context.Context, actor, electionID string, memberID int64, reason string) (int64, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return 0, fmt.Errorf("issuance: give a reason of 1 to 1000 characters")
	}
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b, err := s.onRegister(ctx, tx, electionID, memberID)
		if errors.Is(err, ErrNotEntitled) || (err == nil && b.Status != "open") {
			return ErrNothingToReplace
		}
		if err != nil {
			return err
		}
		ballotID := b.ID
		if err := tx.QueryRow(ctx, `INSERT INTO replacement_requests (ballot_id, member_id, reason, requested_by)
			VALUES ($1, $2, $3, $4) RETURNING id`, ballotID, memberID, reason, actor).Scan(&id); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "authorisation.replacement_requested", &ballotID, map[string]int64{"request": id, "member": memberID})
	})
	return id, err
}

// DecideReplacement is the scrutineer's decision. On approval the old
// authorisation moves to replaced_authorisations (it still counts in
// "authorisations issued") and the member may be authorised again.
func (s *Service) DecideReplacement(ctx context.Context, actor string, requestID int64, approve bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ballotID, memberID int64
		var requester string
		err := tx.QueryRow(ctx, `SELECT ballot_id, member_id, requested_by FROM replacement_requests
			WHERE id = $1 AND decided_at IS NULL FOR UPDATE`, requestID).Scan(&ballotID, &memberID, &requester)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoRequest
		}
		if err != nil {
			return err
		}
		if requester == actor {
			return ErrSamePerson
		}
		if _, err := tx.Exec(ctx, `UPDATE replacement_requests SET decided_by = $2, decided_at = now(), approved = $3 WHERE id = $1`,
			requestID, actor, approve); err != nil {
			return err
		}
		if approve {
			tag, err := tx.Exec(ctx, `WITH old AS (
				DELETE FROM marked_register WHERE ballot_id = $1 AND member_id = $2 AND channel = 'online'
				RETURNING ballot_id, member_id, blinded_hash, hour)
				INSERT INTO replaced_authorisations (ballot_id, member_id, blinded_hash, hour, request_id)
				SELECT ballot_id, member_id, blinded_hash, hour, $3 FROM old`, ballotID, memberID, requestID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() != 1 {
				return ErrNothingToReplace
			}
		}
		return audit.Append(ctx, tx, actor, "authorisation.replacement_decided", &ballotID, map[string]any{"request": requestID, "approved": approve})
	})
}

// ReportNotMe records a member's report that an authorisation recorded in
// their name was not theirs; it goes to the scrutineer.
func (s *Service) ReportNotMe(ctx context.Context, electionID string, memberID int64, note string) error {
	if len(note) > 2000 {
		note = note[:2000]
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b, err := s.onRegister(ctx, tx, electionID, memberID)
		if err != nil {
			return err
		}
		ballotID := b.ID
		if _, err := tx.Exec(ctx, `INSERT INTO impersonation_reports (ballot_id, member_id, note) VALUES ($1, $2, $3)`, ballotID, memberID, note); err != nil {
			return err
		}
		return audit.Append(ctx, tx, fmt.Sprintf("member:%d", memberID), "member.not_me_report", &ballotID, nil)
	})
}

// onRegister reads, in tx, the ballot of electionID if the member is on
// its register, or ErrNotEntitled.
func (s *Service) onRegister(ctx context.Context, tx pgx.Tx, electionID string, memberID int64) (*election.Window, error) {
	b, err := s.ballots.Window(ctx, tx, electionID)
	if errors.Is(err, election.ErrNotFound) {
		return nil, ErrNotEntitled
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.reg.Entry(ctx, tx, b.ID, memberID); errors.Is(err, register.ErrNotOnRegister) {
		return nil, ErrNotEntitled
	} else if err != nil {
		return nil, err
	}
	return b, nil
}
