package election

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/report"
)

type manifestStyle struct {
	id, name  string
	issuerKey []byte // SPKI DER
	entitled  int
}

// buildManifest makes the canonical manifest of docs/protocol.md §3 from a
// ballot at open. The statutory texts on the voting paper are the ballot's
// texts plus the regime's versioned s.229(4) statement and the scrutineer's
// name (s.229(1A)(a)).
func buildManifest(d *draft, regime Regime, styles []manifestStyle, logKey string) ([]byte, error) {
	texts := map[string]string{}
	for k, v := range d.config.Texts {
		if v != "" {
			texts[k] = v
		}
	}
	if d.kind == "industrial_action" {
		texts["s229_4"] = regime.Texts["s229_4"].Text
	}
	if s := deref(d.scrutineer); s != "" {
		texts["scrutineer"] = s
	}
	if d.scrutineerKey != "" {
		texts[report.ManifestKeyText] = d.scrutineerKey // the key that signs the result (result.go)
	}
	texts["legal_regime"] = regime.Name
	type option struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	}
	type question struct {
		ID      string   `json:"id"`
		Text    string   `json:"text"`
		Options []option `json:"options"`
		Min     int      `json:"min"`
		Max     int      `json:"max"`
	}
	type style struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		IssuerKey string `json:"issuer_key"`
		Entitled  int    `json:"entitled"`
	}
	m := struct {
		Version    int               `json:"version"`
		ElectionID string            `json:"election_id"`
		Kind       string            `json:"kind"`
		Title      string            `json:"title"`
		OpensAt    string            `json:"opens_at"`
		ClosesAt   string            `json:"closes_at"`
		Texts      map[string]string `json:"texts"`
		Questions  []question        `json:"questions"`
		Styles     []style           `json:"styles"`
		Trustees   json.RawMessage   `json:"trustees"`
		LogKey     string            `json:"log_key"`
	}{Version: 1, ElectionID: d.electionID, Kind: d.kind, Title: d.title, Texts: texts, Trustees: d.trustees, LogKey: logKey}
	opens := time.Now()
	if d.opensAt != nil && d.opensAt.After(opens) {
		opens = *d.opensAt
	}
	m.OpensAt = opens.UTC().Truncate(time.Second).Format(time.RFC3339)
	m.ClosesAt = d.closesAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	for _, q := range d.config.Questions {
		mq := question{ID: q.ID, Text: q.Text, Min: q.Min, Max: q.Max}
		for _, o := range q.Options {
			mq.Options = append(mq.Options, option(o))
		}
		m.Questions = append(m.Questions, mq)
	}
	for _, s := range styles {
		m.Styles = append(m.Styles, style{ID: s.id, Name: s.name, IssuerKey: base64.StdEncoding.EncodeToString(s.issuerKey), Entitled: s.entitled})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return manifest.Canonicalize(raw)
}
