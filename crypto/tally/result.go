package tally

import (
	"fmt"
	"strings"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
)

// Result is the statutory result of a ballot (TULRCA s.231): for every
// workplace ballot (style, s.228) and aggregated over all styles.
type Result struct {
	ElectionID   string `json:"election_id"`
	Title        string `json:"title"`
	Kind         string `json:"kind"`
	ManifestHash string `json:"manifest_hash"`
	// Scrutineer is the scrutineer named on the voting paper (s.229(1A)(a),
	// the manifest's "scrutineer" text), if any.
	Scrutineer string `json:"scrutineer,omitempty"`
	// ClosedAt is the time voting stopped, from the ledger's signed close
	// (protocol version 4): earlier than closes_at when the scrutineer
	// closed the ballot early. Empty when the close states no time.
	ClosedAt string `json:"closed_at,omitempty"`
	// DateOfBallot is the last day votes could be cast (s.246), the UK date
	// of the actual close (ClosedAt), or of closes_at when the close states
	// no time.
	DateOfBallot string `json:"date_of_ballot"`
	Regime       Regime `json:"regime"`
	// MandateExpires is the last day of the period of the mandate beginning
	// with the date of the ballot (s.234), empty when not an industrial
	// action ballot.
	MandateExpires string        `json:"mandate_expires,omitempty"`
	Styles         []StyleResult `json:"styles"`
	Aggregate      StyleResult   `json:"aggregate"`
	// Trustees lists the trustees whose partial decryptions were combined.
	Trustees []int `json:"trustees"`
}

// Regime is the legal regime the thresholds come from.
type Regime struct {
	Name string `json:"name"`
	// TurnoutThreshold: the 50% turnout test of s.226(2)(a)(iia) applies.
	TurnoutThreshold bool `json:"turnout_threshold"`
	// SupportThreshold: the 40%-of-entitled Yes test of s.226(2B) applies
	// (important public services).
	SupportThreshold bool `json:"support_threshold"`
	MandateMonths    int  `json:"mandate_months,omitempty"`
	// Notes say where each rule came from, including any assumption.
	Notes []string `json:"notes"`
}

// StyleResult is the s.231 information for one workplace ballot.
type StyleResult struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	Entitled  int64            `json:"entitled"`
	VotesCast int64            `json:"votes_cast"`
	Turnout   string           `json:"turnout"` // percentage, 2 decimals
	Questions []QuestionResult `json:"questions"`
	// TurnoutMet: votes cast (spoilt included, s.297A) ≥ 50% of entitled.
	// Nil when the test does not apply.
	TurnoutMet *bool `json:"turnout_threshold_met"`
	// Channels split the count by channel (online, postal, workplace) when
	// the ballot has a paper section (docs/protocol.md §10); the fields
	// above are then their total.
	Channels []ChannelResult `json:"channels,omitempty"`
	// Rejected counts the papers set aside unopened or excluded (from the
	// close of the paper count), when the ballot has a paper section.
	Rejected *Rejected `json:"paper_rejected,omitempty"`
}

// ChannelResult is the count of one channel in a workplace ballot.
type ChannelResult struct {
	Channel   string           `json:"channel"`
	VotesCast int64            `json:"votes_cast"`
	Questions []QuestionResult `json:"questions"`
}

// Rejected counts papers not counted: returned by a member who had voted
// online ("rejected: voted online"), returned a second time, or late.
type Rejected struct {
	VotedOnline  int64 `json:"voted_online"`
	SecondReturn int64 `json:"second_return"`
	Late         int64 `json:"late"`
}

// PaperTotals are the paper votes of one workplace ballot and channel
// (the valid batches of crypto/paper, summed by crypto/verify).
type PaperTotals struct {
	Style   int
	Channel string // "postal" or "workplace"
	Papers  int64
	// Options[q][o] is the count of option o of question q; Spoilt[q] the
	// blank and spoilt answers to question q (a blank answer is spoilt,
	// as online).
	Options [][]int64
	Spoilt  []int64
	// Rejected are the style's papers not counted (set on one entry per
	// style, nil on the others).
	Rejected *Rejected
}

func (t PaperTotals) option(q, o int) int64 {
	if q < len(t.Options) && o < len(t.Options[q]) {
		return t.Options[q][o]
	}
	return 0
}

func (t PaperTotals) spoilt(q int) int64 {
	if q < len(t.Spoilt) {
		return t.Spoilt[q]
	}
	return 0
}

// questions makes the question results of one channel: counts from count;
// spoilt from spoilt when given, else (online) votes minus marks for a
// question of one mark, -1 for others.
func questions(m *manifest.Manifest, votes int64, count func(q, o int) int64, spoilt func(q int) int64) []QuestionResult {
	var out []QuestionResult
	for qi, q := range m.Questions {
		if q.Ranked() {
			out = append(out, QuestionResult{ID: q.ID, Text: q.Text, Spoilt: -1, Ranked: true})
			continue
		}
		qr := QuestionResult{ID: q.ID, Text: q.Text}
		var marks int64
		for oi, o := range q.Options {
			n := count(qi, oi)
			marks += n
			qr.Counts = append(qr.Counts, OptionCount{o.ID, o.Label, n})
		}
		if y, n, ok := isYesNo(q); ok {
			qr.YesNo, qr.Yes, qr.No = true, qr.Counts[y].Count, qr.Counts[n].Count
		}
		switch {
		case spoilt != nil:
			qr.Spoilt = spoilt(qi)
		case q.Max == 1:
			qr.Spoilt = votes - marks
		default:
			qr.Spoilt = -1
		}
		out = append(out, qr)
	}
	return out
}

// addQuestions adds src's counts into dst (same questions).
func addQuestions(dst, src []QuestionResult) {
	for qi := range dst {
		d, sq := &dst[qi], src[qi]
		d.Yes += sq.Yes
		d.No += sq.No
		for oi := range d.Counts {
			d.Counts[oi].Count += sq.Counts[oi].Count
		}
		if d.Spoilt < 0 || sq.Spoilt < 0 {
			d.Spoilt = -1
		} else {
			d.Spoilt += sq.Spoilt
		}
	}
}

// sumChannels totals the channels of a workplace ballot.
func sumChannels(m *manifest.Manifest, chs []ChannelResult) (int64, []QuestionResult) {
	total := questions(m, 0, func(int, int) int64 { return 0 }, func(int) int64 { return 0 })
	var votes int64
	for _, ch := range chs {
		votes += ch.VotesCast
		addQuestions(total, ch.Questions)
	}
	return votes, total
}

// QuestionResult is the count of one question.
type QuestionResult struct {
	ID     string        `json:"id"`
	Text   string        `json:"text"`
	YesNo  bool          `json:"yes_no"`
	Yes    int64         `json:"yes"`
	No     int64         `json:"no"`
	Counts []OptionCount `json:"options"`
	// Spoilt counts papers with no valid answer to this question (a blank
	// answer to a yes/no question is spoilt). -1 when it cannot be known
	// from the aggregate (a question allowing several marks).
	Spoilt int64 `json:"spoilt"`
	// Majority: Yes > No.
	Majority bool `json:"majority_yes"`
	// SupportMet: Yes ≥ 40% of entitled (s.226(2B)); nil when not applicable.
	SupportMet *bool `json:"support_threshold_met"`
	// Supported: every applicable test met and a majority Yes.
	Supported bool `json:"supported"`
	// Ranked: a ranked (STV) question (manifest version 2): it is not
	// in the homomorphic tally (no counts here, spoilt -1); its ballots go
	// to the mix and its result is the STV count (docs/protocol.md §9).
	Ranked bool `json:"ranked,omitempty"`
}

// OptionCount is the count of one option.
type OptionCount struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Count int64  `json:"count"`
}

// regimeOf takes the legal regime from the manifest's signed regime
// object (docs/protocol.md §3): its thresholds and mandate are applied as
// they are; the name is only copied. A manifest without one (not an
// industrial action ballot: [manifest.Manifest.Validate] requires it
// there) has no statutory threshold.
func regimeOf(m *manifest.Manifest) (Regime, error) {
	mr := m.Regime
	if mr == nil {
		if m.Kind == "industrial_action" {
			return Regime{}, fmt.Errorf("tally: industrial action ballot %q states no legal regime", m.ElectionID)
		}
		return Regime{Notes: []string{"the manifest states no legal regime: no statutory turnout or support threshold"}}, nil
	}
	applies := func(b bool) string {
		if b {
			return "applies"
		}
		return "does not apply"
	}
	mandate := "no mandate"
	if mr.MandateMonths > 0 {
		mandate = fmt.Sprintf("mandate %d months (s.234)", mr.MandateMonths)
	}
	note := fmt.Sprintf("regime %s (signed in the manifest): 50%% turnout test (s.226(2)(a)(iia)) %s; 40%% support test (s.226(2B)) %s; %s; Code of Practice: %s",
		mr.ID, applies(mr.TurnoutThreshold), applies(mr.SupportThreshold), mandate, mr.CodeOfPractice)
	return Regime{Name: mr.Name, TurnoutThreshold: mr.TurnoutThreshold, SupportThreshold: mr.SupportThreshold,
		MandateMonths: mr.MandateMonths, Notes: []string{note}}, nil
}

func isYesNo(q manifest.Question) (yes, no int, ok bool) {
	if len(q.Options) != 2 || q.Max != 1 {
		return 0, 0, false
	}
	yes, no = -1, -1
	for i, o := range q.Options {
		switch strings.ToLower(o.ID) {
		case "yes":
			yes = i
		case "no":
			no = i
		}
	}
	return yes, no, yes >= 0 && no >= 0
}

// Compute makes the statutory result from the manifest and decrypted counts.
func Compute(m *manifest.Manifest, c *Counts) (*Result, error) {
	h, err := m.Hash()
	if err != nil {
		return nil, fmt.Errorf("hash manifest: %w", err)
	}
	reg, err := regimeOf(m)
	if err != nil {
		return nil, err
	}
	r := &Result{ElectionID: m.ElectionID, Title: m.Title, Kind: m.Kind, ManifestHash: fmt.Sprintf("%x", h), Scrutineer: m.Texts["scrutineer"], Regime: reg, Trustees: c.Trustees}
	closes, err := time.Parse(manifest.TimeFormat, m.ClosesAt)
	if err != nil {
		return nil, fmt.Errorf("parse closes_at: %w", err)
	}
	if c.ClosedAt != "" {
		// The actual close (an early close by the scrutineer): the date of
		// the ballot is the last day votes could be cast (s.246), and the
		// s.234 mandate runs from it.
		at, err := time.Parse(manifest.TimeFormat, c.ClosedAt)
		if err != nil || at.Format(manifest.TimeFormat) != c.ClosedAt {
			return nil, fmt.Errorf("tally: close time %q is not RFC 3339 UTC to the second", c.ClosedAt)
		}
		r.ClosedAt = c.ClosedAt
		if at.Before(closes) {
			closes = at
		}
	}
	day := closes.In(london())
	r.DateOfBallot = day.Format("2006-01-02")
	if r.Regime.MandateMonths > 0 && m.Kind == "industrial_action" {
		d := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
		r.MandateExpires = d.AddDate(0, r.Regime.MandateMonths, -1).Format("2006-01-02")
	}
	agg := StyleResult{ID: "all", Name: "All workplaces (aggregated)"}
	hasPaper := len(c.Paper) > 0
	var aggChannels []ChannelResult
	for si, st := range m.Styles {
		sr := StyleResult{ID: st.ID, Name: st.Name, Entitled: st.Entitled}
		var online int64
		if si < len(c.Ballots) {
			online = c.Ballots[si]
		}
		onlineQs := questions(m, online, func(qi, oi int) int64 { return int64(c.Count(si, qi, oi)) }, nil)
		if !hasPaper {
			sr.VotesCast, sr.Questions = online, onlineQs
		} else {
			// Every channel (s.230(4)(b), s.231): online, then postal and
			// workplace paper, and their total.
			sr.Channels = []ChannelResult{{Channel: "online", VotesCast: online, Questions: onlineQs}}
			for _, ch := range []string{"postal", "workplace"} {
				t := c.paperOf(si, ch)
				sr.Channels = append(sr.Channels, ChannelResult{Channel: ch, VotesCast: t.Papers,
					Questions: questions(m, t.Papers, func(qi, oi int) int64 { return t.option(qi, oi) }, t.spoilt)})
			}
			sr.VotesCast, sr.Questions = sumChannels(m, sr.Channels)
			sr.Rejected = c.rejectedOf(si)
			if aggChannels == nil {
				aggChannels = make([]ChannelResult, len(sr.Channels))
				for i, ch := range sr.Channels {
					aggChannels[i] = ChannelResult{Channel: ch.Channel, Questions: questions(m, 0, func(int, int) int64 { return 0 }, func(int) int64 { return 0 })}
				}
			}
			for i, ch := range sr.Channels {
				aggChannels[i].VotesCast += ch.VotesCast
				addQuestions(aggChannels[i].Questions, ch.Questions)
			}
			if sr.Rejected != nil {
				if agg.Rejected == nil {
					agg.Rejected = &Rejected{}
				}
				agg.Rejected.VotedOnline += sr.Rejected.VotedOnline
				agg.Rejected.SecondReturn += sr.Rejected.SecondReturn
				agg.Rejected.Late += sr.Rejected.Late
			}
		}
		finish(&sr, r.Regime)
		r.Styles = append(r.Styles, sr)
		agg.Entitled += sr.Entitled
		agg.VotesCast += sr.VotesCast
	}
	agg.Channels = aggChannels
	for qi, q := range m.Questions {
		if q.Ranked() {
			agg.Questions = append(agg.Questions, QuestionResult{ID: q.ID, Text: q.Text, Spoilt: -1, Ranked: true})
			continue
		}
		qr := QuestionResult{ID: q.ID, Text: q.Text, Spoilt: 0}
		for oi, o := range q.Options {
			qr.Counts = append(qr.Counts, OptionCount{ID: o.ID, Label: o.Label})
			for _, s := range r.Styles {
				qr.Counts[oi].Count += s.Questions[qi].Counts[oi].Count
			}
		}
		for _, s := range r.Styles {
			sq := s.Questions[qi]
			qr.YesNo, qr.Yes, qr.No = sq.YesNo, qr.Yes+sq.Yes, qr.No+sq.No
			if sq.Spoilt < 0 || qr.Spoilt < 0 {
				qr.Spoilt = -1
			} else {
				qr.Spoilt += sq.Spoilt
			}
		}
		agg.Questions = append(agg.Questions, qr)
	}
	finish(&agg, r.Regime)
	r.Aggregate = agg
	return r, nil
}

func finish(sr *StyleResult, reg Regime) {
	if sr.Entitled > 0 {
		// Two decimals, rounded down, in integers (no float rounding up to 50.00).
		bp := sr.VotesCast * 10000 / sr.Entitled
		sr.Turnout = fmt.Sprintf("%d.%02d%%", bp/100, bp%100)
	} else {
		sr.Turnout = "n/a"
	}
	if reg.TurnoutThreshold {
		met := sr.Entitled > 0 && 2*sr.VotesCast >= sr.Entitled
		sr.TurnoutMet = &met
	}
	for i := range sr.Questions {
		q := &sr.Questions[i]
		q.Majority = q.YesNo && q.Yes > q.No
		if reg.SupportThreshold && q.YesNo {
			met := sr.Entitled > 0 && 5*q.Yes >= 2*sr.Entitled
			q.SupportMet = &met
		}
		q.Supported = q.Majority && (sr.TurnoutMet == nil || *sr.TurnoutMet) && (q.SupportMet == nil || *q.SupportMet)
	}
}

func london() *time.Location {
	if l, err := time.LoadLocation("Europe/London"); err == nil {
		return l
	}
	return time.UTC
}
