package election

import (
	"regexp"
	"strings"

	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Config is a ballot's configuration, edited while the ballot is a draft
// and frozen into the manifest when it opens (stored as ballots.config).
type Config struct {
	// Questions on the voting paper. An industrial action ballot has one or
	// both of the s.229(2) questions (strike; action short of strike),
	// each a Yes/No question.
	Questions []Question `json:"questions"`
	// Texts are the ballot-specific texts of the voting paper, by name:
	// "dispute_summary", "types_of_action", "period", "authorised_person"
	// (s.229(2B)–(3)). The statutory statement of s.229(4) is not here: it
	// comes from the legal regime's versioned text.
	Texts map[string]string `json:"texts"`
	// Workplaces of the members balloted. With separate workplace ballots
	// (s.228) each workplace is a ballot style with its own register,
	// result and turnout; with an aggregated ballot (s.228A) they all share
	// the style "all" and serve only to break turnout down.
	Workplaces []register.Workplace `json:"workplaces"`
	// Bilingual: the union chose a bilingual ballot, English and Welsh.
	// Every text a member sees is then needed in Welsh too (the opening
	// checklist names a missing one, [Config.MissingWelsh]) and the
	// manifest carries the Welsh paper (docs/protocol.md §3.1).
	Bilingual bool `json:"bilingual,omitempty"`
	// TitleCy and TextsCy are the title and the texts in Welsh (same keys
	// as Texts); questions and options carry their own Welsh.
	TitleCy string            `json:"title_cy,omitempty"`
	TextsCy map[string]string `json:"texts_cy,omitempty"`
	// PaperToEveryone: a hybrid ballot sent to everyone: every member gets
	// a postal pack (with its online code), not only those without a
	// usable e-contact (docs/paper.md). Chosen while the ballot is a
	// draft, frozen at the opening with the rest of the configuration.
	PaperToEveryone bool `json:"paper_to_everyone,omitempty"`
	// Election is the set-up only a union election has (its contests are
	// the Questions, each with a Method): nil for every other kind.
	Election *ElectionSetup `json:"election,omitempty"`
}

// Question is one question of the voting paper.
type Question struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	TextCy  string   `json:"text_cy,omitempty"` // the question in Welsh
	Options []Option `json:"options"`
	Min     int      `json:"min"`
	Max     int      `json:"max"`
	// Method, Seats and Rule are a union election's contest (contests.go):
	// Method is MethodChoose (mark up to Max candidates, a homomorphic
	// question) or MethodRanked (STV by Rule, Min to Max preferences);
	// "" for the questions of every other kind of ballot.
	Method string `json:"method,omitempty"`
	Seats  int    `json:"seats,omitempty"`
	Rule   string `json:"rule,omitempty"`
}

// Option is one answer to a question.
type Option struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	LabelCy string `json:"label_cy,omitempty"` // the label in Welsh
}

var slugRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// Slug turns a name into a style id: lower case letters, digits and dashes.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimSuffix(s[:64], "-")
	}
	return s
}

// WorkplaceByName finds a configured workplace by name, ignoring case and
// surrounding spaces.
func (c *Config) WorkplaceByName(name string) (register.Workplace, bool) {
	return register.WorkplaceByName(c.Workplaces, name)
}

// YesNo is a Yes/No question as s.229(2) requires, with its Welsh text
// (textCy, may be empty) and the Welsh answers to "Ydych chi'n barod…?".
func YesNo(id, text, textCy string) Question {
	return Question{ID: id, Text: text, TextCy: textCy, Min: 0, Max: 1,
		Options: []Option{{ID: "yes", Label: "Yes", LabelCy: "Ydw"}, {ID: "no", Label: "No", LabelCy: "Nac ydw"}}}
}

// The s.229(2) questions of an industrial action ballot, in English and
// Welsh: the union does not word them.
var (
	StrikeQuestion = YesNo("strike", "Are you prepared to take part in a strike?",
		"Ydych chi'n barod i gymryd rhan mewn streic?")
	ASOSQuestion = YesNo("asos", "Are you prepared to take part in industrial action short of a strike?",
		"Ydych chi'n barod i gymryd rhan mewn gweithredu diwydiannol heblaw streic?")
)

// WelshTextKeys are the texts the union writes for the paper, in the
// order the form shows them; with a bilingual ballot each one given in
// English is needed in Welsh.
var WelshTextKeys = []string{"dispute_summary", "types_of_action", "period", "authorised_person"}

// welshMissing names, per key of WelshTextKeys, the checklist reason.
var welshMissing = map[string]string{"dispute_summary": "admin.why.cy_dispute_summary",
	"types_of_action": "admin.why.cy_types_of_action", "period": "admin.why.cy_period",
	"authorised_person": "admin.why.cy_authorised_person"}

// MissingWelsh lists, for a bilingual ballot, every member-visible text
// given in English but not in Welsh, as opening-checklist reasons that
// name the field (nothing when the ballot is not bilingual).
func (c *Config) MissingWelsh() []page.Msg {
	if !c.Bilingual {
		return nil
	}
	var out []page.Msg
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	if blank(c.TitleCy) {
		out = append(out, page.M("admin.why.cy_title"))
	}
	for i, q := range c.Questions {
		if blank(q.TextCy) {
			out = append(out, page.M("admin.why.cy_question", i+1))
		}
		for _, o := range q.Options {
			if blank(o.LabelCy) {
				out = append(out, page.M("admin.why.cy_option", o.Label, i+1))
			}
		}
	}
	for _, k := range WelshTextKeys {
		if !blank(c.Texts[k]) && blank(c.TextsCy[k]) {
			out = append(out, page.M(welshMissing[k]))
		}
	}
	return out
}

// Validate checks the configuration's shape (bounds that the manifest
// imposes, docs/protocol.md §3). Its error is a [*MsgError] (its text the
// English message).
func (c *Config) Validate() error {
	// A union election is set up contest by contest: its draft may have
	// none yet (the opening checklist says so, electionReasons).
	if (len(c.Questions) < 1 && c.Election == nil) || len(c.Questions) > 32 {
		return configErr("admin.err.cfg_questions", len(c.Questions))
	}
	seen := map[string]bool{}
	for i, q := range c.Questions {
		if !slugRE.MatchString(q.ID) || seen[q.ID] {
			return configErr("admin.err.cfg_question_id", i+1, q.ID)
		}
		seen[q.ID] = true
		if strings.TrimSpace(q.Text) == "" || len(q.Text) > 2000 {
			return configErr("admin.err.cfg_question_text", i+1)
		}
		if len(q.Options) < 2 || len(q.Options) > 64 {
			return configErr("admin.err.cfg_options", i+1, len(q.Options))
		}
		if err := c.validateContest(i, q); err != nil {
			return err
		}
		if q.Min < 0 || q.Min > q.Max || q.Max > len(q.Options) {
			return configErr("admin.err.cfg_min_max", i+1, len(q.Options))
		}
		opts := map[string]bool{}
		for _, o := range q.Options {
			if !slugRE.MatchString(o.ID) || opts[o.ID] || strings.TrimSpace(o.Label) == "" {
				return configErr("admin.err.cfg_option_ids", i+1)
			}
			opts[o.ID] = true
		}
	}
	if err := c.Election.validate(); err != nil {
		return err
	}
	if len(c.Workplaces) == 0 {
		return configErr("admin.err.cfg_workplaces")
	}
	ws := map[string]bool{}
	for _, w := range c.Workplaces {
		if !slugRE.MatchString(w.ID) || w.ID == register.AggregatedStyle || ws[w.ID] || strings.TrimSpace(w.Name) == "" {
			return configErr("admin.err.cfg_workplace", w.Name)
		}
		ws[w.ID] = true
	}
	return nil
}

func configErr(key string, args ...any) error { return &MsgError{Msg: page.M(key, args...)} }
