package packs

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/internal/packs/packstest"
	"github.com/unionvote/eballot/internal/register"
)

var tdRE = regexp.MustCompile(`/F(\d) ([\d.]+) Tf ([\d.]+) ([\d.]+) Td \((.*)\) Tj`)

// Every line of a pack stays inside the A4 frame (by Helvetica's widths),
// the name and address sit inside a DL envelope's window, a long pack
// runs on to a second page that names its paper number too, Welsh ŵ and ŷ
// survive the round trip, and a character the fonts lack is refused by
// name rather than printed wrong.
func TestPDFLayout(t *testing.T) {
	long := strings.Repeat("Mae'r gweithwyr yn gofyn am godiad cyflog teg a thelerau gwell ar gyfer pob aelod o'r staff. ", 40)
	m := &manifest.Manifest{Title: "Pleidlais dŵr a thŷ", ClosesAt: "2027-01-31T12:00:00Z",
		Texts:     map[string]string{"dispute_summary": long, "scrutineer": "Craffwyr Annibynnol Cyf", "s229_4": "Statement."},
		Questions: []manifest.Question{{ID: "strike", Text: "Strike?", Options: []manifest.Option{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}}},
		Styles:    []manifest.Style{{ID: "north", Name: "North Depot"}}}
	p := Pack{PackRecipient: register.PackRecipient{Name: "Siân Ŵyn", Address: "1 Stryd y Bont\nAberystwyth", Postcode: "SY23 1AA",
		Lang: "en", Style: "north", PaperNumber: 7}, StyleName: "North Depot", Code: "ABCD-EFGH-JKMN"}
	tr := func(lang, key string) string {
		if strings.Contains(key, "return_by") || strings.Contains(key, "online_how") {
			return key + " %s"
		}
		if key == "packs.footer" {
			return "paper %d page %d of %d"
		}
		return key
	}
	file, err := PDF(Ballot{Manifest: m, URL: "https://vote.example/p", ReturnAddress: "Freepost ŶŴ"}, []Pack{p}, tr)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.MkdirAll(filepath.Join("..", "..", "test-artifacts"), 0o755)
	_ = os.WriteFile(filepath.Join("..", "..", "test-artifacts", "pack-layout.pdf"), file, 0o644)
	rd, err := packstest.Read(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.Pages) != 2 {
		t.Fatalf("%d pages, want the long pack on 2", len(rd.Pages))
	}
	for i, pg := range rd.Pages {
		if got := pg.Lines[len(pg.Lines)-1]; got != "paper 7 page "+strconv.Itoa(i+1)+" of 2" {
			t.Errorf("page %d footer %q", i+1, got)
		}
	}
	text := rd.Text()
	for _, s := range []string{"Pleidlais dŵr a thŷ", "Siân Ŵyn", "Freepost ŶŴ", "ABCD-EFGH-JKMN"} {
		if !strings.Contains(text, s) {
			t.Errorf("%q lost in the PDF", s)
		}
	}
	// The frame, from the raw content (positions and widths).
	d := &doc{}
	writePack(d, Ballot{Manifest: m, URL: "https://vote.example/p", ReturnAddress: "Freepost"}, p, mustTime(t, m.ClosesAt), tr)
	for pi, pg := range d.pages {
		for _, l := range tdRE.FindAllStringSubmatch(pg.String(), -1) {
			size, _ := strconv.ParseFloat(l[2], 64)
			x, _ := strconv.ParseFloat(l[3], 64)
			y, _ := strconv.ParseFloat(l[4], 64)
			w := width(strings.ReplaceAll(l[5], `\`, ""), size, l[1] == "2")
			if x < marginX-0.01 || x+w > pageW-marginX+0.01 || y < 10*mm-0.01 || y > pageH-marginTop {
				t.Errorf("page %d: %q at (%.0f, %.0f) width %.0f is outside the frame", pi+1, l[5], x, y, w)
			}
		}
	}
	// The window: the first four lines (name, two address lines, postcode);
	// the online code is out of it.
	first := tdRE.FindAllStringSubmatch(d.pages[0].String(), 4)
	for _, l := range first {
		x, _ := strconv.ParseFloat(l[3], 64)
		y, _ := strconv.ParseFloat(l[4], 64)
		fromTop := (pageH - y) / mm
		if x < 20*mm-0.01 || x+width(l[5], 11, false) > windowR || fromTop < 45 || fromTop > 95 {
			t.Errorf("address line %q at %.0f mm from the top, outside the DL window", l[5], fromTop)
		}
	}

	for _, l := range tdRE.FindAllStringSubmatch(d.pages[0].String(), -1) {
		x, _ := strconv.ParseFloat(l[3], 64)
		if l[5] == p.Code && x < windowR {
			t.Errorf("the code is printed at %.0f mm, in reach of the window", x/mm)
		}
	}

	_, err = PDF(Ballot{Manifest: m, URL: "https://vote.example/p", ReturnAddress: "PO Box ☃"}, []Pack{p}, tr)
	var ec CharacterError
	if !errors.As(err, &ec) || ec.R != '☃' {
		t.Fatalf("a character outside the fonts: %v", err)
	}
}

func mustTime(t *testing.T, s string) (tm time.Time) {
	t.Helper()
	tm, err := time.Parse(manifest.TimeFormat, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
