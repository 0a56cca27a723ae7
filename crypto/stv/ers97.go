package stv

import (
	"fmt"
	"slices"
)

// ERS97 values are hundredths of a vote.
const ersPlaces = 2
const ersOne = 100

// parcel is count identical papers (ballot b) held at preference pos.
type parcel struct {
	b     int
	pos   int
	count int64
}

// batch is papers received together at one value (ERS97 6.1).
type batch struct {
	value   int64
	parcels []parcel
}

type ers struct {
	e         *Election
	n, seats  int
	lot       []int
	state     []State
	vote      []int64
	batches   [][]batch
	total     int64
	quota     int64
	exhausted int64
	remainder int64
	elected   []int
	pending   []bool    // surplus not yet transferred
	history   [][]int64 // votes at the first stage and after every batch
	stages    []Stage
	stageNo   int
	valid     int64
	invalid   int64
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func countERS97(e *Election) *Result {
	s := &ers{e: e, n: e.Candidates, seats: e.Seats, lot: e.lotRank(),
		state: make([]State, e.Candidates), vote: make([]int64, e.Candidates),
		batches: make([][]batch, e.Candidates), pending: make([]bool, e.Candidates)}
	for c := range s.state {
		s.state[c] = Continuing
	}
	for _, c := range e.Withdrawn {
		s.state[c] = Withdrawn
	}
	// 5.1.1–5.1.5: first preferences.
	first := make([]batch, s.n)
	for i, b := range e.Ballots {
		pos := s.next(i, -1)
		if pos < 0 {
			s.invalid += int64(b.Weight)
			continue
		}
		s.valid += int64(b.Weight)
		c := b.Prefs[pos]
		first[c].parcels = append(first[c].parcels, parcel{i, pos, int64(b.Weight)})
		s.vote[c] += int64(b.Weight) * ersOne
	}
	for c := range first {
		if len(first[c].parcels) > 0 {
			first[c].value = ersOne
			s.batches[c] = append(s.batches[c], first[c])
		}
	}
	s.total = s.valid * ersOne
	// 5.1.6: the quota to two places, rounded up.
	s.quota = ceilDiv(s.total, int64(s.seats+1))
	s.snapshot()
	st := s.newStage("first", 0, nil, "")
	s.electStep(st)
	s.finish(st)
	s.run()
	r := &Result{Rule: ERS97, Candidates: s.n, Seats: s.seats, Decimals: ersPlaces, Valid: s.valid,
		Invalid: s.invalid, Stages: s.stages, Elected: s.elected}
	return r
}

// next returns the position after pos of ballot b's next preference for a
// continuing candidate, or −1.
func (s *ers) next(b, pos int) int {
	prefs := s.e.Ballots[b].Prefs
	for p := pos + 1; p < len(prefs); p++ {
		if s.state[prefs[p]] == Continuing {
			return p
		}
	}
	return -1
}

func (s *ers) snapshot() { s.history = append(s.history, slices.Clone(s.vote)) }

// compareHistory compares a and b at the first stage and after every batch
// transfer, in order, and returns the sign of the first difference (0 if
// they were equal at every point).
func (s *ers) compareHistory(a, b int) int {
	for _, h := range s.history {
		if h[a] != h[b] {
			if h[a] < h[b] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (s *ers) newStage(action string, batchNo int, from []int, tv string) *Stage {
	if batchNo <= 1 {
		s.stageNo++
	}
	return &Stage{Number: s.stageNo, Batch: batchNo, Action: action, From: from, TransferValue: tv}
}

func (s *ers) finish(st *Stage) {
	st.Votes = make([]string, s.n)
	for c := range st.Votes {
		st.Votes[c] = Value(s.vote[c]).format(ersPlaces)
	}
	st.States = slices.Clone(s.state)
	st.Exhausted = Value(s.exhausted).format(ersPlaces)
	st.Remainder = Value(s.remainder).format(ersPlaces)
	st.Quota = Value(s.quota).format(ersPlaces)
	s.stages = append(s.stages, *st)
}

func (s *ers) name(c int) string {
	if s.e.Names != nil {
		return s.e.Names[c]
	}
	return fmt.Sprintf("candidate %d", c)
}

func (s *ers) continuing() []int {
	var out []int
	for c, st := range s.state {
		if st == Continuing {
			out = append(out, c)
		}
	}
	return out
}

func (s *ers) unfilled() int { return s.seats - len(s.elected) }

func (s *ers) elect(st *Stage, c int) {
	s.state[c] = Elected
	s.elected = append(s.elected, c)
	st.Elected = append(st.Elected, c)
	if s.vote[c] > s.quota {
		s.pending[c] = true
	}
}

// electStep deems candidates elected (5.1.7, 5.3.13, 5.4.9, 5.6.2):
// continuing candidates in descending order of votes whose vote reaches the
// quota, or (where less) the total active vote divided by one more than the
// places not yet filled, while places remain.
func (s *ers) electStep(st *Stage) {
	for s.unfilled() > 0 {
		thr := s.quota
		if b := ceilDiv(s.activeVote(), int64(s.unfilled()+1)); b < thr {
			thr = b
		}
		var eligible []int
		for _, c := range s.continuing() {
			if s.vote[c] >= thr && s.vote[c] > 0 {
				eligible = append(eligible, c)
			}
		}
		if len(eligible) == 0 {
			return
		}
		top := eligible[0]
		for _, c := range eligible {
			if s.vote[c] > s.vote[top] {
				top = c
			}
		}
		var group []int
		for _, c := range eligible {
			if s.vote[c] == s.vote[top] {
				group = append(group, c)
			}
		}
		// Highest history first; equal histories keep index order.
		slices.SortStableFunc(group, func(a, b int) int { return -s.compareHistory(a, b) })
		if len(group) <= s.unfilled() {
			for _, c := range group {
				s.elect(st, c)
			}
			continue
		}
		// 5.6.2: more candidates with equal votes than places.
		u := s.unfilled()
		boundary := group[u]
		var chosen []int
		for _, c := range group[:u] {
			if s.compareHistory(c, boundary) > 0 {
				chosen = append(chosen, c)
			}
		}
		for _, c := range chosen {
			s.elect(st, c)
			st.Notes = append(st.Notes, fmt.Sprintf("%s deemed elected before candidates with equal votes: more votes at an earlier point (5.6.2)", s.name(c)))
		}
		if len(chosen) < u {
			st.Notes = append(st.Notes, "candidates with equal votes at every point and too few places: none of them deemed elected at this stage (5.6.2)")
		}
		return
	}
}

// activeVote is the total active vote (5.6.1): the total valid vote less
// the quotas (or votes if less) of the candidates deemed elected and the
// non-transferable vote.
func (s *ers) activeVote() int64 {
	v := s.total - s.exhausted - s.remainder
	for _, c := range s.elected {
		v -= min(s.vote[c], s.quota)
	}
	return v
}

// run performs the stages after the first (5.2–5.5).
func (s *ers) run() {
	for {
		if s.unfilled() == 0 {
			s.end(nil, s.continuing(), "all places filled: remaining candidates excluded (5.5.2)")
			return
		}
		cont := s.continuing()
		if len(cont) <= s.unfilled() {
			s.end(s.byVotesDesc(cont), nil, "as many continuing candidates as places: all deemed elected (4.3)")
			return
		}
		var surplus int64
		var pending []int
		for c := range s.pending {
			if s.pending[c] {
				pending = append(pending, c)
				surplus += s.vote[c] - s.quota
			}
		}
		losers := s.sureLosers(cont, surplus)
		if len(pending) > 0 && len(losers) == 0 {
			s.transferSurplus(pending)
			continue
		}
		var note string
		if len(pending) > 0 {
			note = fmt.Sprintf("surplus of %s deferred (5.2.2)", Value(surplus).format(ersPlaces))
		}
		if len(losers) == 0 {
			c, tie := s.lowest(cont)
			losers = []int{c}
			if tie != "" {
				note = joinNote(note, tie)
			}
		}
		if len(cont)-len(losers) == s.unfilled() {
			// 5.5.1: the exclusion would leave as many as places.
			var keep []int
			for _, c := range cont {
				if !slices.Contains(losers, c) {
					keep = append(keep, c)
				}
			}
			s.end(s.byVotesDesc(keep), losers, joinNote(note, "an exclusion would leave as many continuing candidates as places: they are deemed elected (5.5.1)"))
			return
		}
		s.exclude(losers, note)
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// byVotesDesc orders candidates by votes, then history, then lot, highest
// first (the order in which they are declared).
func (s *ers) byVotesDesc(cs []int) []int {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b int) int {
		if s.vote[a] != s.vote[b] {
			if s.vote[a] > s.vote[b] {
				return -1
			}
			return 1
		}
		if h := s.compareHistory(a, b); h != 0 {
			return -h
		}
		return s.lot[b] - s.lot[a]
	})
	return out
}

// end records the last stage: candidates deemed elected and excluded
// without any transfer.
func (s *ers) end(elect, exclude []int, note string) {
	if len(elect) == 0 && len(exclude) == 0 {
		return
	}
	st := s.newStage("end", 0, nil, "")
	for _, c := range elect {
		s.elect(st, c)
	}
	for _, c := range exclude {
		s.state[c] = Excluded
		st.Excluded = append(st.Excluded, c)
	}
	st.Notes = append(st.Notes, note)
	s.finish(st)
}

// sureLosers returns the largest set of lowest candidates (whole groups of
// equal votes) whose votes with the surpluses total at most the vote of
// the candidate next above, leaving enough candidates to fill the places
// (5.2.2(b), 5.2.5).
func (s *ers) sureLosers(cont []int, surplus int64) []int {
	byVote := slices.Clone(cont)
	slices.SortStableFunc(byVote, func(a, b int) int {
		switch {
		case s.vote[a] < s.vote[b]:
			return -1
		case s.vote[a] > s.vote[b]:
			return 1
		}
		return 0
	})
	maxLosers := len(cont) - s.unfilled()
	var losers []int
	acc := surplus
	for i := 0; i < len(byVote); {
		j := i
		for j < len(byVote) && s.vote[byVote[j]] == s.vote[byVote[i]] {
			acc += s.vote[byVote[j]]
			j++
		}
		if j == len(byVote) {
			break
		}
		if acc <= s.vote[byVote[j]] && j <= maxLosers {
			losers = slices.Clone(byVote[:j])
		}
		i = j
	}
	return losers
}

// lowest returns the continuing candidate to exclude (5.2.5): fewest votes;
// among equals the one with fewest votes at the earliest point where they
// differed; if equal at every point, the one the lot excludes first.
func (s *ers) lowest(cont []int) (int, string) {
	low := cont[0]
	for _, c := range cont {
		if s.vote[c] < s.vote[low] {
			low = c
		}
	}
	var tied []int
	for _, c := range cont {
		if s.vote[c] == s.vote[low] {
			tied = append(tied, c)
		}
	}
	if len(tied) == 1 {
		return low, ""
	}
	best := tied[0]
	for _, c := range tied[1:] {
		if h := s.compareHistory(c, best); h < 0 || (h == 0 && s.lot[c] < s.lot[best]) {
			best = c
		}
	}
	byLot := false
	for _, c := range tied {
		if c != best && s.compareHistory(c, best) == 0 {
			byLot = true
		}
	}
	if byLot {
		return best, fmt.Sprintf("%s excluded by lot among candidates with equal votes at every point (5.2.5)", s.name(best))
	}
	return best, fmt.Sprintf("%s excluded: fewest votes at the earliest point where the tied candidates differed (5.2.5)", s.name(best))
}

// sortByNext groups parcels by the next continuing preference; it returns
// the parcels per recipient (in candidate order) and the non-transferable
// papers' count.
func (s *ers) sortByNext(ps []parcel) (map[int][]parcel, int64) {
	to := map[int][]parcel{}
	var nt int64
	for _, p := range ps {
		pos := s.next(p.b, p.pos)
		if pos < 0 {
			nt += p.count
			continue
		}
		c := s.e.Ballots[p.b].Prefs[pos]
		to[c] = append(to[c], parcel{p.b, pos, p.count})
	}
	return to, nt
}

// transferSurplus transfers the largest surplus (5.2.3, 5.3).
func (s *ers) transferSurplus(pending []int) {
	c := pending[0]
	var tieNote string
	for _, x := range pending[1:] {
		sx, sc := s.vote[x]-s.quota, s.vote[c]-s.quota
		if sx > sc {
			c = x
		}
	}
	var tied []int
	for _, x := range pending {
		if s.vote[x]-s.quota == s.vote[c]-s.quota {
			tied = append(tied, x)
		}
	}
	if len(tied) > 1 {
		best := tied[0]
		for _, x := range tied[1:] {
			if h := s.compareHistory(x, best); h > 0 || (h == 0 && s.lot[x] < s.lot[best]) {
				best = x
			}
		}
		c = best
		byLot := false
		for _, x := range tied {
			if x != best && s.compareHistory(x, best) == 0 {
				byLot = true
			}
		}
		if byLot {
			tieNote = fmt.Sprintf("equal surpluses: %s's transferred first by lot (5.2.3)", s.name(c))
		} else {
			tieNote = fmt.Sprintf("equal surpluses: %s's transferred first, more votes at the earliest point where they differed (5.2.3)", s.name(c))
		}
	}
	surplus := s.vote[c] - s.quota
	last := s.batches[c][len(s.batches[c])-1] // 5.3.1, 5.3.2: all papers if first stage, else the last batch
	to, _ := s.sortByNext(last.parcels)
	var papers int64
	for _, ps := range to {
		for _, p := range ps {
			papers += p.count
		}
	}
	tv := last.value
	if papers > 0 && papers*last.value > surplus {
		tv = surplus / papers // 5.3.7: two places, remainder ignored
	}
	var credited int64
	for _, r := range sortedKeys(to) {
		b := batch{value: tv, parcels: to[r]}
		var cnt int64
		for _, p := range to[r] {
			cnt += p.count
		}
		if tv > 0 {
			s.batches[r] = append(s.batches[r], b)
		}
		s.vote[r] += cnt * tv
		credited += cnt * tv
	}
	s.remainder += surplus - credited // 5.3.9: non-transferable difference
	s.vote[c] = s.quota
	s.pending[c] = false
	st := s.newStage("surplus", 0, []int{c}, Value(tv).format(ersPlaces))
	if tieNote != "" {
		st.Notes = append(st.Notes, tieNote)
	}
	s.snapshot()
	s.electStep(st)
	s.finish(st)
}

func sortedKeys(m map[int][]parcel) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// exclude excludes candidates together and transfers their papers batch
// by batch in descending order of value (5.4), stopping when all places
// are filled (5.5.2).
func (s *ers) exclude(losers []int, note string) {
	slices.Sort(losers)
	for _, c := range losers {
		s.state[c] = Excluded
	}
	// 5.4.1: all their papers, in batches of equal value, highest first.
	byValue := map[int64][]parcel{}
	for _, c := range losers {
		for _, b := range s.batches[c] {
			byValue[b.value] = append(byValue[b.value], b.parcels...)
		}
		s.batches[c] = nil
	}
	values := make([]int64, 0, len(byValue))
	for v := range byValue {
		values = append(values, v)
	}
	slices.Sort(values)
	slices.Reverse(values)
	if len(values) == 0 {
		st := s.newStage("exclusion", 0, losers, "")
		st.Excluded = slices.Clone(losers)
		st.Notes = appendNote(st.Notes, note)
		for _, c := range losers {
			s.vote[c] = 0
		}
		s.snapshot()
		s.electStep(st)
		s.finish(st)
		return
	}
	for i, v := range values {
		batchNo := 0
		if len(values) > 1 {
			batchNo = i + 1
		}
		st := s.newStage("exclusion", batchNo, losers, Value(v).format(ersPlaces))
		if i == 0 {
			st.Excluded = slices.Clone(losers)
			st.Notes = appendNote(st.Notes, note)
		}
		ps := byValue[v]
		// Take this batch's value off the excluded candidates.
		for _, p := range ps {
			holder := s.e.Ballots[p.b].Prefs[p.pos]
			s.vote[holder] -= p.count * v
		}
		to, nt := s.sortByNext(ps)
		for _, r := range sortedKeys(to) {
			var cnt int64
			for _, p := range to[r] {
				cnt += p.count
			}
			s.batches[r] = append(s.batches[r], batch{value: v, parcels: to[r]})
			s.vote[r] += cnt * v
		}
		s.exhausted += nt * v
		// 5.4.8: papers non-transferable before anyone is elected lower the quota.
		if len(s.elected) == 0 && s.exhausted+s.remainder > 0 {
			q := ceilDiv(s.total-s.exhausted-s.remainder, int64(s.seats+1))
			if q != s.quota {
				st.Notes = append(st.Notes, fmt.Sprintf("quota recalculated to %s (5.4.8)", Value(q).format(ersPlaces)))
				s.quota = q
			}
		}
		s.snapshot()
		s.electStep(st)
		s.finish(st)
		if s.unfilled() == 0 {
			return // 5.5.2: no further transfers
		}
	}
}

func appendNote(notes []string, n string) []string {
	if n == "" {
		return notes
	}
	return append(notes, n)
}
