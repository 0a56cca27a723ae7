package gotv

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Chart texts come from the page's language; numbers are formatted here.
type chartText struct {
	Title, Desc, Threshold, Projection string
}

// esc escapes text for SVG (XML) content and attribute values.
func esc(s string) string { return template.HTMLEscapeString(s) }

// The charts are drawn in a 360-unit-wide viewBox and scale to the width of
// their container (width="100%"), so they fit a 360-px screen. They use
// presentation attributes only (no style attributes: the CSP forbids
// inline styles) and carry <title> and <desc>; the page also shows the
// same numbers in a table.
const chartW = 360

// LineChart draws cumulative turnout (percent of entitled) over time, the
// threshold as a dashed horizontal line and the projection as a dotted line
// from now to the close.
func LineChart(t *Turnout, txt chartText, id string) template.HTML {
	const h, left, right, top, bottom = 220, 40, 12, 16, 36
	pw, ph := float64(chartW-left-right), float64(h-top-bottom)
	start, end := t.OpensAt, t.ClosesAt
	if len(t.Series) > 0 && (start.IsZero() || t.Series[0].At.Before(start)) {
		start = t.Series[0].At
	}
	if end.IsZero() || !end.After(start) {
		end = start.Add(time.Hour)
	}
	span := end.Sub(start).Seconds()
	x := func(at time.Time) float64 {
		f := at.Sub(start).Seconds() / span
		if f < 0 {
			f = 0
		}
		if f > 1 {
			f = 1
		}
		return left + f*pw
	}
	y := func(pct float64) float64 { return top + ph - pct/100*ph }
	pct := func(v int) float64 {
		if t.Entitled == 0 {
			return 0
		}
		return 100 * float64(v) / float64(t.Entitled)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" focusable="false">`,
		chartW, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(txt.Title), id, esc(txt.Desc))
	// axes and gridlines at 0, 25, 50, 75, 100 %
	for _, g := range []float64{0, 25, 50, 75, 100} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d0d0d0" stroke-width="1"/>`, left, chartW-right, y(g), y(g))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="13" text-anchor="end" fill="#1b1b1b">%.0f%%</text>`, left-4, y(g)+4, g)
	}
	// threshold
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#b10e1e" stroke-width="2" stroke-dasharray="6 4"/>`,
		left, chartW-right, y(t.ThresholdPct), y(t.ThresholdPct))
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="13" fill="#b10e1e">%s</text>`, left+4, y(t.ThresholdPct)-4, esc(txt.Threshold))
	// series
	if len(t.Series) > 0 {
		var pts []string
		for _, p := range t.Series {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.At), y(pct(p.Voted))))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#0b4f9c" stroke-width="3"/>`, strings.Join(pts, " "))
		last := t.Series[len(t.Series)-1]
		if t.AsOf.Before(t.ClosesAt) && t.Projection.Ready {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#0b4f9c" stroke-width="2" stroke-dasharray="2 4"/>`,
				x(last.At), y(pct(last.Voted)), x(end), y(t.Projection.Pct))
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="13" text-anchor="end" fill="#0b4f9c">%s %.0f–%.0f%%</text>`,
				chartW-right, y(t.Projection.Pct)-4, esc(txt.Projection), t.Projection.LowPct, t.Projection.HighPct)
		}
	}
	// time axis: open and close dates
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#1b1b1b">%s</text>`, left, h-12, esc(start.In(london()).Format("2 Jan")))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" text-anchor="end" fill="#1b1b1b">%s</text>`, chartW-right, h-12,
		esc(end.In(london()).Format("2 Jan")))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}

// BarChart draws turnout by group as horizontal bars, each labelled above
// its bar (long names fit a narrow screen), with the threshold as a
// vertical dashed line.
func BarChart(cells []Cell, thresholdPct float64, txt chartText, id string) template.HTML {
	const left, right, top, row = 8, 48, 8, 40
	h := top + row*len(cells) + 8
	pw := float64(chartW - left - right)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" focusable="false">`,
		chartW, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(txt.Title), id, esc(txt.Desc))
	for i, c := range cells {
		y0 := top + i*row
		label := c.Label
		if r := []rune(label); len(r) > 48 {
			label = string(r[:47]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" fill="#1b1b1b">%s</text>`, left, y0+12, esc(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="16" fill="#e8e8e8"/>`, left, y0+18, pw)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="16" fill="#0b4f9c"/>`, left, y0+18, pw*c.Pct()/100)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" text-anchor="end" fill="#1b1b1b">%.0f%%</text>`, chartW-4, y0+31, c.Pct())
	}
	tx := float64(left) + pw*thresholdPct/100
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#b10e1e" stroke-width="2" stroke-dasharray="6 4"/>`, tx, tx, top, h-4)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func london() *time.Location {
	l, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.UTC
	}
	return l
}
