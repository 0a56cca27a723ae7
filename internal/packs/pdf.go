package packs

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
)

// A minimal PDF 1.4 writer for the packs: A4 pages of text in the two
// standard fonts Helvetica and Helvetica-Bold (no font is embedded, so the
// file is small and every printer has them), lines and boxes. Text is
// encoded in WinAnsi with four extra glyphs for Welsh (Ŵ ŵ Ŷ ŷ, in codes
// WinAnsi leaves unused); a character outside that set is refused by
// name rather than printed wrong.

// A4 in points, and the printable frame.
const (
	pageW, pageH = 595.28, 841.89
	mm           = 72 / 25.4
	marginX      = 20 * mm
	marginTop    = 15 * mm
	marginBottom = 18 * mm
)

// welshCodes are the WinAnsi codes given to Welsh letters, and their
// glyph names (the font's /Differences).
var welshCodes = map[rune]byte{'Ŵ': 0x81, 'ŵ': 0x8D, 'Ŷ': 0x8F, 'ŷ': 0x90}

var welshGlyphs = "/Differences [129 /Wcircumflex 141 /wcircumflex 143 /Ycircumflex 144 /ycircumflex]"

// cp1252 are WinAnsi's codes 0x80–0x9F that are not Latin-1.
var cp1252 = map[rune]byte{'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97,
	'˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F}

// CharacterError: a text has a character the pack fonts cannot print.
type CharacterError struct{ R rune }

func (e CharacterError) Error() string {
	return fmt.Sprintf("packs: the character %q (U+%04X) cannot be printed in the pack's fonts", e.R, e.R)
}

// encode is s in the fonts' encoding.
func encode(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xFF:
			out = append(out, byte(r))
		case r == '\u00a0':
			out = append(out, ' ')
		default:
			if c, ok := cp1252[r]; ok {
				out = append(out, c)
			} else if c, ok := welshCodes[r]; ok {
				out = append(out, c)
			} else {
				return nil, CharacterError{r}
			}
		}
	}
	return out, nil
}

// helvetica are Helvetica's advance widths (1/1000 em) of ASCII 32–126.
var helvetica = [95]int{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space … /
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 … ?
	1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ … O
	667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P … _
	333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` … o
	556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p … ~
}

// base is the unaccented letter of an accented Latin one (for widths).
var base = strings.NewReplacer("À", "A", "Á", "A", "Â", "A", "Ä", "A", "È", "E", "É", "E", "Ê", "E", "Ë", "E",
	"Ì", "I", "Í", "I", "Î", "I", "Ï", "I", "Ò", "O", "Ó", "O", "Ô", "O", "Ö", "O", "Ù", "U", "Ú", "U", "Û", "U", "Ü", "U",
	"Ŵ", "W", "Ŷ", "Y", "Ÿ", "Y", "à", "a", "á", "a", "â", "a", "ä", "a", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ò", "o", "ó", "o", "ô", "o", "ö", "o", "ù", "u", "ú", "u", "û", "u", "ü", "u",
	"ŵ", "w", "ŷ", "y", "ÿ", "y", "‘", "'", "’", "'", "“", "\"", "”", "\"", "–", "-")

// width is the width of s in points at size; bold text is taken 10%
// wider (Helvetica-Bold is at most that), so a wrapped line never runs
// past the margin.
func width(s string, size float64, bold bool) float64 {
	var n int
	for _, r := range base.Replace(s) {
		if r >= 32 && r <= 126 {
			n += helvetica[r-32]
		} else {
			n += 1000 // the widest glyph: never under-counted
		}
	}
	w := float64(n) * size / 1000
	if bold {
		w *= 1.1
	}
	return w
}

// wrap breaks s into lines no wider than max points (a word longer than
// a line stands alone on it); newlines in s are kept.
func wrap(s string, size, max float64, bold bool) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			try := word
			if line != "" {
				try = line + " " + word
			}
			if line != "" && width(try, size, bold) > max {
				lines = append(lines, line)
				line = word
				continue
			}
			line = try
		}
		lines = append(lines, line)
	}
	return lines
}

// doc is a PDF being written: finished pages' content streams.
type doc struct {
	pages []*bytes.Buffer
	cur   *bytes.Buffer
	y     float64 // the baseline of the next line on cur
	err   error
}

func (d *doc) newPage() {
	d.cur = &bytes.Buffer{}
	d.pages = append(d.pages, d.cur)
	d.y = pageH - marginTop
}

// textAt writes one line at (x, y) in font F1 (regular) or F2 (bold).
func (d *doc) textAt(x, y, size float64, bold bool, s string) {
	b, err := encode(s)
	if err != nil {
		if d.err == nil {
			d.err = err
		}
		return
	}
	font := "F1"
	if bold {
		font = "F2"
	}
	fmt.Fprintf(d.cur, "BT /%s %.1f Tf %.2f %.2f Td (", font, size, x, y)
	for _, c := range b {
		if c == '(' || c == ')' || c == '\\' {
			d.cur.WriteByte('\\')
		}
		d.cur.WriteByte(c)
	}
	d.cur.WriteString(") Tj ET\n")
}

// para writes s wrapped to the frame from x, moving down; a new page is
// started when the frame is full.
func (d *doc) para(x, size float64, bold bool, s string) { d.paraTo(x, pageW-marginX, size, bold, s) }

// paraTo is para with the lines ending before right.
func (d *doc) paraTo(x, right, size float64, bold bool, s string) {
	lead := size * 1.3
	for _, line := range wrap(s, size, right-x, bold) {
		if d.y-lead < marginBottom {
			d.newPage()
		}
		d.y -= lead
		d.textAt(x, d.y, size, bold, line)
	}
}

// gap moves down by pt.
func (d *doc) gap(pt float64) { d.y -= pt }

// need starts a new page unless pt points are left in the frame.
func (d *doc) need(pt float64) {
	if d.y-pt < marginBottom {
		d.newPage()
	}
}

// box draws an empty square of side s with its lower left at (x, y).
func (d *doc) box(x, y, s float64) {
	fmt.Fprintf(d.cur, "0.8 w %.2f %.2f %.2f %.2f re S\n", x, y, s, s)
}

// rule draws a horizontal line across the frame at y.
func (d *doc) rule(y float64) {
	fmt.Fprintf(d.cur, "0.5 w %.2f %.2f m %.2f %.2f l S\n", marginX, y, pageW-marginX, y)
}

// bytes is the finished file: catalog, page tree, the two fonts, then
// each page and its (compressed) content.
func (d *doc) bytes() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	var out bytes.Buffer
	var offsets []int
	obj := func(body string) {
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", len(offsets), body)
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	kids := make([]string, len(d.pages))
	for i := range d.pages {
		kids[i] = fmt.Sprintf("%d 0 R", 5+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(d.pages)))
	enc := "<< /Type /Encoding /BaseEncoding /WinAnsiEncoding " + welshGlyphs + " >>"
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding " + enc + " >>")
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding " + enc + " >>")
	for i, p := range d.pages {
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>",
			pageW, pageH, 6+2*i))
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		_, _ = zw.Write(p.Bytes())
		if err := zw.Close(); err != nil {
			return nil, err
		}
		offsets = append(offsets, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", len(offsets), z.Len())
		out.Write(z.Bytes())
		out.WriteString("\nendstream\nendobj\n")
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return out.Bytes(), nil
}
