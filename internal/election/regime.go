package election

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
)

//go:embed legal/regimes.json
var regimesJSON []byte

// Regime is the set of legal rules a ballot follows, fixed by its opening
// day (statutory.md §5 F42). Thresholds, voting-paper content, notice periods
// and mandate length all come from here, never from code constants.
type Regime struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	EffectiveFrom string `json:"effective_from"` // YYYY-MM-DD, Europe/London
	// TurnoutThreshold: at least 50% of those entitled must vote
	// (s.226(2)(a)(iia)); spoilt papers count as voting (s.297A).
	TurnoutThreshold bool `json:"turnout_threshold"`
	// IPSSupportThreshold: in important public services, Yes ≥ 40% of those
	// entitled (s.226(2B)); repealed from 18 Feb 2026.
	IPSSupportThreshold bool `json:"ips_support_threshold"`
	// ExtraPaperContent: summary of the dispute, types of action short of a
	// strike and the period are required on the paper (s.229(2B)–(2D)).
	ExtraPaperContent bool                 `json:"extra_paper_content"`
	NoticeDays        int                  `json:"notice_days"`        // s.226A notice ≥ N days before the opening day
	SamplePaperDays   int                  `json:"sample_paper_days"`  // sample voting paper ≥ N days before
	MandateMonths     int                  `json:"mandate_months"`     // s.234 mandate from the date of the ballot
	ActionNoticeDays  int                  `json:"action_notice_days"` // s.234A notice of industrial action
	Texts             map[string]LegalText `json:"texts"`
	// CodeOfPractice names the Code of Practice version in force.
	CodeOfPractice string `json:"code_of_practice"`
}

// Manifest is the regime as the signed manifest states it (docs/protocol.md
// §3): the scrutineer's result applies these fields, never the name. The
// 40% test of s.226(2B) is stated as not applying: the service does not yet
// record whether a ballot is of workers in important public services, and
// every regime a ballot can open under today has it repealed (from 18 Feb
// 2026). A ballot that is not industrial action has no mandate (s.234).
func (r Regime) Manifest(kind string) *manifest.Regime {
	mr := &manifest.Regime{ID: r.ID, Name: r.Name, TurnoutThreshold: r.TurnoutThreshold, MandateMonths: r.MandateMonths, CodeOfPractice: r.CodeOfPractice}
	if kind != "industrial_action" {
		mr.TurnoutThreshold, mr.MandateMonths = false, 0
	}
	return mr
}

// LegalText is one versioned statutory text.
type LegalText struct {
	Verified bool   `json:"verified"`
	Source   string `json:"source"`
	Text     string `json:"text"`
	// TextCy is the text in Welsh, for bilingual papers (a translation:
	// the statute has no Welsh version; "verified" covers the English).
	TextCy string `json:"text_cy"`
}

var regimes = func() []Regime {
	var f struct {
		Note    string   `json:"note"`
		Regimes []Regime `json:"regimes"`
	}
	dec := json.NewDecoder(bytes.NewReader(regimesJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		panic("election: legal/regimes.json: " + err.Error())
	}
	sort.Slice(f.Regimes, func(i, j int) bool { return f.Regimes[i].EffectiveFrom < f.Regimes[j].EffectiveFrom })
	return f.Regimes
}()

// Regimes returns every known regime, oldest first.
func Regimes() []Regime { return append([]Regime(nil), regimes...) }

// RegimeFor returns the regime in force on the opening day of a ballot
// opening at t (the day is taken in Europe/London).
func RegimeFor(t time.Time) (Regime, error) {
	day := t.In(london).Format("2006-01-02")
	for i := len(regimes) - 1; i >= 0; i-- {
		if regimes[i].EffectiveFrom <= day {
			return regimes[i], nil
		}
	}
	return Regime{}, fmt.Errorf("election: no legal regime covers a ballot opening on %s", day)
}

// RegimeByID finds a regime by id (for ballots already opened).
func RegimeByID(id string) (Regime, error) {
	for _, r := range regimes {
		if r.ID == id {
			return r, nil
		}
	}
	return Regime{}, fmt.Errorf("election: unknown legal regime %q", id)
}

// MandateExpiry is the last day of the mandate (at its start, Europe/
// London) for a ballot whose last voting day is dateOfBallot: s.234 gives
// "the period of N months beginning with the date of the ballot" (s.246),
// which ends the day before the same date N months on — the day the signed
// result gives as mandate_expires (crypto/tally, docs/protocol.md §8.5).
func (r Regime) MandateExpiry(dateOfBallot time.Time) time.Time {
	d := dateOfBallot.In(london)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, london).AddDate(0, r.MandateMonths, -1)
}

var london = func() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic("election: no Europe/London time zone data: " + err.Error())
	}
	return l
}()
