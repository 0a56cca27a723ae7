package report

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/unionvote/eballot/crypto/stv"
)

// Languages of the election report's rendering: English and Welsh.
var ElectionLanguages = []string{"en", "cy"}

// electionWords are the words of the rendered election report in each
// language. The report's JSON is the signed document; this is how it is
// read. The scrutineer's own particulars, notes and the reasons a paper
// was set aside are shown as written.
var electionWords = map[string]map[string]string{
	"en": {
		"heading":         "Result of the election and scrutineer's report (section 52)",
		"manifest":        "Manifest hash",
		"question":        "Question",
		"scrutineer":      "Scrutineer",
		"signed_by":       "signing key",
		"date":            "Date of this report",
		"result":          "Result",
		"distributed":     "Voting papers distributed (s.52(1)(a))",
		"returned":        "Voting papers returned (s.52(1)(b))",
		"turnout":         "Turnout",
		"spoilt":          "Spoilt or otherwise invalid papers (s.52(1)(d))",
		"valid":           "Valid votes for each candidate, first preferences (s.52(1)(c))",
		"elected":         "Elected",
		"candidate":       "Candidate",
		"stages":          "Votes for each candidate at each stage of the count",
		"stage":           "Stage",
		"exhausted":       "Exhausted",
		"remainder":       "Non-transferable remainder",
		"quota":           "Quota",
		"action":          "Action",
		"is_elected":      "elected",
		"is_excluded":     "excluded",
		"independent":     "Independent person (s.51A, s.52(1)(e))",
		"no_ip":           "No person was appointed under section 51A.",
		"ip_trustee":      "holds the key share of trustee %d, without which the votes could not be counted",
		"ip_perf":         "The scrutineer is satisfied with their performance (s.52(2B))",
		"statements":      "Scrutineer's report (s.52(2))",
		"satisfied":       "The scrutineer is satisfied",
		"register":        "Register of members' names and addresses (s.52(2A))",
		"inspected":       "Did the scrutineer inspect the register or examine the copy supplied?",
		"did_yes":         "yes",
		"did_no":          "no",
		"matters":         "Matters to draw to the union's attention",
		"how":             "How the count was made",
		"how_text":        "%d shuffles verified; decrypted by trustees %s; %s; lot order %s; final mixed list SHA-256 %s.",
		"notes":           "Notes",
		"yes":             "yes",
		"no":              "no",
		"none":            "none",
		"check":           "Signed with the scrutineer's key (the .sig file). Check it with:",
		"rule.ers97":      "STV, Electoral Reform Society rules (1997)",
		"rule.meek":       "STV, Meek's method",
		"act.first":       "first preferences",
		"act.surplus":     "surplus",
		"act.exclusion":   "exclusion",
		"act.round":       "round",
		"act.end":         "end",
		"stmt.s.52(2)(a)": electionStatements[0][1],
		"stmt.s.52(2)(b)": electionStatements[1][1],
		"stmt.s.52(2)(c)": electionStatements[2][1],
	},
	"cy": {
		"heading":         "Canlyniad yr etholiad ac adroddiad y craffwr (adran 52)",
		"manifest":        "Hash y maniffest",
		"question":        "Cwestiwn",
		"scrutineer":      "Craffwr",
		"signed_by":       "allwedd llofnodi",
		"date":            "Dyddiad yr adroddiad hwn",
		"result":          "Canlyniad",
		"distributed":     "Papurau pleidleisio a ddosbarthwyd (adran 52(1)(a))",
		"returned":        "Papurau pleidleisio a ddychwelwyd (adran 52(1)(b))",
		"turnout":         "Nifer a bleidleisiodd",
		"spoilt":          "Papurau wedi'u difetha neu'n annilys fel arall (adran 52(1)(d))",
		"valid":           "Pleidleisiau dilys i bob ymgeisydd, dewisiadau cyntaf (adran 52(1)(c))",
		"elected":         "Etholwyd",
		"candidate":       "Ymgeisydd",
		"stages":          "Pleidleisiau pob ymgeisydd ym mhob cam o'r cyfrif",
		"stage":           "Cam",
		"exhausted":       "Wedi'u dihysbyddu",
		"remainder":       "Gweddill na ellir ei drosglwyddo",
		"quota":           "Cwota",
		"action":          "Cam gweithredu",
		"is_elected":      "etholwyd",
		"is_excluded":     "eithriwyd",
		"independent":     "Person annibynnol (adran 51A, adran 52(1)(e))",
		"no_ip":           "Ni phenodwyd unrhyw berson o dan adran 51A.",
		"ip_trustee":      "yn dal rhan allwedd ymddiriedolwr %d, na ellid cyfrif y pleidleisiau hebddi",
		"ip_perf":         "Mae'r craffwr yn fodlon â pherfformiad y person (adran 52(2B))",
		"statements":      "Adroddiad y craffwr (adran 52(2))",
		"satisfied":       "Mae'r craffwr yn fodlon",
		"register":        "Cofrestr enwau a chyfeiriadau'r aelodau (adran 52(2A))",
		"inspected":       "A archwiliodd y craffwr y gofrestr neu'r copi a roddwyd iddo?",
		"did_yes":         "do",
		"did_no":          "naddo",
		"matters":         "Materion i'w dwyn i sylw'r undeb",
		"how":             "Sut y gwnaed y cyfrif",
		"how_text":        "%d cymysgiad wedi'u gwirio; dadgryptiwyd gan ymddiriedolwyr %s; %s; trefn y coelbren %s; SHA-256 y rhestr gymysg derfynol %s.",
		"notes":           "Nodiadau",
		"yes":             "ydy",
		"no":              "nac ydy",
		"none":            "dim",
		"check":           "Wedi'i lofnodi ag allwedd y craffwr (y ffeil .sig). Gwiriwch ef gyda:",
		"rule.ers97":      "STV, rheolau'r Gymdeithas Diwygio Etholiadol (1997)",
		"rule.meek":       "STV, dull Meek",
		"act.first":       "dewisiadau cyntaf",
		"act.surplus":     "gwarged",
		"act.exclusion":   "eithrio",
		"act.round":       "rownd",
		"act.end":         "diwedd",
		"stmt.s.52(2)(a)": "Nid oes sail resymol dros gredu y bu unrhyw dorri ar ofyniad a osodwyd gan neu o dan unrhyw ddeddfiad mewn perthynas â'r etholiad.",
		"stmt.s.52(2)(b)": "Roedd y trefniadau ar gyfer cynhyrchu, storio, dosbarthu, dychwelyd neu drin fel arall y papurau pleidleisio a ddefnyddiwyd yn yr etholiad, ac ar gyfer cyfrif y pleidleisiau, yn cynnwys yr holl drefniadau diogelwch a oedd yn rhesymol ymarferol i leihau'r risg o annhegwch neu gamymddwyn.",
		"stmt.s.52(2)(c)": "Mae'r craffwr wedi gallu cyflawni ei swyddogaethau heb y fath ymyrraeth a fyddai'n ei gwneud yn rhesymol i unrhyw un amau ei annibyniaeth mewn perthynas â'r undeb.",
	},
}

// ElectionView is an election report as one language reads it: every
// label in that language, the values from the report. The Markdown and
// HTML renderings are made from it.
type ElectionView struct {
	Lang  string
	W     map[string]string // the words (electionWords[Lang])
	Rep   *ElectionReport
	Rule  string
	Elect []string // elected candidates' names, in order of election
	// Rows are the candidates' votes at each stage, with a mark where
	// they were elected or excluded at that stage.
	Rows   []ElectionRow
	Stages []ElectionStage
	Stmts  []ElectionStatement
	How    string
}

// ElectionRow is one candidate's line of the stage table.
type ElectionRow struct {
	Name  string
	First string // valid first preferences
	Cells []string
}

// ElectionStage is a stage's heading and totals.
type ElectionStage struct {
	Label, Action, Exhausted, Remainder, Quota string
}

// ElectionStatement is an s.52(2) statement in the view's language.
type ElectionStatement struct {
	Clause, Text, Satisfied string
	Particulars             []string
}

// View returns the report as language lang ("en" or "cy"; any other is
// English) reads it.
func (r *ElectionReport) View(lang string) *ElectionView {
	w, ok := electionWords[lang]
	if !ok {
		lang, w = "en", electionWords["en"]
	}
	c := &r.Count
	v := &ElectionView{Lang: lang, W: w, Rep: r, Rule: word(w, "rule."+string(c.STV.Rule))}
	for _, e := range c.Elected {
		v.Elect = append(v.Elect, name(c.Candidates, e))
	}
	for _, st := range c.STV.Stages {
		label := fmt.Sprint(st.Number)
		if st.Batch > 0 {
			label = fmt.Sprintf("%d.%d", st.Number, st.Batch)
		}
		v.Stages = append(v.Stages, ElectionStage{label, word(w, "act."+st.Action), st.Exhausted, st.Remainder, st.Quota})
	}
	for i, n := range c.Candidates {
		row := ElectionRow{Name: n, First: at(c.ValidVotes, i)}
		for _, st := range c.STV.Stages {
			cell := at(st.Votes, i)
			if slices.Contains(st.Elected, i) {
				cell += " (" + w["is_elected"] + ")"
			} else if slices.Contains(st.Excluded, i) {
				cell += " (" + w["is_excluded"] + ")"
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	for _, s := range r.Statements {
		v.Stmts = append(v.Stmts, ElectionStatement{s.Clause, word(w, "stmt."+s.Clause), v.YesNo(s.Satisfied), s.Particulars})
	}
	lot := make([]string, len(c.Lot))
	for i, l := range c.Lot {
		lot[i] = name(c.Candidates, l)
	}
	v.How = fmt.Sprintf(w["how_text"], c.Shuffles, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(c.DecryptedBy)), ", "), "[]"), v.Rule, strings.Join(lot, ", "), c.FinalList)
	return v
}

// YesNo is b in the view's language.
func (v *ElectionView) YesNo(b bool) string {
	if b {
		return v.W["yes"]
	}
	return v.W["no"]
}

// Did is b in the view's language, answering a question in the past
// tense (Welsh: do, naddo).
func (v *ElectionView) Did(b bool) string {
	if b {
		return v.W["did_yes"]
	}
	return v.W["did_no"]
}

// Trustee is the sentence naming the trustee share an independent
// person holds.
func (v *ElectionView) Trustee(t int) string { return fmt.Sprintf(v.W["ip_trustee"], t) }

func word(w map[string]string, k string) string {
	if s, ok := w[k]; ok {
		return s
	}
	return strings.TrimPrefix(strings.TrimPrefix(k, "act."), "rule.")
}

func name(cs []string, i int) string {
	if i < 0 || i >= len(cs) {
		return fmt.Sprintf("#%d", i)
	}
	return cs[i]
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

// WriteElectionMarkdown writes the report in language lang as Markdown.
// Text from the report (names, particulars) is made safe for a table
// cell and for a Markdown renderer that passes HTML through.
func WriteElectionMarkdown(w io.Writer, r *ElectionReport, lang string) {
	v := r.View(lang)
	W := v.W
	p := func(f string, a ...any) { fmt.Fprintf(w, f, a...) }
	c := &r.Count
	p("# %s\n\n**%s**\n\n", md(r.Title), W["heading"])
	p("- %s: `%s`\n", W["manifest"], r.ManifestHash)
	if r.Question != "" {
		p("- %s: `%s`\n", W["question"], md(r.Question))
	}
	p("- %s: %s (%s `%s`)\n- %s: %s\n\n", W["scrutineer"], md(r.Scrutineer), W["signed_by"], md(r.SignedBy), W["date"], r.Date)
	p("## %s\n\n| | |\n| --- | --- |\n", W["result"])
	p("| %s | %d |\n| %s | %d |\n| %s | %s |\n| %s | %d |\n", W["distributed"], c.Distributed, W["returned"], c.Returned, W["turnout"], c.Turnout, W["spoilt"], len(c.Spoilt))
	p("| %s | %s |\n\n", W["elected"], md(strings.Join(v.Elect, "; ")))
	p("### %s\n\n| %s | %s |\n| --- | ---: |\n", W["valid"], W["candidate"], W["stage"]+" 1")
	for _, row := range v.Rows {
		p("| %s | %s |\n", md(row.Name), row.First)
	}
	p("\n### %s (%s)\n\n| %s |", W["stages"], v.Rule, W["candidate"])
	for _, st := range v.Stages {
		p(" %s |", st.Label)
	}
	p("\n| --- |%s\n", strings.Repeat(" ---: |", len(v.Stages)))
	for _, row := range v.Rows {
		p("| %s |", md(row.Name))
		for _, cell := range row.Cells {
			p(" %s |", cell)
		}
		p("\n")
	}
	line := func(label string, f func(ElectionStage) string) {
		p("| %s |", label)
		for _, st := range v.Stages {
			p(" %s |", f(st))
		}
		p("\n")
	}
	line(W["exhausted"], func(s ElectionStage) string { return s.Exhausted })
	if c.STV.Rule == stv.ERS97 {
		line(W["remainder"], func(s ElectionStage) string { return s.Remainder })
	}
	line(W["quota"], func(s ElectionStage) string { return s.Quota })
	line(W["action"], func(s ElectionStage) string { return s.Action })
	if len(c.Spoilt) > 0 {
		p("\n%s:\n\n", W["spoilt"])
		for _, s := range c.Spoilt {
			p("- %d: %s\n", s.Ballot, md(s.Reason))
		}
	}
	p("\n## %s\n\n", W["independent"])
	if len(r.IndependentPersons) == 0 {
		p("%s\n", W["no_ip"])
	}
	for _, ip := range r.IndependentPersons {
		p("- %s", md(ip.Name))
		if ip.Trustee > 0 {
			p(", %s", v.Trustee(ip.Trustee))
		}
		p(". %s: **%s**\n", W["ip_perf"], v.YesNo(ip.Satisfied))
		for _, x := range ip.Particulars {
			p("  - %s\n", md(x))
		}
	}
	p("\n## %s\n\n", W["statements"])
	for _, s := range v.Stmts {
		p("**%s** — %s\n\n%s: **%s**\n\n", s.Clause, s.Text, W["satisfied"], s.Satisfied)
		for _, x := range s.Particulars {
			p("- %s\n", md(x))
		}
		if len(s.Particulars) > 0 {
			p("\n")
		}
	}
	p("## %s\n\n%s **%s**\n\n", W["register"], W["inspected"], v.Did(r.Register.Inspected))
	for _, x := range r.Register.Particulars {
		p("- %s\n", md(x))
	}
	if len(r.Register.Matters) > 0 {
		p("\n%s:\n\n", W["matters"])
		for _, x := range r.Register.Matters {
			p("- %s\n", md(x))
		}
	}
	if len(r.Register.Particulars)+len(r.Register.Matters) > 0 {
		p("\n")
	}
	p("## %s\n\n%s\n", W["how"], md(v.How))
	if len(r.Notes) > 0 {
		p("\n## %s\n\n", W["notes"])
		for _, n := range r.Notes {
			p("- %s\n", md(n))
		}
	}
}

// md makes report text safe in Markdown (and a table cell).
func md(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteElectionHTML writes the report as one HTML page with a section in
// each language (English, then Welsh), for printing and publishing.
func WriteElectionHTML(w io.Writer, r *ElectionReport) error {
	var vs []*ElectionView
	for _, l := range ElectionLanguages {
		vs = append(vs, r.View(l))
	}
	return electionHTML.Execute(w, vs)
}

var electionHTML = template.Must(template.New("election").Parse(`<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{(index . 0).Rep.Title}} — {{(index . 0).W.heading}}</title>
<style>
body{font-family:Georgia,serif;max-width:48em;margin:2em auto;padding:0 .5em;line-height:1.4;color:#000}
table{border-collapse:collapse;margin:.5em 0 1.5em;display:block;overflow-x:auto}td,th{border:1px solid #444;padding:.25em .6em;text-align:left}
td.n{text-align:right}code{font-size:.85em;word-break:break-all}
@media print{body{margin:0;max-width:none}section.lang{page-break-before:always}}
</style></head><body>
{{range .}}<section class="lang" lang="{{.Lang}}">
<h1>{{.Rep.Title}}</h1><p><strong>{{.W.heading}}</strong></p>
<ul><li>{{.W.manifest}}: <code>{{.Rep.ManifestHash}}</code></li>{{if .Rep.Question}}<li>{{.W.question}}: <code>{{.Rep.Question}}</code></li>{{end}}
<li>{{.W.scrutineer}}: {{.Rep.Scrutineer}} ({{.W.signed_by}} <code>{{.Rep.SignedBy}}</code>)</li><li>{{.W.date}}: {{.Rep.Date}}</li></ul>
<h2>{{.W.result}}</h2>
<table><tr><th scope="row">{{.W.distributed}}</th><td class="n">{{.Rep.Count.Distributed}}</td></tr>
<tr><th scope="row">{{.W.returned}}</th><td class="n">{{.Rep.Count.Returned}}</td></tr>
<tr><th scope="row">{{.W.turnout}}</th><td class="n">{{.Rep.Count.Turnout}}</td></tr>
<tr><th scope="row">{{.W.spoilt}}</th><td class="n">{{len .Rep.Count.Spoilt}}</td></tr>
<tr><th scope="row">{{.W.elected}}</th><td>{{range $i, $e := .Elect}}{{if $i}}; {{end}}{{$e}}{{end}}</td></tr></table>
<h3>{{.W.valid}}</h3>
<table><tr><th scope="col">{{.W.candidate}}</th><th scope="col">{{.W.stage}} 1</th></tr>
{{range .Rows}}<tr><th scope="row">{{.Name}}</th><td class="n">{{.First}}</td></tr>{{end}}</table>
<h3>{{.W.stages}} ({{.Rule}})</h3>
<table><tr><th scope="col">{{.W.candidate}}</th>{{range .Stages}}<th scope="col">{{.Label}}</th>{{end}}</tr>
{{range .Rows}}<tr><th scope="row">{{.Name}}</th>{{range .Cells}}<td class="n">{{.}}</td>{{end}}</tr>{{end}}
<tr><th scope="row">{{.W.exhausted}}</th>{{range .Stages}}<td class="n">{{.Exhausted}}</td>{{end}}</tr>
{{if eq (print .Rep.Count.STV.Rule) "ers97"}}<tr><th scope="row">{{.W.remainder}}</th>{{range .Stages}}<td class="n">{{.Remainder}}</td>{{end}}</tr>{{end}}
<tr><th scope="row">{{.W.quota}}</th>{{range .Stages}}<td class="n">{{.Quota}}</td>{{end}}</tr>
<tr><th scope="row">{{.W.action}}</th>{{range .Stages}}<td>{{.Action}}</td>{{end}}</tr></table>
{{if .Rep.Count.Spoilt}}<p>{{.W.spoilt}}:</p><ul>{{range .Rep.Count.Spoilt}}<li>{{.Ballot}}: {{.Reason}}</li>{{end}}</ul>{{end}}
<h2>{{.W.independent}}</h2>
{{if not .Rep.IndependentPersons}}<p>{{.W.no_ip}}</p>{{end}}{{$v := .}}
{{range .Rep.IndependentPersons}}<p>{{.Name}}{{if .Trustee}}, {{$v.Trustee .Trustee}}{{end}}. {{$v.W.ip_perf}}: <strong>{{$v.YesNo .Satisfied}}</strong></p>
{{if .Particulars}}<ul>{{range .Particulars}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
<h2>{{.W.statements}}</h2>
{{range .Stmts}}<p><strong>{{.Clause}}</strong> — {{.Text}}</p><p>{{$v.W.satisfied}}: <strong>{{.Satisfied}}</strong></p>
{{if .Particulars}}<ul>{{range .Particulars}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
<h2>{{.W.register}}</h2><p>{{.W.inspected}} <strong>{{.Did .Rep.Register.Inspected}}</strong></p>
{{if .Rep.Register.Particulars}}<ul>{{range .Rep.Register.Particulars}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Rep.Register.Matters}}<p>{{.W.matters}}:</p><ul>{{range .Rep.Register.Matters}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>{{.W.how}}</h2><p>{{.How}}</p>
{{if .Rep.Notes}}<h2>{{.W.notes}}</h2><ul>{{range .Rep.Notes}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p><small>{{.W.check}} <code>scrutineer check-result --key scrutineer.key.pub election-report.json</code></small></p>
</section>{{end}}
</body></html>
`))
