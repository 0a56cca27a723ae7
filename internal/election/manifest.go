package election

import (
	"bytes"
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

// buildManifest makes the canonical manifest of docs/protocol.md §3
// (crypto/manifest, the one declaration of its schema) from a ballot at
// open. The statutory texts on the voting paper are the ballot's
// texts plus the regime's versioned s.229(4) statement and the scrutineer's
// name (s.229(1A)(a)).
func buildManifest(d *draft, regime Regime, styles []manifestStyle, logKey string, now time.Time) ([]byte, error) {
	opens := now
	if d.opensAt != nil && d.opensAt.After(opens) {
		opens = *d.opensAt
	}
	m, err := paperManifest(d, regime, styles, logKey, opens)
	if err != nil {
		return nil, err
	}
	return m.Canonical()
}

// paperManifest is the manifest of buildManifest before it is made
// canonical, opening at opens.
func paperManifest(d *draft, regime Regime, styles []manifestStyle, logKey string, opens time.Time) (manifest.Manifest, error) {
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
	if ip := independentPerson(d.config); ip != "" {
		texts[IndependentPersonText] = ip // s.51A: named on the paper, signed with it
	}
	if d.scrutineerKey != "" {
		texts[report.ManifestKeyText] = d.scrutineerKey // the key that signs the result (result.go)
	}
	m := manifest.Manifest{Version: manifest.Version, ElectionID: d.electionID, Kind: d.kind, Title: d.title, Texts: texts, LogKey: logKey,
		Regime: regime.Manifest(d.kind)}
	if ip := independentPerson(d.config); ip != "" {
		// Signed with the paper (protocol 7): anyone counting the ballot
		// (scrutineer ranked … --export) needs this trustee's decryption
		// where the union's rules require it (s.51A).
		m.IndependentPerson = &manifest.IndependentPerson{Name: ip, Trustee: d.config.RequiredTrustee()}
	}
	if len(d.trustees) > 0 {
		dec := json.NewDecoder(bytes.NewReader(d.trustees))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m.Trustees); err != nil {
			return m, fmt.Errorf("read trustees: %w", err)
		}
	}
	if !opens.IsZero() {
		m.OpensAt = opens.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	if d.closesAt != nil {
		m.ClosesAt = d.closesAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	for _, q := range d.config.Questions {
		mq := manifest.Question{ID: q.ID, Text: q.Text, Min: q.Min, Max: q.Max}
		if q.Method == MethodRanked {
			// A union election's STV contest (protocol §3 version 2, §9):
			// min and max bound the preferences.
			mq.Method, mq.Seats, mq.Rule = manifest.MethodRanked, q.Seats, q.Rule
			m.Version = manifest.Version2
		}
		for _, o := range q.Options {
			mo := manifest.Option{ID: o.ID, Label: o.Label}
			if h := d.addresses[[2]string{q.ID, o.ID}]; h != "" {
				mo.Address = h // the candidate's election address (s.48, protocol §3.2)
				m.Version = manifest.Version2
			}
			mq.Options = append(mq.Options, mo)
		}
		m.Questions = append(m.Questions, mq)
	}
	for _, s := range styles {
		m.Styles = append(m.Styles, manifest.Style{ID: s.id, Name: s.name, IssuerKey: base64.StdEncoding.EncodeToString(s.issuerKey), Entitled: int64(s.entitled)})
	}
	compactYesNo(&m)
	if d.config.Bilingual {
		m.Translations = map[string]manifest.Translation{"cy": welshPaper(d, regime, texts)}
	}
	return m, nil
}

// compactYesNo makes every yes/no question of a manifest without a ranked
// question compact (protocol 7, docs/protocol.md §4.2 version 3): a choose
// question of two options and at most one mark is then carried as one
// ciphertext and one proof instead of two selections and a sum proof, half
// the phone's work and bytes and half a verifier's. The choice, the paper
// and the count are the same. A manifest with a ranked question keeps
// version-2 ballots (the ranked bundle encodes those), and so does a
// manifest with a style of 2^24 or more members: a compact sum decodes
// only while a style holds fewer ballots than [manifest.CompactBase]
// (§4.2 version 3), and a style holds at most its entitled members.
func compactYesNo(m *manifest.Manifest) {
	if m.HasRanked() {
		return
	}
	for _, s := range m.Styles {
		if s.Entitled >= manifest.CompactBase {
			return
		}
	}
	for i := range m.Questions {
		q := &m.Questions[i]
		if q.Method == manifest.MethodChoose && len(q.Options) == 2 && q.Max == 1 {
			q.Method = manifest.MethodCompact
			m.Version = manifest.Version2
		}
	}
}

// welshPaper is the Welsh translation of a bilingual ballot's paper
// (docs/protocol.md §3.1): the union's Welsh title, questions, labels and
// texts, and the regime's Welsh s.229(4) statement. The opening checklist
// has made sure none is missing (Config.MissingWelsh).
func welshPaper(d *draft, regime Regime, texts map[string]string) manifest.Translation {
	t := manifest.Translation{Title: d.config.TitleCy, Texts: map[string]string{}}
	for k, v := range d.config.TextsCy {
		if _, ok := texts[k]; ok && v != "" {
			t.Texts[k] = v
		}
	}
	if _, ok := texts["s229_4"]; ok && regime.Texts["s229_4"].TextCy != "" {
		t.Texts["s229_4"] = regime.Texts["s229_4"].TextCy
	}
	for _, q := range d.config.Questions {
		tq := manifest.TranslatedQuestion{ID: q.ID, Text: q.TextCy}
		for _, o := range q.Options {
			tq.Options = append(tq.Options, manifest.Option{ID: o.ID, Label: o.LabelCy})
		}
		t.Questions = append(t.Questions, tq)
	}
	return t
}
