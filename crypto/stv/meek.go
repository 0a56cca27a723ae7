package stv

import (
	"fmt"
	"math/bits"
	"slices"
)

// Meek values have 9 decimal places (PRF Reference Meek Rule).
const (
	meekPlaces = 9
	meekOne    = 1_000_000_000
	meekOmega  = 1_000 // 10^-6
)

// mulDiv returns a·b/d rounded down, or up when up is set (a, b, d ≥ 0,
// d > 0, result < 2^63).
func mulDiv(a, b, d int64, up bool) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	q, r := bits.Div64(hi, lo, uint64(d))
	if up && r != 0 {
		q++
	}
	return int64(q)
}

type meek struct {
	e        *Election
	n, seats int
	lot      []int
	state    []State
	kf       []int64
	vote     []int64
	quota    int64
	surplus  int64
	residual int64
	papers   int64
	elected  []int
	stages   []Stage
	// defeatedVote holds (candidate, vote) of the candidate defeated in
	// the current round until the round is recorded.
	defeatedVote [][2]int64
}

func countMeek(e *Election) *Result {
	m := &meek{e: e, n: e.Candidates, seats: e.Seats, lot: e.lotRank(),
		state: make([]State, e.Candidates), kf: make([]int64, e.Candidates), vote: make([]int64, e.Candidates)}
	// A. Hopeful candidates keep everything; withdrawn ones nothing.
	for c := range m.state {
		m.state[c] = Continuing
		m.kf[c] = meekOne
	}
	for _, c := range e.Withdrawn {
		m.state[c] = Withdrawn
		m.kf[c] = 0
	}
	var invalid int64
	for _, b := range e.Ballots {
		if len(b.Prefs) == 0 {
			invalid += int64(b.Weight)
			continue
		}
		m.papers += int64(b.Weight)
	}
	// The first stage: first preferences and the initial quota (votes /
	// (seats+1), truncated, plus 10^-9).
	for _, b := range e.Ballots {
		for _, c := range b.Prefs {
			if m.state[c] == Continuing {
				m.vote[c] += int64(b.Weight) * meekOne
				break
			}
		}
	}
	m.quota = m.papers*meekOne/int64(m.seats+1) + 1
	m.residual = m.papers * meekOne
	for _, v := range m.vote {
		m.residual -= v
	}
	m.record(&Stage{Number: 1, Action: "first"})

	// B. Rounds.
	round := 1
	for len(m.hopeful()) > m.seats-len(m.elected) && m.seats-len(m.elected) > 0 {
		round++
		st := &Stage{Number: round, Action: "round"}
		status := "iterate"
		last := m.papers * meekOne
		iterations := 0
		for status == "iterate" {
			iterations++
			status, last = m.iterate(st, last)
		}
		st.Notes = append(st.Notes, fmt.Sprintf("%d iterations", iterations))
		if status != "elected" {
			m.defeatLow(st, status)
		}
		m.record(st)
	}
	// C. Count complete: elect or defeat the remaining hopeful candidates.
	if h := m.hopeful(); len(h) > 0 {
		round++
		st := &Stage{Number: round, Action: "end"}
		for _, c := range h {
			if len(m.elected) < m.seats {
				m.elect(st, c)
			} else {
				m.state[c] = Excluded
				st.Excluded = append(st.Excluded, c)
				m.defeatedVote = append(m.defeatedVote, [2]int64{int64(c), m.vote[c]})
				m.kf[c] = 0
			}
		}
		m.record(st)
	}
	return &Result{Rule: Meek, Candidates: m.n, Seats: m.seats, Decimals: meekPlaces, Valid: m.papers,
		Invalid: invalid, Stages: m.stages, Elected: m.elected}
}

func (m *meek) hopeful() []int {
	var out []int
	for c, s := range m.state {
		if s == Continuing {
			out = append(out, c)
		}
	}
	return out
}

func (m *meek) elect(st *Stage, c int) {
	m.state[c] = Elected
	m.elected = append(m.elected, c)
	st.Elected = append(st.Elected, c)
}

// iterate is one iteration (B.2): distribute, update the quota, elect,
// compute the surplus, test for the end, update the keep factors.
func (m *meek) iterate(st *Stage, last int64) (string, int64) {
	// B.2.a: each ballot gives each candidate in turn its weight times the
	// keep factor (rounded up), until nothing is left.
	for c := range m.vote {
		if m.state[c] == Continuing || m.state[c] == Elected {
			m.vote[c] = 0
		}
	}
	m.residual = 0
	for _, b := range m.e.Ballots {
		if len(b.Prefs) == 0 {
			continue // invalid paper
		}
		w := int64(meekOne)
		rest := int64(b.Weight) * meekOne
		for _, c := range b.Prefs {
			if m.kf[c] == 0 {
				continue
			}
			keep := mulDiv(w, m.kf[c], meekOne, true)
			v := keep * int64(b.Weight)
			m.vote[c] += v
			w -= keep
			rest -= v
			if w <= 0 {
				break
			}
		}
		m.residual += rest
	}
	// B.2.b: quota = votes / (seats+1), truncated, plus 10^-9.
	var votes int64
	for c, s := range m.state {
		if s == Continuing || s == Elected {
			votes += m.vote[c]
		}
	}
	m.quota = votes/int64(m.seats+1) + 1
	// B.2.c: elect every hopeful candidate at or above the quota.
	status := "iterate"
	for _, c := range m.hopeful() {
		if m.vote[c] >= m.quota {
			m.elect(st, c)
			status = "elected"
		}
	}
	// B.2.d: total surplus, not below 0.
	m.surplus = 0
	for _, c := range m.elected {
		m.surplus += m.vote[c] - m.quota
	}
	m.surplus = max(m.surplus, 0)
	// B.2.e: done if someone was elected, the surplus is below ω, or it
	// stopped falling.
	if status != "elected" {
		if m.surplus < meekOmega {
			status = "omega"
		} else if m.surplus >= last {
			status = "stable"
		}
	}
	if status == "iterate" {
		last = m.surplus
		// B.2.f: kf ← kf·q (rounded up) / v (rounded up).
		for _, c := range m.elected {
			m.kf[c] = mulDiv(mulDiv(m.kf[c], m.quota, meekOne, true), meekOne, m.vote[c], true)
		}
	}
	return status, last
}

// defeatLow defeats the hopeful candidate with the fewest votes (B.3);
// every candidate whose vote is within the total surplus of the lowest is
// tied with it, and a tie is broken by the lot order.
func (m *meek) defeatLow(st *Stage, status string) {
	h := m.hopeful()
	if len(h) == 0 {
		return
	}
	low := m.vote[h[0]]
	for _, c := range h {
		low = min(low, m.vote[c])
	}
	var tied []int
	for _, c := range h {
		if m.vote[c] <= low+m.surplus {
			tied = append(tied, c)
		}
	}
	d := tied[0]
	for _, c := range tied {
		if m.lot[c] < m.lot[d] {
			d = c
		}
	}
	if len(tied) > 1 {
		st.Notes = append(st.Notes, fmt.Sprintf("%d candidates within the surplus of the lowest vote: %s defeated by lot (T)", len(tied), m.name(d)))
	}
	if status == "stable" {
		st.Notes = append(st.Notes, "surplus stopped falling (B.2.e)")
	}
	// Record the vote it had when defeated, then clear it.
	st.Excluded = append(st.Excluded, d)
	m.state[d] = Excluded
	m.defeatedVote = append(m.defeatedVote, [2]int64{int64(d), m.vote[d]})
	m.kf[d] = 0
}

func (m *meek) name(c int) string {
	if m.e.Names != nil {
		return m.e.Names[c]
	}
	return fmt.Sprintf("candidate %d", c)
}

// record appends the stage with the current values; a candidate defeated
// at this stage shows the vote it had when defeated.
func (m *meek) record(st *Stage) {
	st.Votes = make([]string, m.n)
	st.KeepFactors = make([]string, m.n)
	for c := range st.Votes {
		st.Votes[c] = Value(m.vote[c]).format(meekPlaces)
		st.KeepFactors[c] = Value(m.kf[c]).format(meekPlaces)
	}
	for _, dv := range m.defeatedVote {
		m.vote[dv[0]] = 0
	}
	m.defeatedVote = nil
	st.States = slices.Clone(m.state)
	st.Quota = Value(m.quota).format(meekPlaces)
	st.Surplus = Value(m.surplus).format(meekPlaces)
	st.Exhausted = Value(m.residual).format(meekPlaces)
	m.stages = append(m.stages, *st)
}
