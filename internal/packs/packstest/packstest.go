// Package packstest reads back the packs' PDF the way a viewer does: it
// follows the cross-reference table to every object (each offset must
// land on its "N 0 obj"), inflates each page's content stream and decodes
// its text (WinAnsi with the Welsh letters of the packs' /Differences,
// read from the font's encoding in the file, not from internal/packs).
package packstest

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

var (
	startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)
	entryRE     = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf]) ?$`)
	streamRE    = regexp.MustCompile(`(?s)<< /Length (\d+) /Filter /FlateDecode >>\nstream\n`)
	diffRE      = regexp.MustCompile(`/Differences \[([^\]]*)\]`)
	textRE      = regexp.MustCompile(`(?s)\((.*?[^\\]|)\) Tj`)
	pageRE      = regexp.MustCompile(`/Type /Page\b[^s]`)
	mediaRE     = regexp.MustCompile(`/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]`)
)

// glyphs are the glyph names the Differences may use.
var glyphs = map[string]rune{"Wcircumflex": 'Ŵ', "wcircumflex": 'ŵ', "Ycircumflex": 'Ŷ', "ycircumflex": 'ŷ'}

// winAnsi80 are WinAnsi's codes 0x80–0x9F ('\x00' where unused).
var winAnsi80 = []rune("€\x00‚ƒ„…†‡ˆ‰Š‹Œ\x00Ž\x00\x00‘’“”•–—˜™š›œ\x00žŸ")

// Doc is a PDF as read back: its pages' text lines and sizes.
type Doc struct {
	Pages []Page
}

// Page is one page: its size in points and its lines of text in order.
type Page struct {
	W, H  float64
	Lines []string
}

// Text is all the text of the document, a line each.
func (d *Doc) Text() string {
	var b strings.Builder
	for _, p := range d.Pages {
		for _, l := range p.Lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Read checks the file's structure and reads its pages.
func Read(pdf []byte) (*Doc, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) {
		return nil, fmt.Errorf("not a PDF")
	}
	m := startxrefRE.FindSubmatch(pdf)
	if m == nil {
		return nil, fmt.Errorf("no startxref")
	}
	at, _ := strconv.Atoi(string(m[1]))
	if at >= len(pdf) || !bytes.HasPrefix(pdf[at:], []byte("xref\n0 ")) {
		return nil, fmt.Errorf("startxref %d is not the xref table", at)
	}
	lines := strings.Split(string(pdf[at:]), "\n")
	n, err := strconv.Atoi(strings.Fields(lines[1])[1])
	if err != nil {
		return nil, fmt.Errorf("xref count: %w", err)
	}
	objs := map[int][]byte{}
	for i := 1; i < n; i++ {
		e := entryRE.FindStringSubmatch(lines[2+i])
		if e == nil || e[3] != "n" {
			return nil, fmt.Errorf("xref entry %d: %q", i, lines[2+i])
		}
		off, _ := strconv.Atoi(e[1])
		head := fmt.Sprintf("%d 0 obj\n", i)
		if off >= len(pdf) || !bytes.HasPrefix(pdf[off:], []byte(head)) {
			return nil, fmt.Errorf("xref entry %d points at %d, not at its object", i, off)
		}
		end := bytes.Index(pdf[off:], []byte("\nendobj\n"))
		if end < 0 {
			return nil, fmt.Errorf("object %d has no end", i)
		}
		objs[i] = pdf[off+len(head) : off+end]
	}
	// The fonts' extra glyphs, from the file.
	extra := map[byte]rune{}
	for _, o := range objs {
		if d := diffRE.FindSubmatch(o); d != nil {
			code := 0
			for _, f := range strings.Fields(string(d[1])) {
				if strings.HasPrefix(f, "/") {
					r, ok := glyphs[f[1:]]
					if !ok {
						return nil, fmt.Errorf("unknown glyph %s", f)
					}
					extra[byte(code)] = r
					code++
				} else if code, err = strconv.Atoi(f); err != nil {
					return nil, fmt.Errorf("differences: %q", f)
				}
			}
		}
	}
	doc := &Doc{}
	for i := 1; i < n; i++ {
		o := objs[i]
		if !pageRE.Match(o) {
			continue
		}
		var p Page
		if mb := mediaRE.FindSubmatch(o); mb != nil {
			p.W, _ = strconv.ParseFloat(string(mb[1]), 64)
			p.H, _ = strconv.ParseFloat(string(mb[2]), 64)
		}
		cm := regexp.MustCompile(`/Contents (\d+) 0 R`).FindSubmatch(o)
		if cm == nil {
			return nil, fmt.Errorf("page object %d has no contents", i)
		}
		ci, _ := strconv.Atoi(string(cm[1]))
		content, err := inflate(objs[ci])
		if err != nil {
			return nil, fmt.Errorf("page object %d: %w", i, err)
		}
		for _, t := range textRE.FindAllSubmatch(content, -1) {
			p.Lines = append(p.Lines, decode(t[1], extra))
		}
		doc.Pages = append(doc.Pages, p)
	}
	return doc, nil
}

func inflate(obj []byte) ([]byte, error) {
	m := streamRE.FindSubmatchIndex(obj)
	if m == nil {
		return nil, fmt.Errorf("no flate stream")
	}
	n, _ := strconv.Atoi(string(obj[m[2]:m[3]]))
	if m[1]+n > len(obj) {
		return nil, fmt.Errorf("stream length %d past the object", n)
	}
	zr, err := zlib.NewReader(bytes.NewReader(obj[m[1] : m[1]+n]))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func decode(s []byte, extra map[byte]rune) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			c = s[i]
		}
		switch {
		case extra[c] != 0:
			b.WriteRune(extra[c])
		case c >= 0x80 && c <= 0x9F && winAnsi80[c-0x80] != 0:
			b.WriteRune(winAnsi80[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}
