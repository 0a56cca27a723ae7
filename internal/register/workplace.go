package register

import "strings"

// Workplace is one workplace (s.228: the premises a member works at or
// from) and the employer there, as a ballot's configuration names it.
type Workplace struct {
	ID       string `json:"id"` // style id for separate workplace ballots, [a-z0-9-]
	Name     string `json:"name"`
	Employer string `json:"employer"`
}

// AggregatedStyle is the single ballot style of an aggregated ballot.
const AggregatedStyle = "all"

// StyleFor is the ballot style of members at workplace w: its own (s.228)
// or the single aggregated one (s.228A).
func StyleFor(aggregated bool, w Workplace) string {
	if aggregated {
		return AggregatedStyle
	}
	return w.ID
}

// WorkplaceByName finds a workplace by name, ignoring case and surrounding
// spaces.
func WorkplaceByName(ws []Workplace, name string) (Workplace, bool) {
	n := strings.TrimSpace(name)
	for _, w := range ws {
		if strings.EqualFold(w.Name, n) {
			return w, true
		}
	}
	return Workplace{}, false
}
