package verify

import (
	"errors"
	"fmt"

	"github.com/unionvote/eballot/crypto/internal/canonjson"
	"github.com/unionvote/eballot/crypto/manifest"
)

// PublishedCounts is the service's public counts document, published once
// the ballot is closed (GET /issuance/v1/{election}/counts,
// docs/protocol.md §8.4): the marked register's totals per ballot style,
// in manifest order.
type PublishedCounts struct {
	ElectionID string           `json:"election_id"`
	Styles     []PublishedStyle `json:"styles"`
}

// PublishedStyle is one ballot style's line of [PublishedCounts].
type PublishedStyle struct {
	Style    string `json:"style"`    // the manifest's style id
	Entitled int64  `json:"entitled"` // the frozen register count
	Issued   int64  `json:"issued"`   // online authorisations issued, replacements included
	Replaced int64  `json:"replaced"` // of which replacements of a lost authorisation
	Postal   int64  `json:"postal"`   // postal votes recorded (not in the ledger)
}

// MaxPublishedCounts bounds a counts document.
const MaxPublishedCounts = 1 << 20

// ParsePublishedCounts decodes a counts document strictly (one accepted
// form: every member present, no other, names in their case, integers).
func ParsePublishedCounts(b []byte) (*PublishedCounts, error) {
	if len(b) > MaxPublishedCounts {
		return nil, errors.New("counts document too large")
	}
	var p PublishedCounts
	if err := canonjson.Decode(b, &p); err != nil {
		return nil, fmt.Errorf("decode counts: %w", err)
	}
	if len(p.Styles) > manifest.MaxStyles {
		return nil, errors.New("decode counts: too many styles")
	}
	for _, s := range p.Styles {
		if s.Entitled < 0 || s.Issued < 0 || s.Replaced < 0 || s.Postal < 0 || s.Replaced > s.Issued {
			return nil, fmt.Errorf("decode counts: style %q: counts must be ≥ 0 with replaced ≤ issued", s.Style)
		}
	}
	return &p, nil
}

// check compares the document with the manifest (check counts.published).
func (p *PublishedCounts) check(m *manifest.Manifest) error {
	if p.ElectionID != m.ElectionID {
		return fmt.Errorf("the published counts are for election %q, not %q", p.ElectionID, m.ElectionID)
	}
	if len(p.Styles) != len(m.Styles) {
		return fmt.Errorf("the published counts list %d ballot styles, the manifest %d", len(p.Styles), len(m.Styles))
	}
	for i, s := range p.Styles {
		if s.Style != m.Styles[i].ID || s.Entitled != m.Styles[i].Entitled {
			return fmt.Errorf("the published counts' style %d is %q with %d entitled, the manifest's %q with %d", i, s.Style, s.Entitled, m.Styles[i].ID, m.Styles[i].Entitled)
		}
	}
	return nil
}

// IssuedCounts returns the authorisations issued per style.
func (p *PublishedCounts) IssuedCounts() []int64 {
	out := make([]int64, len(p.Styles))
	for i, s := range p.Styles {
		out[i] = s.Issued
	}
	return out
}
