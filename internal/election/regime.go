package election

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
)

//go:embed legal/regimes.json
var regimesJSON []byte

// Regime is the set of legal rules a ballot follows, fixed by its opening
// day (statutory.md §5 F42). Thresholds, voting-paper content, notice periods
// and mandate length all come from here, never from code constants.
type Regime struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// EffectiveFrom is the first opening day (YYYY-MM-DD, Europe/London)
	// and EffectiveUntil the first day of the next regime ("" for the last);
	// either may be "commencement", the configured day of the e-ballot
	// order ([UseCommencement]). As loaded, both are dates or "".
	EffectiveFrom  string `json:"effective_from"`
	EffectiveUntil string `json:"effective_until"`
	// TurnoutThreshold: at least 50% of those entitled must vote
	// (s.226(2)(a)(iia)); spoilt papers count as voting (s.297A).
	TurnoutThreshold bool `json:"turnout_threshold"`
	// IPSSupportThreshold: in important public services, Yes ≥ 40% of those
	// entitled (s.226(2B)); repealed from 18 Feb 2026.
	IPSSupportThreshold bool `json:"ips_support_threshold"`
	// ExtraPaperContent: summary of the dispute, types of action short of a
	// strike and the period are required on the paper (s.229(2B)–(2D)).
	ExtraPaperContent bool `json:"extra_paper_content"`
	NoticeDays        int  `json:"notice_days"`       // s.226A notice ≥ N days before the opening day
	SamplePaperDays   int  `json:"sample_paper_days"` // sample voting paper ≥ N days before
	// NoticeCounts: the s.226A notice gives the number in each category
	// and at each workplace and how the figures were arrived at (TUA16
	// text); from 18 Feb 2026 (ERA25) the total only.
	NoticeCounts     bool                 `json:"notice_counts"`
	MandateMonths    int                  `json:"mandate_months"`     // s.234 mandate from the date of the ballot
	ActionNoticeDays int                  `json:"action_notice_days"` // s.234A notice of industrial action
	Texts            map[string]LegalText `json:"texts"`
	// CodeOfPractice names the Code(s) of Practice in force.
	CodeOfPractice string `json:"code_of_practice"`
	// Kinds is the rule for each kind of ballot the service offers.
	Kinds map[string]KindRule `json:"kinds"`
}

// KindRule is what a regime says about one kind of ballot.
type KindRule struct {
	// Law names the sections the ballot follows.
	Law string `json:"law"`
	// Methods are the voting methods the law permits ([VotingMethods]):
	// postal only until the e-ballot order (s.230(2), s.51(4), s.77).
	Methods []string `json:"methods"`
	// Thresholds: the regime's s.226(2) thresholds apply; Mandate: the
	// ballot gives a s.234 mandate (industrial action only).
	Thresholds bool `json:"thresholds"`
	Mandate    bool `json:"mandate"`
}

// VotingMethods are the methods a KindRule may permit: by post; pure
// electronic; hybrid (paper by post, returned by post or online); in
// person at the workplace (industrial action only, the e-ballot order).
var VotingMethods = []string{"postal", "electronic", "hybrid", "workplace"}

// RefusedKind is a kind of ballot the service must not run.
type RefusedKind struct {
	Law    string `json:"law"`
	Reason string `json:"reason"`
}

// Manifest is the regime as the signed manifest states it (docs/protocol.md
// §3): the scrutineer's result applies these fields, never the name. The
// 40% test of s.226(2B) is stated as not applying: the service does not yet
// record whether a ballot is of workers in important public services, and
// every regime a ballot can open under today has it repealed (from 18 Feb
// 2026). The kind's rule says whether the thresholds and a mandate apply
// (only industrial action has them, s.226, s.234).
func (r Regime) Manifest(kind string) *manifest.Regime {
	k := r.Kinds[kind]
	mr := &manifest.Regime{ID: r.ID, Name: r.Name, TurnoutThreshold: r.TurnoutThreshold && k.Thresholds, CodeOfPractice: r.CodeOfPractice}
	if k.Mandate {
		mr.MandateMonths = r.MandateMonths
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

// RegimeTable is the table of regimes as loaded for one commencement day.
type RegimeTable struct {
	regimes []Regime // every regime, oldest first; those in force first
	inForce int      // regimes[:inForce] cover every day from the first
	refused map[string]RefusedKind
}

// Commencement is the word regimes.json uses for the configured day of
// the e-ballot order.
const Commencement = "commencement"

// LoadRegimes reads a regime table (the format of legal/regimes.json) for
// the e-ballot order commencing on commencement (YYYY-MM-DD; "" while it
// is not in force). It refuses, naming the rule: unknown fields, a regime
// without its figures, texts or a rule for every kind of ballot the
// service offers, and opening days covered by no regime (a gap) or by two
// (an overlap) — a ballot's regime is the one in force on its opening day
// (TUA16 s.3(3)-style transitional rule, statutory.md §5 F42).
func LoadRegimes(data []byte, commencement string) (*RegimeTable, error) {
	var f struct {
		Note         string                 `json:"note"`
		Regimes      []Regime               `json:"regimes"`
		RefusedKinds map[string]RefusedKind `json:"refused_kinds"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("regime table: %w (unknown fields are refused)", err)
	}
	if dec.More() {
		return nil, errors.New("regime table: more than one JSON value")
	}
	if commencement != "" {
		if _, err := time.Parse("2006-01-02", commencement); err != nil {
			return nil, fmt.Errorf("regime table: commencement %q is not a date YYYY-MM-DD", commencement)
		}
	}
	if len(f.Regimes) == 0 {
		return nil, errors.New("regime table: no regimes")
	}
	for k, rk := range f.RefusedKinds {
		if !kindRE.MatchString(k) || rk.Law == "" || rk.Reason == "" {
			return nil, fmt.Errorf("regime table: refused kind %q: a kind of ballot, with the law and the reason", k)
		}
	}
	ids := map[string]bool{}
	var inForce, later []Regime
	for _, r := range f.Regimes {
		if err := r.check(f.RefusedKinds); err != nil {
			return nil, err
		}
		if ids[r.ID] {
			return nil, fmt.Errorf("regime table: regime %q twice", r.ID)
		}
		ids[r.ID] = true
		if r.EffectiveFrom == Commencement && commencement == "" {
			later = append(later, r) // not in force until the order is
			continue
		}
		from, until := resolve(r.EffectiveFrom, commencement), resolve(r.EffectiveUntil, commencement)
		if from == "" {
			return nil, fmt.Errorf("regime table: regime %q has no effective_from", r.ID)
		}
		if until != "" && until <= from {
			return nil, fmt.Errorf("regime table: regime %q ends (%s) on or before it starts (%s)", r.ID, until, from)
		}
		r.EffectiveFrom, r.EffectiveUntil = from, until
		inForce = append(inForce, r)
	}
	sort.Slice(inForce, func(i, j int) bool { return inForce[i].EffectiveFrom < inForce[j].EffectiveFrom })
	for i, r := range inForce {
		switch {
		case i+1 == len(inForce) && r.EffectiveUntil != "":
			return nil, fmt.Errorf("regime table: a gap: no regime covers an opening day from %s (regime %q ends then; the last regime has effective_until \"\")", r.EffectiveUntil, r.ID)
		case i+1 == len(inForce):
		case r.EffectiveUntil == "" || r.EffectiveUntil > inForce[i+1].EffectiveFrom:
			return nil, fmt.Errorf("regime table: an overlap: regimes %q and %q both cover %s (one regime per opening day)", r.ID, inForce[i+1].ID, inForce[i+1].EffectiveFrom)
		case r.EffectiveUntil < inForce[i+1].EffectiveFrom:
			return nil, fmt.Errorf("regime table: a gap: no regime covers the opening days from %s to before %s (between regimes %q and %q)", r.EffectiveUntil, inForce[i+1].EffectiveFrom, r.ID, inForce[i+1].ID)
		}
	}
	return &RegimeTable{regimes: append(inForce, later...), inForce: len(inForce), refused: f.RefusedKinds}, nil
}

// resolve reads "commencement" as the configured day ("" while the order
// is not in force: a regime until it is open-ended).
func resolve(day, commencement string) string {
	if day == Commencement {
		return commencement
	}
	return day
}

var (
	regimeID = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	kindRE   = regexp.MustCompile(`^[a-z_]{1,64}$`)
)

// check refuses a regime with a figure or text missing or out of range.
func (r Regime) check(refused map[string]RefusedKind) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("regime table: regime %q: "+format, append([]any{r.ID}, args...)...)
	}
	if !regimeID.MatchString(r.ID) {
		return bad("the id must match [a-z0-9-]{1,64} (it is signed in the manifest, docs/protocol.md §3)")
	}
	for _, d := range []string{r.EffectiveFrom, r.EffectiveUntil} {
		if d == "" || d == Commencement {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return bad("%q is neither a date YYYY-MM-DD nor %q", d, Commencement)
		}
	}
	switch {
	case r.Name == "" || r.CodeOfPractice == "":
		return bad("a name and the Code of Practice in force are required")
	case r.NoticeDays < 1 || r.SamplePaperDays < 1:
		return bad("the s.226A notice and sample paper periods must be at least a day")
	case r.MandateMonths < 1 || r.MandateMonths > manifest.MaxMandateMonths:
		return bad("the s.234 mandate must be 1 to %d months", manifest.MaxMandateMonths)
	case r.ActionNoticeDays < 1:
		return bad("the s.234A notice period must be at least a day")
	case r.Texts["s229_4"].Text == "":
		return bad("the s.229(4) statement is required")
	}
	for _, k := range manifest.Kinds {
		rule, ok := r.Kinds[k]
		if _, no := refused[k]; no {
			if ok {
				return bad("kind %q is refused and has a rule", k)
			}
			continue
		}
		if !ok || rule.Law == "" || len(rule.Methods) == 0 {
			return bad("kind %q needs its law and permitted voting methods", k)
		}
		for _, m := range rule.Methods {
			if !slices.Contains(VotingMethods, m) {
				return bad("kind %q: unknown voting method %q (one of %v)", k, m, VotingMethods)
			}
		}
		if (rule.Thresholds || rule.Mandate) && k != "industrial_action" {
			return bad("kind %q: thresholds (s.226) and a mandate (s.234) are for industrial action only", k)
		}
	}
	for k := range r.Kinds {
		if !slices.Contains(manifest.Kinds, k) {
			return bad("unknown kind of ballot %q", k)
		}
	}
	return nil
}

// For returns the regime in force on the opening day of a ballot opening
// at t (the day is taken in Europe/London).
func (t *RegimeTable) For(at time.Time) (Regime, error) {
	day := at.In(london).Format("2006-01-02")
	for _, r := range t.regimes[:t.inForce] {
		if r.EffectiveFrom <= day && (r.EffectiveUntil == "" || day < r.EffectiveUntil) {
			return r, nil
		}
	}
	return Regime{}, fmt.Errorf("election: no legal regime covers a ballot opening on %s", day)
}

// ByID finds a regime by id, in force or not (for ballots already opened).
func (t *RegimeTable) ByID(id string) (Regime, error) {
	for _, r := range t.regimes {
		if r.ID == id {
			return r, nil
		}
	}
	return Regime{}, fmt.Errorf("election: unknown legal regime %q", id)
}

// Refused says whether the service must not run a kind of ballot, and why.
func (t *RegimeTable) Refused(kind string) (RefusedKind, bool) {
	rk, ok := t.refused[kind]
	return rk, ok
}

// table is the regime table in use: legal/regimes.json with no e-ballot
// commencement until [UseCommencement] sets one.
var table atomic.Pointer[RegimeTable]

func init() {
	t, err := LoadRegimes(regimesJSON, "")
	if err != nil {
		panic("election: legal/regimes.json: " + err.Error())
	}
	table.Store(t)
}

// UseCommencement sets the day the e-ballot order commenced (YYYY-MM-DD,
// EBALLOT_EVOTING_COMMENCEMENT; "" while it is not in force): ballots
// opening from that day follow the regime from commencement. Called once
// at start-up, before any ballot opens.
func UseCommencement(day string) error {
	t, err := LoadRegimes(regimesJSON, day)
	if err != nil {
		return err
	}
	table.Store(t)
	return nil
}

// Regimes returns every regime in force, oldest first, then those not yet
// in force.
func Regimes() []Regime { return slices.Clone(table.Load().regimes) }

// RegimeFor returns the regime in force on the opening day of a ballot
// opening at t (the day is taken in Europe/London).
func RegimeFor(t time.Time) (Regime, error) { return table.Load().For(t) }

// RegimeByID finds a regime by id (for ballots already opened).
func RegimeByID(id string) (Regime, error) { return table.Load().ByID(id) }

// RefusedKindOf says whether the service must not run a kind of ballot.
func RefusedKindOf(kind string) (RefusedKind, bool) { return table.Load().Refused(kind) }

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
