package gotv

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/unionvote/eballot/internal/web/page"
)

// Placeholders a reminder template may use.
var Placeholders = []string{"first_name", "link", "closes"}

// ErrTemplate (400, shown next to the field): a reminder template is
// empty, too long or uses an unknown placeholder.
var ErrTemplate = page.NewError("gotv: invalid template", http.StatusBadRequest, "invalid_template", "gotv.err.template")

// ErrWelshMissing (400): a step has no Welsh text although the ballot is
// bilingual or a member of the segment prefers Welsh: every text a member
// sees comes in their language, written by the union.
var ErrWelshMissing = page.NewError("gotv: a step has no Welsh text", http.StatusBadRequest, "welsh_missing", "gotv.err.welsh_missing")

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// ValidateTemplate checks a reminder template: 1–1,000 characters, only
// known placeholders ({first_name}, {link}, {closes}), {link} present, and
// no stray braces.
func ValidateTemplate(tmpl string) error {
	if strings.TrimSpace(tmpl) == "" {
		return fmt.Errorf("%w: empty", ErrTemplate)
	}
	if len([]rune(tmpl)) > 1000 {
		return fmt.Errorf("%w: longer than 1000 characters", ErrTemplate)
	}
	for _, m := range placeholderRE.FindAllString(tmpl, -1) {
		name := strings.TrimSuffix(strings.TrimPrefix(m, "{"), "}")
		known := false
		for _, p := range Placeholders {
			known = known || name == p
		}
		if !known {
			return fmt.Errorf("%w: unknown placeholder %s", ErrTemplate, m)
		}
	}
	if rest := placeholderRE.ReplaceAllString(tmpl, ""); strings.ContainsAny(rest, "{}") {
		return fmt.Errorf("%w: unmatched brace", ErrTemplate)
	}
	if !strings.Contains(tmpl, "{link}") {
		return fmt.Errorf("%w: {link} is required", ErrTemplate)
	}
	return nil
}

// Vars are the values of a template's placeholders for one member.
type Vars struct {
	FirstName string
	Link      string
	Closes    string
}

// Render fills a validated template.
func Render(tmpl string, v Vars) string {
	return strings.NewReplacer("{first_name}", v.FirstName, "{link}", v.Link, "{closes}", v.Closes).Replace(tmpl)
}

// reminder is the text of one reminder step for one member, in the
// member's preferred language (lang, from the register): Welsh ("cy") gets
// the step's Welsh text (cy) with a link that opens the pages in Welsh,
// English ("en") the English text; a member with no preference gets both,
// English then Welsh, on a bilingual ballot, else English. A step without
// a Welsh text (cy "") is sent in English to everyone.
func (s *Service) reminder(en, cy, lang string, bilingual bool, name, link string, closes time.Time) string {
	english := Render(en, Vars{FirstName: name, Link: link, Closes: closes.In(s.tz).Format("2 Jan 15:04")})
	if cy == "" || lang == "en" || (lang == "" && !bilingual) {
		return english
	}
	t := closes.In(s.tz)
	welsh := Render(cy, Vars{FirstName: name, Link: link + "?lang=cy",
		Closes: fmt.Sprintf("%d %s %s", t.Day(), page.WelshMonths[t.Month()-1], t.Format("15:04"))})
	if lang == "cy" {
		return welsh
	}
	return english + "\n\n" + welsh
}

// firstName is the first word of a member's name.
func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
