package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

// paths flattens a JSON value into its member paths (array elements as
// "[]"), each with the JSON of its values at that path, in order.
func paths(prefix string, v any, out map[string][]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, y := range x {
			p := prefix + "." + k
			b, _ := json.Marshal(y)
			out[p] = append(out[p], string(b))
			paths(p, y, out)
		}
	case []any:
		for _, y := range x {
			paths(prefix+"[]", y, out)
		}
	}
}

func flatJSON(prefix string, b []byte) map[string][]string {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	out := map[string][]string{}
	paths(prefix, v, out)
	return out
}

// exportPaths flattens every line of an export, each under its type
// ("header.tree_size", "entry.style", …): the type of the honest export's
// line at the same place when types is given and the line counts agree (a
// case that changes a line's type changes its "type" member), else its own.
func exportPaths(exp []byte, types []string) (map[string][]string, []string) {
	out := map[string][]string{}
	ls := bytes.Split(exp, []byte("\n"))
	own := make([]string, len(ls))
	for i, l := range ls {
		var t struct{ Type string }
		_ = json.Unmarshal(l, &t)
		own[i] = t.Type
		if len(types) == len(ls) {
			t.Type = types[i]
		}
		if t.Type == "" {
			continue
		}
		for p, vs := range flatJSON(t.Type, l) {
			out[p] = append(out[p], vs...)
		}
		// The records a paper line carries (docs/protocol.md §10.2: a
		// batch, the close of the paper count), as canonical JSON in base64.
		for _, m := range []string{"batch", "close"} {
			var v map[string]any
			if json.Unmarshal(l, &v) != nil {
				continue
			}
			s, _ := v[m].(string)
			if raw, err := base64.StdEncoding.DecodeString(s); err == nil && (t.Type == "batch" || t.Type == "paper_close") {
				for p, vs := range flatJSON(t.Type+"."+m+"=", raw) {
					out[p] = append(out[p], vs...)
				}
			}
		}
	}
	return out, own
}

// TestCorpusCoversEveryField: for every member of every record of an
// honest election — each line type of the export, the published counts,
// the partial decryptions, the signed report — some case of the tamper
// corpus changes its value in place (issue #20: at least one case per
// field of every record type; adding or deleting a whole record does not
// count). The hybrid election (export version 3) adds the paper section's
// records — its batch and paper_close lines, the batches and the close of
// the paper count they carry ("batch.batch=.keyings[].keyer", …) — and
// the members of the result and report that only a paper section has: a
// case on the hybrid election must change each of those.
func TestCorpusCoversEveryField(t *testing.T) {
	c := loadCorpus(t)
	honest := coverage(t, c, "honest", nil)
	if len(honest) == 0 {
		t.Fatal("no member of the honest election found")
	}
	hybrid := coverage(t, c, "hybrid", honest)
	var paper int
	for p := range hybrid {
		if strings.HasPrefix(p, "batch.") || strings.HasPrefix(p, "paper_close.") {
			paper++
		}
	}
	// The paper lines and both records they carry are read: not a test
	// that passes on a corpus whose hybrid election lost its paper section.
	for _, p := range []string{"batch.note", "batch.batch=.keyings[].totals.questions[].options", "paper_close.close=.styles[].voted_online", "report.verification.paper.head"} {
		if _, ok := hybrid[p]; !ok {
			t.Errorf("the hybrid election has no member %s", p)
		}
	}
	t.Logf("%d members of the honest election's records and %d more of the hybrid election's (%d of its paper section), each changed by some case", len(honest), len(hybrid), paper)
}

// coverage checks that every member of base's records, except those in
// skip, is changed in place by some case of base, and returns the members.
func coverage(t *testing.T, c *corpus, base string, skip map[string][]string) map[string][]string {
	t.Helper()
	var types []string
	docs := func(x Input, exp []byte) map[string][]string {
		out, own := exportPaths(exp, types)
		if types == nil {
			types = own
		}
		for prefix, b := range map[string][]byte{"counts": x.Options.Published, "partials": x.Partials, "report": x.Report} {
			for p, vs := range flatJSON(prefix, b) {
				// The aggregate is a style of the result (the same record).
				p = strings.Replace(p, "report.result.aggregate", "report.result.styles[]", 1)
				out[p] = append(out[p], vs...)
			}
		}
		return out
	}
	want := docs(c.inputs(t, corpusCase{Base: base}))
	for p := range skip {
		delete(want, p)
	}
	covered := map[string]bool{}
	for _, cs := range c.Cases {
		if cs.Base != base {
			continue
		}
		got := docs(c.inputs(t, cs))
		for p, vs := range want {
			// The same number of values, one of them other: a member
			// changed, not a record added or taken away.
			if len(got[p]) == len(vs) && !slices.Equal(got[p], vs) {
				covered[p] = true
			}
		}
	}
	var missing []string
	for p := range want {
		if !covered[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no case of the corpus changes these members of the %s election (add one to crypto/internal/gencorpus):\n%s", base, strings.Join(missing, "\n"))
	}
	return want
}
