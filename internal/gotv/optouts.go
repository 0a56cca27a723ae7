package gotv

// Opt-outs are kept by the blind index of the number (issue 21; migration
// 0022_blind_indexes): HMAC-SHA-256 under a key derived from
// EBALLOT_SECRET_KEY (internal/sealed, purpose sealed.PurposeOptOut, not
// the key of members.mobile_index, so the two do not join).
// gotv_optouts holds no number: a dump does not tell who replied STOP,
// nor, without the key, whether a given number did. Opt-outs recorded
// under the mobile's key (sealed.PurposeMobile, before the purposes were
// separated) still count: look-ups try both indexes, and IndexOptOuts
// re-keys those whose number a member has.

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/sealed"
)

// e164RE is the form of a number an opt-out is recorded for.
var e164RE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// numberIndex is the blind index of an E.164 number (nil for none): what
// an opt-out is recorded by.
func (s *Service) numberIndex(e164 string) []byte {
	if e164 == "" {
		return nil
	}
	return sealed.Index(s.optoutKey, e164)
}

// numberIndexes are the indexes an opt-out of the number may be recorded
// by: numberIndex, and the one under the mobile's key of opt-outs recorded
// before the purposes were separated (none for "").
func (s *Service) numberIndexes(e164 string) [][]byte {
	if e164 == "" {
		return [][]byte{}
	}
	return [][]byte{sealed.Index(s.optoutKey, e164), sealed.Index(s.legacyOptoutKey, e164)}
}

// IndexOptOuts replaces the numbers of opt-outs recorded before migration
// 0022 by their blind index (an opt-out already recorded by index keeps
// its own row), and re-keys the opt-outs recorded under the mobile's key
// whose number a member has (the register opens it; those whose number
// no member has keep their index, which joins no member, and still
// count). The service runs it on startup; it returns how many rows it
// changed.
func (s *Service) IndexOptOuts(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT number FROM gotv_optouts WHERE number IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("index opt-outs: %w", err)
	}
	numbers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("index opt-outs: %w", err)
	}
	for _, n := range numbers {
		if _, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM gotv_optouts WHERE number = $1 RETURNING keyword, opted_out_at)
			INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) SELECT $2, keyword, opted_out_at FROM d
			ON CONFLICT (number_index) DO NOTHING`, n, s.numberIndex(n)); err != nil {
			return 0, fmt.Errorf("index opt-outs: %w", err)
		}
	}
	rows, err = s.pool.Query(ctx, `SELECT number_index FROM gotv_optouts WHERE number_index IS NOT NULL`)
	if err != nil {
		return 0, fmt.Errorf("index opt-outs: %w", err)
	}
	indexes, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return 0, fmt.Errorf("index opt-outs: %w", err)
	}
	legacy, err := s.reg.MobilesByIndex(ctx, indexes)
	if err != nil {
		return 0, fmt.Errorf("index opt-outs: %w", err)
	}
	for old, mobile := range legacy {
		if _, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM gotv_optouts WHERE number_index = $1 RETURNING keyword, opted_out_at)
			INSERT INTO gotv_optouts (number_index, keyword, opted_out_at) SELECT $2, keyword, opted_out_at FROM d
			ON CONFLICT (number_index) DO NOTHING`, []byte(old), s.numberIndex(mobile)); err != nil {
			return 0, fmt.Errorf("index opt-outs: %w", err)
		}
	}
	return len(numbers) + len(legacy), nil
}
