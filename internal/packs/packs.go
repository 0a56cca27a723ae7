// Package packs makes the postal packs of a ballot (docs/paper.md "Postal
// packs", issue 18): for each member who gets paper, the voting paper with
// all its s.229 content in the member's language, their paper number and,
// so that they may vote online instead (a hybrid ballot), their one-time
// online voting code with the short URL. Two outputs: a print-ready PDF
// (A4, folded in three for a DL window envelope: the address sits in the
// window) and a mail-house CSV (who gets which pack; no vote data, no
// question, no choice).
//
// The pack holds the member's code, so the files are personal data: only
// the scrutineer (who prints or hands them to the mail house) may make
// them, every making is audited, and nothing is stored.
package packs

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// CodeFunc issues (or gives again) the pack code of a member of a ballot
// (internal/auth Service.PackCode).
type CodeFunc func(ctx context.Context, ballotID, memberID int64) (string, error)

// Pack is one member's pack, as printed.
type Pack struct {
	register.PackRecipient
	StyleName string
	Code      string // XXXX-XXXX-XXXX
}

// Ballot is what every pack of a ballot prints: the signed manifest's
// paper (its s.229 content, both languages), the short URL and the
// return address typed by the scrutineer.
type Ballot struct {
	ID            int64
	ElectionID    string
	Manifest      *manifest.Manifest
	URL           string // the short URL of the pack code route
	ReturnAddress string // s.229(1A)(b): where the paper goes back
}

// MaxReturnAddress bounds the return address (it must fit the paper).
const MaxReturnAddress = 300

// Build lists the packs of the recipients with their codes.
func Build(ctx context.Context, m *manifest.Manifest, ballotID int64, rs []register.PackRecipient, code CodeFunc) ([]Pack, error) {
	names := map[string]string{}
	for _, s := range m.Styles {
		names[s.ID] = s.Name
	}
	out := make([]Pack, 0, len(rs))
	for _, r := range rs {
		c, err := code(ctx, ballotID, r.MemberID)
		if err != nil {
			return nil, err
		}
		out = append(out, Pack{PackRecipient: r, StyleName: names[r.Style], Code: c})
	}
	return out, nil
}

// CSVHeader is the mail-house file's header: who gets which pack. The
// paper's content is the same for every pack in a language, so it is not
// repeated here; no vote data is in it.
var CSVHeader = []string{"paper_number", "name", "address", "postcode", "language", "workplace_ballot", "online_code", "online_url"}

// csvSafe defuses spreadsheet formulas in free text (a name or address
// beginning with = + - @ is read as text).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the mail-house CSV of packs.
func WriteCSV(w io.Writer, b Ballot, packs []Pack) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, p := range packs {
		style := p.StyleName
		if style == "" {
			style = p.Style
		}
		if err := cw.Write([]string{strconv.Itoa(p.PaperNumber), csvSafe(p.Name), csvSafe(strings.ReplaceAll(p.Address, "\r", "")),
			csvSafe(p.Postcode), p.Lang, csvSafe(style), p.Code, b.URL}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// T is a catalogue text in a language (page.Renderer's T).
type T func(lang, key string) string

// PDF is the print-ready file of packs: each pack starts on a new page,
// every page names its paper number, and the member's name and address
// sit where a DL window envelope shows them when the A4 sheet is folded
// in three. The paper's texts come from the signed manifest, in the
// member's language when the manifest has it (a bilingual ballot).
func PDF(b Ballot, packs []Pack, t T) ([]byte, error) {
	closes, err := time.Parse(manifest.TimeFormat, b.Manifest.ClosesAt)
	if err != nil {
		return nil, fmt.Errorf("packs: manifest: %w", err)
	}
	d := &doc{}
	for _, p := range packs {
		writePack(d, b, p, closes, t)
	}
	if len(d.pages) == 0 {
		d.newPage() // a valid, empty file
	}
	return d.bytes()
}

// The address window of a DL envelope (ISO 269: window 90 × 45 mm, 20 mm
// from the left, 15 mm from the top of the folded third).
const (
	windowX   = 20 * mm
	windowTop = 50 * mm
	windowR   = 110 * mm
	onlineX   = 118 * mm // the online code's column, right of the window
)

func writePack(d *doc, b Ballot, p Pack, closes time.Time, t T) {
	pp := b.Manifest.Paper(p.Lang)
	lang := pp.Lang // the member's, when the signed paper has it
	tr := func(key string) string { return t(lang, key) }
	d.newPage()
	first := len(d.pages) - 1
	// The member's name and address in the window (no vote data, no number:
	// the number is printed inside).
	d.y = pageH - windowTop
	d.paraTo(windowX, windowR, 11, false, p.Name)
	d.paraTo(windowX, windowR, 11, false, p.Address)
	d.paraTo(windowX, windowR, 11, false, p.Postcode)
	// The online route (a hybrid ballot), in the top third beside the
	// window and never in it: the code is a credential.
	d.y = pageH - marginTop
	d.para(onlineX, 12, true, tr("packs.online_title"))
	d.para(onlineX, 9, false, fmt.Sprintf(tr("packs.online_how"), b.URL))
	d.gap(2)
	d.para(onlineX, 9, false, tr("packs.online_code"))
	d.para(onlineX, 16, true, p.Code)
	d.gap(2)
	d.para(onlineX, 8, false, tr("packs.online_once"))
	d.y = pageH - 105*mm // below the first fold
	d.rule(d.y + 4)
	d.para(marginX, 15, true, pp.Title)
	d.gap(3)
	style := p.StyleName
	if style == "" {
		style = p.Style
	}
	// s.229(1A)(c),(d): the paper's number from one consecutive series.
	d.para(marginX, 12, true, fmt.Sprintf("%s %d", tr("packs.paper_number"), p.PaperNumber))
	d.para(marginX, 10, false, tr("packs.workplace_ballot")+" "+style)
	// s.229(1A)(a): the scrutineer's name.
	if s := pp.Texts["scrutineer"]; s != "" {
		d.para(marginX, 10, false, tr("packs.scrutineer")+" "+s)
	}
	// s.229(1A)(b): where and by when the paper goes back.
	d.para(marginX, 10, true, fmt.Sprintf(tr("packs.return_by"), page.When(lang, closes)))
	d.para(marginX+10, 10, false, b.ReturnAddress)
	d.gap(6)
	for _, k := range []struct{ key, label string }{
		{"dispute_summary", "packs.dispute_summary"}, {"types_of_action", "packs.types_of_action"},
		{"period", "packs.period"}, {"authorised_person", "packs.authorised_person"}, // s.229(2B)-(2D), s.229(3)
	} {
		if s := pp.Texts[k.key]; s != "" {
			d.para(marginX, 10, true, tr(k.label))
			d.para(marginX, 10, false, s)
			d.gap(3)
		}
	}
	// s.229(2): the questions, each answered separately.
	d.gap(4)
	d.para(marginX, 10, false, tr("packs.how_to_mark"))
	for _, q := range pp.Questions {
		d.need(30 + 18*float64(len(q.Options)))
		d.gap(6)
		d.para(marginX, 11, true, q.Text)
		for _, o := range q.Options {
			d.gap(6)
			d.para(marginX+22, 11, false, o.Label)
			d.box(marginX+4, d.y-3, 12)
		}
	}
	// s.229(4): the statement, verbatim as signed.
	if s := pp.Texts["s229_4"]; s != "" {
		d.gap(8)
		d.para(marginX, 9, true, tr("packs.statement"))
		d.para(marginX, 9, false, s)
	}
	// Every page of the pack names its number, for collating.
	n := len(d.pages) - first
	for i := first; i < len(d.pages); i++ {
		cur := d.cur
		d.cur = d.pages[i]
		d.textAt(marginX, 10*mm, 8, false, fmt.Sprintf(tr("packs.footer"), p.PaperNumber, i-first+1, n))
		d.cur = cur
	}
}
