package gotv

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/unionvote/eballot/internal/web/page"
)

// Placeholders a reminder template may use.
var Placeholders = []string{"first_name", "link", "closes"}

// ErrTemplate (400, shown next to the field): a reminder template is
// empty, too long or uses an unknown placeholder.
var ErrTemplate = page.NewError("gotv: invalid template", http.StatusBadRequest, "invalid_template", "gotv.err.template")

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

// firstName is the first word of a member's name.
func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
