package gotv

import (
	"context"
	"fmt"
	"time"
)

// The turnout release (issue 21, docs/threat-model.md "Turnout release").
//
// Every figure an organiser sees that depends on who has voted (turnout,
// and internal/outreach's campaign figures) is taken from one published
// set of non-overlapping cells — the ballot's workplaces from the frozen
// register, those under the minimum cell k merged into "Other" ([Suppress])
// — at snapshots on a fixed schedule (every [Config.ReleaseEvery], whole
// hours from the opening hour). A cell's count moves only when the
// change since its last released value is at least k, and only to a value
// that leaves at least k members on each side (k ≤ count ≤ size − k);
// otherwise the last released value is carried forward. So every released
// count is exact for the set it stands for (the cell's members marked by
// the snapshot it was taken at, shown as its "as of"), and any two released
// counts of a cell — or sums of them, as the totals — differ by 0 or by at
// least k members: no difference, between cells or between snapshots,
// singles out fewer than k members. Snapshots are recomputed from the
// marked register's hour stamps (which never change once written), so a
// snapshot shows the same figures whenever it is fetched.

// DefaultReleaseEvery is the default [Config.ReleaseEvery].
const DefaultReleaseEvery = time.Hour

// Counter is one released count of one cell.
type Counter struct {
	Value int       // the released value
	AsOf  time.Time // the snapshot it was taken at (zero: the opening)
}

// Offer applies the release rule at a snapshot: truth is the exact count
// at that snapshot, size the cell's size and k the minimum cell. The
// released value moves to truth only when it changed by at least k and
// still leaves at least k members outside the count; it reports whether it
// moved.
func (c *Counter) Offer(truth, size, k int, at time.Time) bool {
	if truth-c.Value >= k && size-truth >= k {
		c.Value, c.AsOf = truth, at
		return true
	}
	return false
}

// Snapshots are the release times of a ballot up to now: from the hour it
// opened, every `every` (whole hours), until the first at or after its
// close. A ballot not yet open has none.
func Snapshots(opens, closes, now time.Time, every time.Duration) []time.Time {
	if opens.IsZero() || every < time.Hour {
		return nil
	}
	every = every.Truncate(time.Hour)
	var out []time.Time
	for t := opens.UTC().Truncate(time.Hour); !t.After(now) && len(out) < 24*400; t = t.Add(every) {
		out = append(out, t)
		if !closes.IsZero() && !t.Before(closes) {
			break
		}
	}
	return out
}

// ReleaseTimes are the ballot's snapshots up to now ([Snapshots] on the
// service's schedule): internal/outreach releases its turnout-dependent
// figures at the same times, over the same cells ([Service.Partition]).
func (s *Service) ReleaseTimes(ctx context.Context, ballotID int64) ([]time.Time, error) {
	b, err := s.ballot(ctx, ballotID)
	if err != nil {
		return nil, err
	}
	return Snapshots(b.Opens, b.Closes, s.now().UTC(), s.cfg.ReleaseEvery), nil
}

// Partition is the ballot's one set of released cells: each of the
// register's workplaces belongs to exactly one cell.
type Partition struct {
	MinCell int
	Cells   []Cell         // Label, Entitled (the cell's size), Groups, Other
	Of      map[string]int // workplace → index in Cells
	Total   int            // members on the register
}

// Cell returns the index of a workplace's cell ("" is the "—" group).
func (p *Partition) Cell(workplace string) int {
	if workplace == "" {
		workplace = "—"
	}
	if i, ok := p.Of[workplace]; ok {
		return i
	}
	return -1
}

// Partition returns the released cells of a ballot, or nil when the whole
// register is smaller than the minimum cell (nothing is released).
func (s *Service) Partition(ctx context.Context, ballotID int64, otherLabel string) (*Partition, error) {
	b, err := s.ballot(ctx, ballotID)
	if err != nil {
		return nil, err
	}
	k, err := s.MinCell(ctx, b.UnionID)
	if err != nil {
		return nil, err
	}
	return s.partition(ctx, b.ID, k, otherLabel)
}

func (s *Service) partition(ctx context.Context, ballotID int64, k int, otherLabel string) (*Partition, error) {
	counts, err := s.reg.CountByWorkplace(ctx, ballotID)
	if err != nil {
		return nil, fmt.Errorf("turnout cells: %w", err)
	}
	var groups []Cell
	total := 0
	for wp, n := range counts {
		if wp == "" {
			wp = "—"
		}
		groups = append(groups, Cell{Label: wp, Entitled: n, Groups: 1})
		total += n
	}
	if total < k {
		return nil, nil
	}
	cells, hidden := Suppress(groups, k, otherLabel)
	if hidden {
		return nil, nil
	}
	p := &Partition{MinCell: k, Cells: cells, Of: map[string]int{}, Total: total}
	other := -1
	for i, c := range cells {
		if c.Other {
			other = i
		} else {
			p.Of[c.Label] = i
		}
	}
	for _, g := range groups {
		if _, ok := p.Of[g.Label]; !ok {
			p.Of[g.Label] = other
		}
	}
	return p, nil
}

// Snapshot is one released turnout table.
type Snapshot struct {
	At    time.Time `json:"at"`
	Voted int       `json:"voted"` // the sum of the cells' released counts
	Cells []Cell    `json:"cells"`
}

// ReleaseTables computes the released tables at each snapshot from the
// exact cumulative counts: truth(i, c) is cell c's exact count at
// snapshot i (non-decreasing in i). Cells carry their size in Entitled.
func ReleaseTables(p *Partition, at []time.Time, truth func(i, c int) int) []Snapshot {
	counters := make([]Counter, len(p.Cells))
	out := make([]Snapshot, 0, len(at))
	for i, t := range at {
		snap := Snapshot{At: t, Cells: make([]Cell, len(p.Cells))}
		for c, cell := range p.Cells {
			if i == 0 {
				counters[c].AsOf = t
			}
			counters[c].Offer(truth(i, c), cell.Entitled, p.MinCell, t)
			cell.Voted, cell.AsOf = counters[c].Value, counters[c].AsOf
			snap.Cells[c] = cell
			snap.Voted += cell.Voted
		}
		out = append(out, snap)
	}
	return out
}

// releases computes the ballot's released turnout tables up to now.
func (s *Service) releases(ctx context.Context, b ballotInfo, p *Partition, now time.Time) ([]Snapshot, error) {
	at := Snapshots(b.Opens, b.Closes, now, s.cfg.ReleaseEvery)
	if len(at) == 0 {
		return nil, nil
	}
	// The marks before the last snapshot, counted per workplace and hour
	// by the register (each owner reads its own table; the counting is
	// one set-based query).
	members, hours, err := s.marks.Before(ctx, nil, b.ID, at[len(at)-1])
	if err != nil {
		return nil, fmt.Errorf("turnout release: %w", err)
	}
	counts, err := s.reg.CountByWorkplaceHour(ctx, b.ID, members, hours)
	if err != nil {
		return nil, fmt.Errorf("turnout release: %w", err)
	}
	// marks[c][i]: members of cell c marked in [at[i-1], at[i]).
	marks := make([][]int, len(p.Cells))
	for c := range marks {
		marks[c] = make([]int, len(at))
	}
	for _, x := range counts {
		c := p.Cell(x.Workplace)
		if c < 0 {
			continue
		}
		// Hour stamps mark the start of the hour: a member marked in the
		// hour h counts from the first snapshot after h.
		i := 0
		for i < len(at) && !at[i].After(x.Hour) {
			i++
		}
		if i < len(at) {
			marks[c][i] += x.N
		}
	}
	for c := range marks {
		for i := 1; i < len(at); i++ {
			marks[c][i] += marks[c][i-1]
		}
	}
	return ReleaseTables(p, at, func(i, c int) int { return marks[c][i] }), nil
}
