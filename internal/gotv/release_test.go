package gotv

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/unionvote/eballot/internal/election/electiontest"
	"github.com/unionvote/eballot/internal/pgtest"
)

// TestOrganiserCannotDifference plays the organiser (issue 21): members
// vote one or two at a time over many hours, in cells of different
// sizes; every hour the organiser fetches turnout.json over HTTP. All
// released tables — every cell at every snapshot, and the totals — are
// then combined by every pairwise difference, across cells and across
// snapshots: none isolates fewer than the minimum cell (a set of 1 to k−1
// members, voted or not). The same check over the exact hourly counts
// finds such a set, so the check can fail.
func TestOrganiserCannotDifference(t *testing.T) {
	pool := pgtest.NewDB(t)
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	e := newHTTPEnv(t, pool, clk)
	b := electiontest.New(t, pool, electiontest.Options{ElectionID: "gotv-difference", Members: 70, Open: true})
	ids := b.MemberIDs
	wp := func(name string, from, to int) {
		_, err := pool.Exec(ctx, `UPDATE register_entries SET workplace = $1 WHERE member_id = ANY($2)`, name, ids[from:to])
		must(t, err)
	}
	wp("North", 0, 30)
	wp("South", 30, 55)
	wp("Depot", 55, 62) // under k: merged into Other with the rest
	wp("Yard", 62, 70)
	tr, err := e.s.Turnout(ctx, b.ID, "Other")
	must(t, err)
	t0 := tr.OpensAt.UTC().Truncate(time.Hour)
	const hours = 30
	// Member i votes in hour hourOf[i] (some never): 1–3 an hour.
	hourOf := map[int64]time.Time{}
	for i, id := range ids {
		if i%7 == 3 {
			continue
		}
		h := t0.Add(time.Duration((i*11)%hours) * time.Hour)
		hourOf[id] = h
		_, err := pool.Exec(ctx, `INSERT INTO marked_register (ballot_id, member_id, channel, hour) VALUES ($1, $2, 'postal', $3)`, b.ID, id, h)
		must(t, err)
	}
	cellOf := map[int64]string{}
	rows, err := pool.Query(ctx, `SELECT member_id, workplace FROM register_entries WHERE ballot_id = $1`, b.ID)
	must(t, err)
	for rows.Next() {
		var id int64
		var w string
		must(t, rows.Scan(&id, &w))
		cellOf[id] = w
	}
	rows.Close()

	org := fmt.Sprintf("organiser:%d", b.UnionID)
	type fig struct {
		name string
		set  map[int64]bool // the members the figure counts
		pop  map[int64]bool // the population it is a count of
	}
	var figs []fig
	seen := map[string]int{}
	k := 0
	for h := 0; h <= hours+1; h++ {
		clk.Set(t0.Add(time.Duration(h)*time.Hour + 5*time.Minute))
		w := e.do("GET", fmt.Sprintf("/organiser/gotv/ballots/%d/turnout.json", b.ID), org, nil)
		if w.Code != 200 {
			t.Fatalf("turnout.json: %d", w.Code)
		}
		var got Turnout
		must(t, json.Unmarshal(w.Body.Bytes(), &got))
		k = got.MinCell
		for _, snap := range got.Releases {
			total := fig{name: "total@" + snap.At.Format(time.RFC3339), set: map[int64]bool{}, pop: map[int64]bool{}}
			for _, c := range snap.Cells {
				key := c.Label + "@" + snap.At.Format(time.RFC3339)
				if old, ok := seen[key]; ok && old != c.Voted {
					t.Fatalf("%s released %d, later %d", key, old, c.Voted)
				}
				seen[key] = c.Voted
				f := fig{name: key, set: map[int64]bool{}, pop: map[int64]bool{}}
				for id, w := range cellOf {
					in := w == c.Label || (c.Other && (w == "Depot" || w == "Yard"))
					if !in {
						continue
					}
					f.pop[id], total.pop[id] = true, true
					if hv, ok := hourOf[id]; ok && hv.Before(c.AsOf) {
						f.set[id], total.set[id] = true, true
					}
				}
				if len(f.pop) != c.Entitled || len(f.set) != c.Voted {
					t.Fatalf("%s: released %d of %d, but %d of %d members marked by %s", key, c.Voted, c.Entitled, len(f.set), len(f.pop), c.AsOf)
				}
				figs = append(figs, f)
			}
			if len(total.set) != snap.Voted {
				t.Fatalf("%s: total %d, sets %d", total.name, snap.Voted, len(total.set))
			}
			figs = append(figs, total)
		}
	}
	if k < 2 || len(figs) < hours*3 {
		t.Fatalf("k %d, %d figures", k, len(figs))
	}
	if name, n := isolating(figs, k, func(f fig) (map[int64]bool, map[int64]bool) { return f.set, f.pop }); n > 0 {
		t.Fatalf("%s isolates %d members (k = %d)", name, n, k)
	}
	// The exact hourly counts of the same cells would isolate members.
	var raw []fig
	for h := 0; h <= hours; h++ {
		at := t0.Add(time.Duration(h) * time.Hour)
		f := fig{name: "North@" + at.Format(time.RFC3339), set: map[int64]bool{}, pop: map[int64]bool{}}
		for id, w := range cellOf {
			if w == "North" {
				f.pop[id] = true
				if hv, ok := hourOf[id]; ok && hv.Before(at) {
					f.set[id] = true
				}
			}
		}
		raw = append(raw, f)
	}
	if _, n := isolating(raw, k, func(f fig) (map[int64]bool, map[int64]bool) { return f.set, f.pop }); n == 0 {
		t.Fatal("the exact counts isolate nobody: the check cannot fail")
	}
}

// isolating returns a figure or pair of figures whose sets (voted, or not
// voted: the population less the set), alone or as a difference, hold 1 to
// k−1 members, and that number (0: none).
func isolating[F any](figs []F, k int, sets func(F) (set, pop map[int64]bool)) (string, int) {
	minus := func(a, b map[int64]bool) int {
		n := 0
		for id := range a {
			if !b[id] {
				n++
			}
		}
		return n
	}
	small := func(n int) bool { return n > 0 && n < k }
	for i, a := range figs {
		sa, pa := sets(a)
		if small(len(sa)) || small(len(pa)-len(sa)) {
			return fmt.Sprintf("figure %d (%v)", i, a), len(sa)
		}
		for j, b := range figs {
			sb, _ := sets(b)
			if i == j {
				continue
			}
			if n := minus(sa, sb); small(n) && minus(sb, sa) == 0 {
				return fmt.Sprintf("figure %d minus %d", i, j), n
			}
		}
	}
	return "", 0
}
