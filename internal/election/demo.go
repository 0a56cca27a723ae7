package election

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DemoElectionID is the election id of the demo ballot.
const DemoElectionID = "demo-strike-2026"

// demoNames are fictional members. Mobile numbers are in Ofcom's range
// reserved for drama (07700 900000–900999), so no real phone is ever texted.
var demoNames = []string{
	"Aled Jones", "Bethan Price", "Ceri Evans", "Dafydd Morgan", "Eleri Hughes",
	"Ffion Davies", "Gareth Lewis", "Heledd Roberts", "Iwan Thomas", "Jac Williams",
	"Amira Khan", "Ben Okafor", "Chloe Smith", "Dev Patel", "Erin Walsh",
	"Femi Adeyemi", "Grace Lee", "Harry Brown", "Isla Murray", "Joe Clarke",
	"Kiran Shah", "Lucy Green", "Marek Nowak", "Nia Owen",
}

// DemoResult says what LoadDemo created.
type DemoResult struct {
	ElectionID string
	Members    int
	Created    bool // false when the demo was already there
}

// LoadDemo creates a demo union with members and a draft industrial action
// ballot whose register holds them, across two workplaces. It is idempotent:
// a second run changes nothing.
func (s *Store) LoadDemo(ctx context.Context, now time.Time) (DemoResult, error) {
	res := DemoResult{ElectionID: DemoElectionID, Members: len(demoNames)}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var unionID int64
		err := tx.QueryRow(ctx, `
			INSERT INTO unions (slug, name) VALUES ('demo-union', 'Demo Workers'' Union')
			ON CONFLICT (slug) DO UPDATE SET slug = EXCLUDED.slug
			RETURNING id`).Scan(&unionID)
		if err != nil {
			return err
		}
		var ballotID int64
		err = tx.QueryRow(ctx, `SELECT id FROM ballots WHERE election_id = $1`, DemoElectionID).Scan(&ballotID)
		if err == nil {
			return nil // already loaded
		}
		if err != pgx.ErrNoRows {
			return err
		}
		res.Created = true
		opens := now.Truncate(time.Hour)
		closes := opens.Add(14 * 24 * time.Hour)
		err = tx.QueryRow(ctx, `
			INSERT INTO ballots (union_id, election_id, title, kind, opens_at, closes_at)
			VALUES ($1, $2, 'Pay 2026: industrial action ballot (demo)', 'industrial_action', $3, $4)
			RETURNING id`, unionID, DemoElectionID, opens, closes).Scan(&ballotID)
		if err != nil {
			return err
		}
		for i, name := range demoNames {
			workplace := "Cardiff Depot"
			if i%2 == 1 {
				workplace = "Swansea Depot"
			}
			var memberID int64
			err := tx.QueryRow(ctx, `
				INSERT INTO members (union_id, member_number, name, mobile, workplace, branch, employer)
				VALUES ($1, $2, $3, $4, $5, 'South Wales', 'Demo Transport Ltd')
				ON CONFLICT (union_id, member_number) DO UPDATE SET name = EXCLUDED.name
				RETURNING id`,
				unionID, fmt.Sprintf("D%05d", i+1), name, fmt.Sprintf("+447700900%03d", i+1), workplace).Scan(&memberID)
			if err != nil {
				return err
			}
			style := "cardiff-depot"
			if i%2 == 1 {
				style = "swansea-depot"
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO register_entries (ballot_id, member_id, style, paper_number) VALUES ($1, $2, $3, $4)`,
				ballotID, memberID, style, i+1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return DemoResult{}, fmt.Errorf("load demo: %w", err)
	}
	return res, nil
}
