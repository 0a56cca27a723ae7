package gotv

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/web/page"
)

// DefaultMinCell is the smallest group whose turnout is shown on its own.
const DefaultMinCell = 10

// Dimensions of the turnout breakdowns, in display order.
var Dimensions = []string{"workplace", "branch", "employer", "style"}

// Cell is the turnout of one group of members. Entitled and Voted are
// counts from the register and the marked register.
type Cell struct {
	Label    string `json:"label"`
	Entitled int    `json:"entitled"`
	Voted    int    `json:"voted"`
	// Other marks the merged cell of groups too small to show (and of any
	// group merged so that the merged cell is itself large enough).
	Other  bool `json:"other,omitempty"`
	Groups int  `json:"groups"` // how many groups the cell holds
	// AsOf is the snapshot at which Voted was exact (the release carries
	// a count forward until it has changed by at least the minimum cell).
	AsOf time.Time `json:"as_of,omitzero"`
}

// Pct is the cell's turnout in percent.
func (c Cell) Pct() float64 {
	if c.Entitled == 0 {
		return 0
	}
	return 100 * float64(c.Voted) / float64(c.Entitled)
}

// Breakdown is turnout by one dimension, after suppression.
type Breakdown struct {
	Dimension string `json:"dimension"`
	Cells     []Cell `json:"cells"`
	// Hidden is true when even the merged "Other" cell would be smaller
	// than the minimum: then no cell at all is shown.
	Hidden bool `json:"hidden,omitempty"`
}

// Point is the cumulative number of members marked by the end of an hour.
type Point struct {
	At    time.Time `json:"at"`
	Voted int       `json:"voted"`
}

// Projection is the expected final turnout (docs/gotv.md "Projection"):
// nothing until it carries information (Ready), then a range.
type Projection struct {
	// Ready: the ballot has been open ProjectAfter and at least
	// ProjectMinVotes members were marked in the window, or it has closed.
	// Before that every other field is zero and nothing is shown.
	Ready       bool    `json:"ready"`
	Voted       int     `json:"voted"` // central estimate
	Pct         float64 `json:"pct"`
	LowVoted    int     `json:"low_voted"`
	LowPct      float64 `json:"low_pct"`
	HighVoted   int     `json:"high_voted"`
	HighPct     float64 `json:"high_pct"`
	RatePerHour float64 `json:"rate_per_hour"`
	WindowHours float64 `json:"window_hours"`
	// MeetsTarget: even the low end meets the threshold; Below: even the
	// high end is under it. Neither: the range straddles the threshold.
	MeetsTarget bool `json:"meets_threshold"`
	Below       bool `json:"below_threshold"`
}

// A projection is shown only once it carries information: after
// ProjectAfter of voting, with at least ProjectMinVotes marked in the
// window the rate is taken from.
const (
	ProjectAfter    = 3 * time.Hour
	ProjectMinVotes = 10
)

// Turnout is the turnout report of one ballot: aggregates only.
type Turnout struct {
	BallotID   int64     `json:"ballot_id"`
	ElectionID string    `json:"election_id"`
	Title      string    `json:"title"`
	UnionID    int64     `json:"-"`
	Status     string    `json:"status"`
	MinCell    int       `json:"min_cell"`
	Entitled   int       `json:"entitled"`
	Voted      int       `json:"voted"`
	Suppressed bool      `json:"suppressed,omitempty"` // the whole ballot is smaller than MinCell
	OpensAt    time.Time `json:"opens_at"`
	ClosesAt   time.Time `json:"closes_at"`
	AsOf       time.Time `json:"as_of"` // the latest snapshot shown (zero: none yet)
	// ThresholdPct is the turnout line drawn on the charts: the statutory
	// 50% (TULRCA s.226(2)(a)(iia)) when the ballot's regime applies it
	// (StatutoryThreshold), otherwise the same 50% as a reference.
	ThresholdPct       float64     `json:"threshold_pct"`
	StatutoryThreshold bool        `json:"statutory_threshold"`
	Series             []Point     `json:"series"`
	Projection         Projection  `json:"projection"`
	Breakdowns         []Breakdown `json:"breakdowns"`
	// Releases are every released table so far, oldest first (the
	// snapshot schedule: Every, from the opening hour); Next is when the
	// next one is due (zero after the last).
	Releases []Snapshot `json:"releases"`
	Every    string     `json:"every"`
	Next     time.Time  `json:"next,omitempty"`
}

// Pct is the ballot's turnout in percent.
func (t *Turnout) Pct() float64 {
	return Cell{Entitled: t.Entitled, Voted: t.Voted}.Pct()
}

// ErrNotFound (404): no such ballot. Also returned for a ballot of another
// union, so its existence is not disclosed.
var ErrNotFound = page.NewError("gotv: not found", http.StatusNotFound, "not_found", "gotv.err.notfound")

// Suppress merges cells with fewer than minCell entitled members into one
// "Other" cell, then moves the smallest remaining cells into "Other" until
// it has at least minCell members, so that no small group can be worked
// out by subtracting the shown cells from the total. If that is impossible
// (the whole population is smaller than minCell) it reports hidden and
// returns no cells. Cells are returned largest first, "Other" last.
func Suppress(cells []Cell, minCell int, otherLabel string) (out []Cell, hidden bool) {
	if minCell < 1 {
		minCell = 1
	}
	cs := append([]Cell(nil), cells...)
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Entitled != cs[j].Entitled {
			return cs[i].Entitled > cs[j].Entitled
		}
		return cs[i].Label < cs[j].Label
	})
	other := Cell{Label: otherLabel, Other: true}
	var shown []Cell
	for _, c := range cs {
		if c.Groups == 0 {
			c.Groups = 1
		}
		if c.Entitled >= minCell {
			shown = append(shown, c)
			continue
		}
		other.Entitled += c.Entitled
		other.Voted += c.Voted
		other.Groups += c.Groups
	}
	for other.Groups > 0 && other.Entitled < minCell && len(shown) > 0 {
		c := shown[len(shown)-1]
		shown = shown[:len(shown)-1]
		other.Entitled += c.Entitled
		other.Voted += c.Voted
		other.Groups += c.Groups
	}
	if other.Groups > 0 && other.Entitled < minCell {
		return nil, true
	}
	if other.Groups > 0 {
		shown = append(shown, other)
	}
	return shown, false
}

// Project extrapolates the recent hourly rate to the close, as a range:
// the rate is the number n marked over the last window (6 hours, or since
// opening if shorter) per hour; the range takes n ± 2√n (the usual
// spread of a count of independent arrivals) as the rate's low and high,
// each clamped between the current count and the number entitled. Before
// ProjectAfter of voting, or with fewer than ProjectMinVotes in the window,
// there is no projection (Ready false). A closed ballot projects its
// current count.
func Project(series []Point, voted, entitled int, opens, closes, now time.Time, thresholdPct float64) Projection {
	var p Projection
	pct := func(v int) float64 {
		if entitled == 0 {
			return 0
		}
		return 100 * float64(v) / float64(entitled)
	}
	switch {
	case !now.Before(closes):
		p = Projection{Ready: true, Voted: voted, LowVoted: voted, HighVoted: voted}
	case now.After(opens) && now.Sub(opens) >= ProjectAfter:
		window := 6 * time.Hour
		if e := now.Sub(opens); e < window {
			window = e
		}
		from := now.Add(-window)
		before := 0
		for _, pt := range series {
			if !pt.At.After(from) {
				before = pt.Voted
			}
		}
		n := float64(voted - before)
		if n < ProjectMinVotes {
			return Projection{}
		}
		p.Ready, p.WindowHours = true, window.Hours()
		p.RatePerHour = n / p.WindowHours
		left := closes.Sub(now).Hours()
		at := func(count float64) int {
			proj := float64(voted) + count/p.WindowHours*left
			return int(math.Round(math.Min(math.Max(proj, float64(voted)), float64(entitled))))
		}
		p.Voted, p.LowVoted, p.HighVoted = at(n), at(math.Max(0, n-2*math.Sqrt(n))), at(n+2*math.Sqrt(n))
	default:
		return Projection{}
	}
	p.Pct, p.LowPct, p.HighPct = pct(p.Voted), pct(p.LowVoted), pct(p.HighVoted)
	p.MeetsTarget = p.LowPct >= thresholdPct
	p.Below = p.HighPct < thresholdPct
	return p
}

// ballotInfo is what turnout needs to know about a ballot.
type ballotInfo struct {
	ID         int64
	UnionID    int64
	ElectionID string
	Title      string
	Status     string
	Regime     string
	Opens      time.Time
	Closes     time.Time
	Bilingual  bool // the organiser made the paper bilingual (election.Config.Bilingual)
}

func (s *Service) ballot(ctx context.Context, id int64) (ballotInfo, error) {
	h, err := s.ballots.Heading(ctx, id)
	if errors.Is(err, election.ErrNotFound) {
		return ballotInfo{}, ErrNotFound
	}
	if err != nil {
		return ballotInfo{}, fmt.Errorf("load ballot: %w", err)
	}
	b := ballotInfo{ID: h.ID, UnionID: h.UnionID, ElectionID: h.ElectionID, Title: h.Title, Status: h.Status, Regime: h.Regime,
		Bilingual: h.Bilingual}
	if h.Opens != nil {
		b.Opens = *h.Opens
	}
	if h.ClosesAt != nil {
		b.Closes = *h.ClosesAt
	}
	return b, nil
}

// MinCell returns the union's minimum cell size.
func (s *Service) MinCell(ctx context.Context, unionID int64) (int, error) {
	k := s.cfg.MinCell
	err := s.pool.QueryRow(ctx, `SELECT min_cell FROM gotv_policies WHERE union_id = $1`, unionID).Scan(&k)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("load policy: %w", err)
	}
	if k < s.cfg.MinCell {
		k = s.cfg.MinCell // a union may raise the minimum, never lower it
	}
	return k, nil
}

// Turnout is the turnout report of a ballot as released (release.go):
// the latest released table, the released totals at every snapshot, and
// a projection computed from those released totals only. otherLabel names
// the merged small-cell group (translated by the caller).
func (s *Service) Turnout(ctx context.Context, ballotID int64, otherLabel string) (*Turnout, error) {
	b, err := s.ballot(ctx, ballotID)
	if err != nil {
		return nil, err
	}
	k, err := s.MinCell(ctx, b.UnionID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	t := &Turnout{BallotID: b.ID, ElectionID: b.ElectionID, Title: b.Title, UnionID: b.UnionID, Status: b.Status,
		MinCell: k, OpensAt: b.Opens, ClosesAt: b.Closes, ThresholdPct: 50, Every: s.cfg.ReleaseEvery.String()}
	if b.Regime != "" {
		if rg, err := election.RegimeByID(b.Regime); err == nil {
			t.StatutoryThreshold = rg.TurnoutThreshold
		}
	}
	p, err := s.partition(ctx, b.ID, k, otherLabel)
	if err != nil {
		return nil, err
	}
	if p == nil {
		// A ballot smaller than the minimum cell shows nothing at all.
		t.Suppressed = true
		return t, nil
	}
	t.Entitled = p.Total
	t.Releases, err = s.releases(ctx, b, p, now)
	if err != nil {
		return nil, err
	}
	cells := append([]Cell(nil), p.Cells...)
	if n := len(t.Releases); n > 0 {
		last := t.Releases[n-1]
		t.AsOf, t.Voted, cells = last.At, last.Voted, last.Cells
		if next := last.At.Add(s.cfg.ReleaseEvery.Truncate(time.Hour)); b.Closes.IsZero() || last.At.Before(b.Closes) {
			t.Next = next
		}
	}
	t.Breakdowns = []Breakdown{{Dimension: "workplace", Cells: cells}}
	for _, r := range t.Releases {
		t.Series = append(t.Series, Point{At: r.At, Voted: r.Voted})
	}
	if !t.AsOf.IsZero() {
		t.Projection = Project(t.Series, t.Voted, t.Entitled, b.Opens, b.Closes, t.AsOf, t.ThresholdPct)
	}
	return t, nil
}
