package refresh

import (
	"context"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"
)

// Cell is the coverage of a group of members: how many have a verified
// mobile, a verified email, only a postal address, or nothing.
type Cell struct {
	Label                          string
	Members                        int
	Mobile, Email, Post, Unreached int
	Other                          bool // the small groups merged (fewer than the minimum cell size each)
}

// Pct is n as a whole percentage of the cell's members.
func (c Cell) Pct(n int) int {
	if c.Members == 0 {
		return 0
	}
	return (200*n + c.Members) / (2 * c.Members) // rounded half up
}

// Coverage is the dashboard: the union's totals, by employer and by
// workplace (cells under the minimum size merged into one "other" row,
// which is itself shown only if it reaches the minimum), and the trend.
type Coverage struct {
	Total                 Cell
	Employers, Workplaces []Cell
	MinCell               int
	Trend                 []TrendPoint
}

// TrendPoint is the share of members with a verified mobile and email at
// a time.
type TrendPoint struct {
	At            time.Time
	Mobile, Email int // members
}

// trendPoints is how many times the trend is drawn at.
const trendPoints = 12

// Coverage computes the union's dashboard now; the trend runs from the
// union's first campaign (or 30 days ago) to now.
func (s *Service) Coverage(ctx context.Context, unionID int64) (*Coverage, error) {
	reach, err := s.reg.Reachability(ctx, unionID)
	if err != nil {
		return nil, err
	}
	k, err := s.outbox.MinCell(ctx, unionID)
	if err != nil {
		return nil, err
	}
	cv := &Coverage{MinCell: k}
	emp, wp := map[string]*Cell{}, map[string]*Cell{}
	add := func(c *Cell, mobile, email, post bool) {
		c.Members++
		switch {
		case mobile || email:
			if mobile {
				c.Mobile++
			}
			if email {
				c.Email++
			}
		case post:
			c.Post++
		default:
			c.Unreached++
		}
	}
	for _, r := range reach {
		add(&cv.Total, r.Mobile, r.Email, r.Post)
		for _, g := range []struct {
			m     map[string]*Cell
			label string
		}{{emp, r.Employer}, {wp, r.Workplace}} {
			c := g.m[g.label]
			if c == nil {
				c = &Cell{Label: g.label}
				g.m[g.label] = c
			}
			add(c, r.Mobile, r.Email, r.Post)
		}
	}
	cv.Employers, cv.Workplaces = cells(emp, k), cells(wp, k)

	now := s.now()
	start := now.AddDate(0, 0, -30)
	var first *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT min(starts_at) FROM refresh_campaigns WHERE union_id = $1`, unionID).Scan(&first); err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	if first != nil && first.Before(now) {
		start = first.Add(-24 * time.Hour)
	}
	times := make([]time.Time, trendPoints)
	for i := range times {
		times[i] = start.Add(time.Duration(i) * now.Sub(start) / (trendPoints - 1))
	}
	pts, err := s.reg.CoverageTrend(ctx, unionID, times)
	if err != nil {
		return nil, err
	}
	for _, p := range pts {
		cv.Trend = append(cv.Trend, TrendPoint{At: p.At, Mobile: p.Mobile, Email: p.Email})
	}
	return cv, nil
}

// cells sorts groups by label and merges those under k members into one
// "other" cell, dropped when it is itself under k (its members still count
// in the total). A group with no name ("") is always merged.
func cells(m map[string]*Cell, k int) []Cell {
	var out []Cell
	other := Cell{Other: true}
	for _, c := range m {
		if c.Members < k || c.Label == "" {
			other.Members += c.Members
			other.Mobile += c.Mobile
			other.Email += c.Email
			other.Post += c.Post
			other.Unreached += c.Unreached
			continue
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	if other.Members >= k && other.Members > 0 {
		out = append(out, other)
	}
	return out
}

// chartText is the chart's title and description in the page's language.
type chartText struct {
	Title, Desc, Mobile, Email string
}

// esc escapes text for SVG.
func esc(s string) string { return template.HTMLEscapeString(s) }

// TrendChart draws the share of members with a verified mobile (solid)
// and verified email (dashed) over the campaign, in a 360-unit viewBox
// scaled to its container, with presentation attributes only (the CSP
// forbids inline styles); the page shows the same numbers in a table.
func TrendChart(cv *Coverage, txt chartText, id string) template.HTML {
	const w, h, left, right, top, bottom = 360, 200, 40, 12, 16, 36
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-t %s-d" focusable="false">`, w, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(txt.Title), id, esc(txt.Desc))
	y := func(pct float64) float64 { return top + ph - pct/100*ph }
	for _, g := range []float64{0, 25, 50, 75, 100} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d0d0d0" stroke-width="1"/>`, left, w-right, y(g), y(g))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="13" text-anchor="end" fill="#1b1b1b">%.0f%%</text>`, left-4, y(g)+4, g)
	}
	n := len(cv.Trend)
	if n > 1 && cv.Total.Members > 0 {
		line := func(val func(TrendPoint) int, dash string) {
			pts := make([]string, n)
			for i, p := range cv.Trend {
				pts[i] = fmt.Sprintf("%.1f,%.1f", float64(left)+pw*float64(i)/float64(n-1), y(100*float64(val(p))/float64(cv.Total.Members)))
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#0b4f9c" stroke-width="3"%s/>`, strings.Join(pts, " "), dash)
		}
		line(func(p TrendPoint) int { return p.Mobile }, "")
		line(func(p TrendPoint) int { return p.Email }, ` stroke-dasharray="6 4"`)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#1b1b1b">%s</text>`, left, h-12, esc(cv.Trend[0].At.Format("2 Jan")))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" text-anchor="end" fill="#1b1b1b">%s</text>`, w-right, h-12, esc(cv.Trend[n-1].At.Format("2 Jan")))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#0b4f9c">— %s · - - %s</text>`, left+4, top+12, esc(txt.Mobile), esc(txt.Email))
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped
}
