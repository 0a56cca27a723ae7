package election

// The scrutineer's part of the opening checklist (docs/ballots.md "Opening
// checklist"): the s.229(4) wording confirmed where the regime's text is
// not verified, the voting paper approved as it will be signed, and the
// voting methods the law permits for the ballot's kind.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// methodSection is the section that says how a statutory ballot of each
// kind is voted: s.230(2) industrial action, s.51(4) union elections,
// s.77 political fund ballots (each postal only until the e-ballot order
// modifies it). "other" ballots follow the union's own rules.
var methodSection = map[string]string{
	"industrial_action": "TULRCA s.230(2)",
	"union_election":    "TULRCA s.51(4)",
	"political_fund":    "TULRCA s.77",
}

// BallotMethods are the voting methods a ballot uses: every ballot is voted
// online; one with a paper to everyone is hybrid (a paper by post,
// returned by post or online).
func BallotMethods(c Config) []string {
	if c.PaperToEveryone {
		return []string{"electronic", "hybrid"}
	}
	return []string{"electronic"}
}

// methodRefusal is the refusal's message for each method a ballot uses.
var methodRefusal = map[string]string{"electronic": "admin.why.method_electronic", "hybrid": "admin.why.method_hybrid"}

// methodReasons refuses the opening of a ballot that uses a voting method
// the regime does not permit for its kind (legal/regimes.json "methods";
// s.230(2), s.51(4), s.77): before the e-ballot order, statutory ballots
// are postal only, and the service's online voting would make the ballot
// unlawful.
func methodReasons(regime Regime, d *draft) []page.Msg {
	k, ok := regime.Kinds[d.kind]
	if !ok {
		return []page.Msg{page.M("admin.why.kind_rule", d.kind, regime.ID)}
	}
	var out []page.Msg
	section := methodSection[d.kind]
	if section == "" {
		section = k.Law
	}
	for _, m := range BallotMethods(d.config) {
		if !slices.Contains(k.Methods, m) {
			out = append(out, page.M(methodRefusal[m], section, regime.ID))
		}
	}
	return out
}

// wordingHash is the SHA-256 of the statement's texts the scrutineer
// confirms: the English, a zero byte, the Welsh.
func wordingHash(t LegalText) []byte {
	h := sha256.Sum256([]byte(t.Text + "\x00" + t.TextCy))
	return h[:]
}

// wordingConfirmed says whether the ballot may print the regime's s.229(4)
// statement: it is verified in regimes.json, or the scrutineer confirmed
// this very text under this regime.
func wordingConfirmed(d *draft, regime Regime) bool {
	t := regime.Texts["s229_4"]
	return t.Verified || (d.wordingRegime == regime.ID && bytes.Equal(d.wordingHash, wordingHash(t)))
}

// paperHash is the SHA-256 of the ballot's manifest as Open will sign it,
// without what only the opening makes (each style's issuer key and the
// ledger's log key) and with the notified opening time: what the
// scrutineer approves. Every other field (title, questions, texts, the
// s.229(4) statement, the scrutineer's name and key, the dates, the
// styles and how many each has entitled, the trustees' key, the regime)
// is in it, so a change to any gives another hash.
func paperHash(d *draft, regime Regime, styles []styleInfo, entitled map[string]int) ([]byte, error) {
	var ms []manifestStyle
	for _, s := range styles {
		ms = append(ms, manifestStyle{id: s.id, name: s.name, entitled: entitled[s.id]})
	}
	var opens time.Time
	if d.opensAt != nil {
		opens = *d.opensAt
	}
	m, err := paperManifest(d, regime, ms, "", opens)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(b)
	return h[:], nil
}

// Approvals is what the ballot's page shows of the scrutineer's part of
// the opening checklist.
type Approvals struct {
	// Wording is the s.229(4) statement of the regime the ballot would
	// open under, WordingNeeded whether it needs confirming (not
	// verified), WordingBy/At who confirmed it and when (if they did,
	// for this text).
	Regime        string
	Wording       LegalText
	WordingNeeded bool
	WordingBy     string
	WordingAt     *time.Time
	// PaperHash is the hash of the paper as it is now (hex); Approved*
	// the last approval, Stale whether the paper has changed since.
	PaperHash     string
	ApprovedBy    string
	ApprovedAt    *time.Time
	ApprovedHash  string
	Stale         bool
	NeedsApproval bool
}

// Approvals reads the scrutineer's approvals of a draft ballot and the
// paper's hash as it is now (nil when no regime covers its opening).
func (a *Admin) Approvals(ctx context.Context, ballotID int64) (*Approvals, error) {
	var out *Approvals
	err := pgx.BeginTxFunc(ctx, a.store.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		d, err := readDraft(ctx, tx, ballotID, false)
		if err != nil {
			return err
		}
		regime, h, err := a.paperNow(ctx, tx, d)
		if err != nil || h == nil {
			return err
		}
		t := regime.Texts["s229_4"]
		ap := &Approvals{Regime: regime.ID, Wording: t, WordingNeeded: d.kind == "industrial_action" && !t.Verified,
			PaperHash: hex.EncodeToString(h), ApprovedBy: d.paperBy, ApprovedAt: d.paperApproveAt, ApprovedHash: hex.EncodeToString(d.paperHash)}
		if d.wordingRegime == regime.ID && bytes.Equal(d.wordingHash, wordingHash(t)) {
			ap.WordingBy, ap.WordingAt = d.wordingBy, d.wordingAt
		}
		ap.Stale = len(d.paperHash) > 0 && !bytes.Equal(d.paperHash, h)
		ap.NeedsApproval = len(d.paperHash) == 0 || ap.Stale
		out = ap
		return nil
	})
	return out, err
}

// paperNow is the regime the draft would open under now and its paper's
// hash (nil if no regime covers the opening).
func (a *Admin) paperNow(ctx context.Context, tx pgx.Tx, d *draft) (Regime, []byte, error) {
	now := a.now()
	opening := now
	if d.opensAt != nil && d.opensAt.After(now) {
		opening = *d.opensAt
	}
	regime, err := RegimeFor(opening)
	if err != nil {
		return regime, nil, nil
	}
	entitled, err := a.register.EntitledByStyle(ctx, tx, d.id)
	if err != nil {
		return regime, nil, err
	}
	h, err := paperHash(d, regime, d.styles(entitled), entitled)
	return regime, h, err
}

// styles are the ballot's styles that have someone entitled to vote (the
// aggregated ballot's one style, or each workplace's).
func (d *draft) styles(entitled map[string]int) []styleInfo {
	if d.aggregated {
		return []styleInfo{{register.AggregatedStyle, "All workplaces (aggregated ballot, " + deref(d.s228aGround) + ")"}}
	}
	var styles []styleInfo
	for _, w := range d.config.Workplaces {
		if entitled[w.ID] > 0 {
			styles = append(styles, styleInfo{w.ID, w.Name})
		}
	}
	return styles
}

// ConfirmWording records the scrutineer's confirmation that the s.229(4)
// statement of regime regimeID is the wording in force for this ballot
// (the statement must be "(without being qualified or commented upon by
// anything else on the voting paper)" the text of s.229(4) as it stands;
// regimes.json marks a text it has not checked against legislation.gov.uk
// "verified": false). regimeID must be the regime the ballot would open
// under, the one the scrutineer was shown. The scrutineer's pages alone
// call it (only the scrutineer role reaches them).
func (a *Admin) ConfirmWording(ctx context.Context, actor string, ballotID int64, regimeID string) error {
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		d, err := readDraft(ctx, tx, ballotID, false)
		if err != nil {
			return err
		}
		if d.kind != "industrial_action" {
			return invalid("admin.err.wording_kind")
		}
		regime, h, err := a.paperNow(ctx, tx, d)
		if err != nil {
			return err
		}
		if h == nil || regime.ID != strings.TrimSpace(regimeID) {
			return invalid("admin.err.wording_regime")
		}
		t := regime.Texts["s229_4"]
		wh := wordingHash(t)
		if _, err := tx.Exec(ctx, `UPDATE ballots SET wording_confirmed_by = $2, wording_confirmed_at = $3,
			wording_confirmed_regime = $4, wording_confirmed_hash = $5 WHERE id = $1`, ballotID, actor, a.now(), regime.ID, wh); err != nil {
			return fmt.Errorf("confirm wording: %w", err)
		}
		return audit.Append(ctx, tx, actor, "ballot.s229_4_confirm", &ballotID, map[string]any{
			"regime": regime.ID, "text": t.Text, "text_cy": t.TextCy, "verified": t.Verified, "wording_hash": hex.EncodeToString(wh)})
	})
}

// PaperHash is the hash (hex) of the draft ballot's voting paper as it is
// now: what [Admin.ApprovePaper] approves.
func (a *Admin) PaperHash(ctx context.Context, ballotID int64) (string, error) {
	ap, err := a.Approvals(ctx, ballotID)
	if err != nil {
		return "", err
	}
	if ap == nil {
		return "", invalid("admin.err.paper_regime")
	}
	return ap.PaperHash, nil
}

// ApprovePaper records the scrutineer's approval of the voting paper whose
// hash is paperHashHex (the one the scrutineer was shown): who, when and
// the hash, in the ballot and the audit log. A paper that has changed
// since it was shown is refused (show it again). The scrutineer's pages
// alone call it.
func (a *Admin) ApprovePaper(ctx context.Context, actor string, ballotID int64, paperHashHex string) error {
	want, err := hex.DecodeString(strings.TrimSpace(paperHashHex))
	if err != nil || len(want) != sha256.Size {
		return invalid("admin.err.paper_changed")
	}
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		d, err := readDraft(ctx, tx, ballotID, false)
		if err != nil {
			return err
		}
		regime, h, err := a.paperNow(ctx, tx, d)
		if err != nil {
			return err
		}
		if h == nil {
			return invalid("admin.err.paper_regime")
		}
		if !bytes.Equal(h, want) {
			return invalid("admin.err.paper_changed")
		}
		if _, err := tx.Exec(ctx, `UPDATE ballots SET paper_approved_by = $2, paper_approved_at = $3, paper_approved_hash = $4 WHERE id = $1`,
			ballotID, actor, a.now(), h); err != nil {
			return fmt.Errorf("approve paper: %w", err)
		}
		return audit.Append(ctx, tx, actor, "ballot.paper_approve", &ballotID, map[string]any{
			"paper_hash": hex.EncodeToString(h), "regime": regime.ID})
	})
}
