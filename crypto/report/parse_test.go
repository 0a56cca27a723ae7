package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

type parseCase struct {
	name string
	b    []byte
	want string // "" accepted; else a substring of the error
}

// strictCases are the inputs both decoders refuse (or accept), made from
// a valid document doc.
func strictCases(doc []byte, nested string) []parseCase {
	ver := `"version": 3`
	for _, v := range []string{`"version": 1`, `"version": 2`} {
		if bytes.Contains(doc, []byte(v)) {
			ver = v
		}
	}
	rep := func(old, new string) []byte {
		if !bytes.Contains(doc, []byte(old)) {
			panic("no " + old)
		}
		return bytes.Replace(doc, []byte(old), []byte(new), 1)
	}
	trimmed := bytes.TrimSpace(doc)
	cat := func(a []byte, b string) []byte { return append(append([]byte{}, a...), b...) }
	return []parseCase{
		{"valid", doc, ""},
		{"compact, no final newline", trimmed, ""},
		{"surrounding white space", cat(append([]byte(" \t\r\n"), doc...), " \n\t"), ""},
		{"unknown field", rep(ver+`,`, ver+`, "signature": "x",`), `unknown field "signature"`},
		{"unknown nested field", rep(nested, `"votes": 1, `+nested), `unknown field "votes"`},
		{"trailing object", cat(doc, "{}"), "trailing data"},
		{"trailing value", cat(doc, " 1"), "trailing data"},
		{"trailing text", cat(doc, "x"), "trailing data"},
		{"trailing ]", cat(doc, "]"), "trailing data"},
		{"trailing }", cat(doc, "}"), "trailing data"},
		{"trailing ,", cat(doc, ","), "trailing data"},
		{"trailing :", cat(doc, ":"), "trailing data"},
		{"twice", cat(doc, string(doc)), "trailing data"},
		{"truncated", trimmed[:len(trimmed)-1], "unexpected end"},
		{"empty", nil, "unexpected end"},
		{"null", []byte("null"), "no"},
		{"an array", []byte("[]"), "cannot unmarshal array"},
		{"version 4", rep(ver, `"version": 4`), "version 4 is not supported"},
		{"version 1.0", rep(ver, ver+`.0`), "only integers"},
		{"version as text", rep(ver, strings.Replace(ver, ": ", `: "`, 1)+`"`), "cannot unmarshal string"},
		{"no result", rep(`"result": {`, `"result": null, "x": {`), `unknown field "x"`},
		{"entries not an integer", rep(`"entries": 14`, `"entries": 14.5`), "only integers"},
		{"entries too large", rep(`"entries": 14`, `"entries": 9223372036854775808`), "integer out of range"},
	}
}

func runParse(t *testing.T, cases []parseCase, parse func([]byte) error) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := parse(c.b)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && err == nil:
				t.Fatalf("accepted, want an error %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestParse: Parse decodes a report strictly: one JSON object, no unknown
// field at any depth, nothing after it, version 1, 2 or 3 (with its
// final_checkpoint; closed_at only in version 3) with a result and three
// statements, at most MaxSize bytes.
func TestParse(t *testing.T) {
	for _, v := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("version ", v), func(t *testing.T) {
			_, js, _ := goldenV(t, v)
			ver := fmt.Sprintf(`"version": %d,`, v)
			cases := strictCases(js, `"clause": "s.231B(1)(b)"`)
			var m map[string]any
			if err := json.Unmarshal(js, &m); err != nil {
				t.Fatal(err)
			}
			m["statements"] = m["statements"].([]any)[:2]
			two, _ := json.Marshal(m)
			cases = append(cases,
				parseCase{"two statements", two, "three statements"},
				parseCase{"no statements", bytes.Replace(js, []byte(`"statements": [`), []byte(`"statements": null, "s": [`), 1), `unknown field "s"`},
				parseCase{"empty object", []byte("{}"), "three statements"},
				parseCase{"result null", []byte(`{"version":1,"result":null,"statements":[{},{},{}]}`), "not a report"},
				// Fields left out are refused (they would read as zero here and as
				// undefined in JavaScript), as are keys in another case.
				parseCase{"minimal", []byte(`{"version":1,"result":{},"statements":[{},{},{}]}`), "not in the form"},
				parseCase{"key in another case", replaceOnce(js, ver, ver+fmt.Sprintf(` "Version": %d,`, v)), "not in the form"},
				parseCase{"duplicate key", replaceOnce(js, ver, ver+ver), "duplicate key"},
				parseCase{"date", replaceOnce(js, `"date": "2026-12-16"`, `"date": "16/12/2026"`), "YYYY-MM-DD"},
			)
			if v >= 2 {
				cases = append(cases,
					parseCase{"no final checkpoint", replaceOnce(js, `"final_checkpoint": "`, `"final_checkpoinT": "`), "not in the form"},
					parseCase{"final checkpoint left out", regexp.MustCompile(`,\s*"final_checkpoint": "[^"]*"`).ReplaceAll(js, nil), "must name its final_checkpoint"},
					parseCase{"version 1 with a final checkpoint", replaceOnce(js, ver, `"version": 1,`), "a version 1 document has no final_checkpoint"},
				)
			}
			if v == 3 {
				cases = append(cases, parseCase{"version 2 with closed_at", replaceOnce(js, ver, `"version": 2,`), "a version 2 document has no closed_at"})
			}
			if v == 1 {
				cases = append(cases, parseCase{"version 2 without a final checkpoint", replaceOnce(js, ver, `"version": 2,`), "must name its final_checkpoint"})
			}
			runParse(t, cases, func(b []byte) error { _, err := Parse(b); return err })
		})
	}
}

// TestParseResultFile: the same strictness for the result file.
func TestParseResultFile(t *testing.T) {
	for _, v := range []int{1, 2, 3} {
		t.Run(fmt.Sprint("version ", v), func(t *testing.T) {
			rf, js, _ := goldenV(t, v)
			ver := fmt.Sprintf(`"version": %d,`, v)
			cases := append(strictCases(rf, `"entitled": 10`),
				parseCase{"no result", []byte(`{"version":1}`), "no result"},
				parseCase{"minimal", []byte(`{"version":1,"result":{}}`), "not in the form"},
				parseCase{"key in another case", replaceOnce(rf, ver, ver+fmt.Sprintf(` "VERSION": %d,`, v)), "not in the form"},
				parseCase{"a report", js, `unknown field "document"`},
			)
			runParse(t, cases, func(b []byte) error { _, err := ParseResultFile(b); return err })
			// A report is not a result file, nor a result file a report.
			if _, err := Parse(rf); err == nil || !strings.Contains(err.Error(), `unknown field "verification"`) && !strings.Contains(err.Error(), "three statements") {
				t.Fatalf("a result file as a report: %v", err)
			}
		})
	}
}

// TestParseSize: MaxSize bytes are decoded, one more is refused unread.
func TestParseSize(t *testing.T) {
	rf, js, _ := golden(t)
	for _, c := range []struct {
		name  string
		doc   []byte
		parse func([]byte) error
	}{
		{"report", js, func(b []byte) error { _, err := Parse(b); return err }},
		{"result file", rf, func(b []byte) error { _, err := ParseResultFile(b); return err }},
	} {
		at := append(append([]byte{}, c.doc...), bytes.Repeat([]byte(" "), MaxSize-len(c.doc))...)
		if err := c.parse(at); err != nil {
			t.Errorf("%s of MaxSize bytes: %v", c.name, err)
		}
		if err := c.parse(append(at, ' ')); err == nil || err.Error() != "too large" {
			t.Errorf("%s over MaxSize: %v", c.name, err)
		}
	}
}

// replaceOnce is doc with the first old replaced by new (old must be there).
func replaceOnce(doc []byte, old, new string) []byte {
	if !bytes.Contains(doc, []byte(old)) {
		panic("no " + old)
	}
	return bytes.Replace(doc, []byte(old), []byte(new), 1)
}
