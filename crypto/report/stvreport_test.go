package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/stv"
)

// The election report vector (crypto/testdata/election_report_v1.json and
// its .sig) is the report of the ranked count in
// crypto/testdata/ranked_count_v1 (its result.json, as `scrutineer ranked
// count` wrote it), signed with the test scrutineer key. Go and any other
// implementation read it; -update rewrites it.
const (
	electionVector    = "../testdata/election_report_v1.json"
	electionVectorSig = "../testdata/election_report_v1.json.sig"
	electionCountFile = "../testdata/ranked_count_v1/result.json"
)

// countOf reads a ranked result.json (cmd/scrutineer's rankedResult) as
// the counted part of an election report.
func countOf(t testing.TB, path string) (ElectionContest, ElectionCount) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rr struct {
		ManifestHash string        `json:"manifest_hash"`
		Contest      int           `json:"contest"`
		Candidates   []string      `json:"candidates"`
		Ballots      int64         `json:"ballots"`
		Entitled     int64         `json:"entitled"`
		Spoilt       []SpoiltPaper `json:"spoilt"`
		Shuffles     int           `json:"shuffles"`
		Trustees     []int         `json:"decrypted_by"`
		FinalList    string        `json:"final_list_sha256"`
		Lot          []int         `json:"lot"`
		Count        *stv.Result   `json:"count"`
	}
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatal(err)
	}
	ec := ElectionContest{ManifestHash: rr.ManifestHash, Contest: rr.Contest, Question: "general-secretary", Title: "General Secretary",
		Persons: []IndependentPerson{{Name: "Ruth Jones, Independent Counts Ltd", Trustee: 3}}}
	return ec, ElectionCount{Candidates: rr.Candidates, Distributed: rr.Entitled, Returned: rr.Ballots, Spoilt: rr.Spoilt,
		Shuffles: rr.Shuffles, DecryptedBy: rr.Trustees, FinalList: rr.FinalList, Lot: rr.Lot, STV: rr.Count}
}

// vectorReport is the report of the vector.
func vectorReport(t testing.TB) *ElectionReport {
	ec, c := countOf(t, electionCountFile)
	return NewElection(ec, c, "scrutineer.test", ElectionOptions{Scrutineer: "Jane Scrutineer, Scrutineers LLP", Date: testDate,
		NotSatisfiedB: []string{"one trustee kept their share on a shared computer"},
		Register:      RegisterStatement{Inspected: true, Particulars: []string{"at the request of a candidate"}, Matters: []string{}},
		Notes:         []string{"a test report"}})
}

// TestElectionVector: the report made from the ranked count signs to
// exactly the vector, which opens under the test key to the same report.
func TestElectionVector(t *testing.T) {
	rep := vectorReport(t)
	js, sig, err := SignElection(rep, signer(t, testSignerKey))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		for p, b := range map[string][]byte{electionVector: js, electionVectorSig: sig} {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	wjs, wsig := readFile(t, electionVector), readFile(t, electionVectorSig)
	if !bytes.Equal(js, wjs) || !bytes.Equal(sig, wsig) {
		t.Fatalf("the election report differs from %s (run with -update if the format changed on purpose):\n%s", electionVector, js)
	}
	got, err := OpenElection(wjs, wsig, testVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rep) {
		t.Fatalf("opened report differs:\n%+v\n%+v", got, rep)
	}
	if !IsElection(wjs) || IsElection(readTestdata(t, "report_v3.json")) {
		t.Fatal("IsElection does not tell an election report from a ballot's")
	}
	// s.52(1): what the statute asks for is in the document.
	c := got.Count
	if c.Distributed != 50 || c.Returned != 24 || c.Turnout != "48.00%" || len(c.Spoilt) != 0 ||
		!reflect.DeepEqual(c.ValidVotes, []string{"9.00", "5.00", "5.00", "5.00"}) || !reflect.DeepEqual(c.Elected, []int{0, 2}) ||
		len(got.IndependentPersons) != 1 || got.IndependentPersons[0].Trustee != 3 || got.Statements[1].Satisfied {
		t.Fatalf("the report does not say what s.52 asks: %+v", got)
	}
	// No recount difference with itself.
	if d := CheckElection(got, rep); len(d) != 0 {
		t.Fatal(d)
	}
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(p))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestElectionSignature: a changed report, another key, a bad key and a
// report whose signed_by is not the key's name are refused.
func TestElectionSignature(t *testing.T) {
	js, sig := readFile(t, electionVector), readFile(t, electionVectorSig)
	changed := bytes.Replace(js, []byte(`"papers_returned": 24`), []byte(`"papers_returned": 23`), 1)
	if bytes.Equal(changed, js) {
		t.Fatal("the vector has no papers_returned 24")
	}
	if _, err := OpenElection(changed, sig, testVerifierKey); !errors.Is(err, ErrSignature) {
		t.Fatalf("changed report: %v", err)
	}
	if _, err := OpenElection(js, sig, otherVerifierKey); !errors.Is(err, ErrSignature) {
		t.Fatalf("other key: %v", err)
	}
	if _, err := OpenElection(js, sig, "not a key"); !errors.Is(err, ErrKey) {
		t.Fatalf("bad key: %v", err)
	}
	// Signed by the other key, but naming the test key as its signer.
	ojs, osig, err := SignElection(vectorReport(t), signer(t, otherSignerKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenElection(ojs, osig, otherVerifierKey); err == nil || !strings.Contains(err.Error(), "says it is signed by") {
		t.Fatalf("signed_by not the key: %v", err)
	}
	// A ballot's report is not an election report, even well signed.
	if _, err := OpenElection(readTestdata(t, "report_v3.json"), readTestdata(t, "report_v3.json.sig"), testVerifierKey); err == nil {
		t.Fatal("a ballot's report opened as an election report")
	}
}

// TestElectionParseRefuses: each tampered field, re-signed so the
// signature is good, is refused by the decoder, naming why.
func TestElectionParseRefuses(t *testing.T) {
	js := readFile(t, electionVector)
	if _, err := ParseElection(js); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown field", `"version": 1,`, `"version": 1, "extra": 1,`, "unknown field"},
		{"missing field", `"turnout": "48.00%",`, ``, ""},
		{"other case", `"papers_returned"`, `"Papers_returned"`, ""},
		{"version", `"version": 1,`, `"version": 2,`, "version 2"},
		{"document", `(s.52)"`, `(s.231B)"`, "document"},
		{"date", `"date": "` + testDate, `"date": "7 Dec 2026`, "date"},
		{"statement text", `relation to the election.`, `relation to the ballot.`, "statement 1"},
		{"satisfied with particulars", `"satisfied": false,
      "particulars": [
        "one trustee`, `"satisfied": true,
      "particulars": [
        "one trustee`, "satisfied is true"},
		{"turnout", `"turnout": "48.00%"`, `"turnout": "50.00%"`, "turnout"},
		{"returned", `"papers_returned": 24`, `"papers_returned": 25`, "papers returned"},
		{"returned above distributed", `"papers_distributed": 50`, `"papers_distributed": 20`, "returned of"},
		{"valid votes", `"valid_votes": [
      "9.00"`, `"valid_votes": [
      "8.00"`, "valid_votes"},
		{"elected", `"elected": [
      0,
      2
    ],
    "shuffles"`, `"elected": [
      0,
      1
    ],
    "shuffles"`, "elected"},
		{"independent trustee", `"trustee": 3`, `"trustee": 2`, "not among the decryptions"},
		{"no shuffle", `"shuffles": 2`, `"shuffles": 0`, "no shuffle"},
		{"float", `"papers_distributed": 50`, `"papers_distributed": 50.0`, ""},
		{"trailing", "}\n", "}\n]", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Replace(js, []byte(tc.old), []byte(tc.new), 1)
			if tc.name == "trailing" {
				b = append(bytes.TrimSuffix(js, []byte("\n")), "]\n"...)
			} else if bytes.Equal(b, js) {
				t.Fatalf("the vector has no %q", tc.old)
			}
			_, err := ParseElection(b)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
			// Re-signed with the right key: the signature is good, the
			// document still refused.
			signed, err := signText(t, b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := OpenElection(b, signed, testVerifierKey); err == nil || errors.Is(err, ErrSignature) {
				t.Fatalf("re-signed tampered report: %v", err)
			}
		})
	}
}

// signText signs b with the test key and returns the signature lines.
func signText(t testing.TB, b []byte) ([]byte, error) {
	signed, err := note.Sign(&note.Note{Text: string(b)}, signer(t, testSignerKey))
	if err != nil {
		return nil, err
	}
	return signed[len(b):], nil
}

// TestCheckElection: a report whose count was changed, consistently and
// re-signed (a stage's votes, the lot, the decrypting trustees, the
// independent person), differs from the recount, and each difference is
// named.
func TestCheckElection(t *testing.T) {
	truth := vectorReport(t)
	for _, tc := range []struct {
		name   string
		change func(r *ElectionReport)
		want   string
	}{
		{"stage votes", func(r *ElectionReport) { r.Count.STV.Stages[1].Votes[1] = "6.00" }, "count.stv.stages[1].votes[1]"},
		{"lot", func(r *ElectionReport) { r.Count.Lot[0], r.Count.Lot[1] = r.Count.Lot[1], r.Count.Lot[0] }, "count.lot[0]"},
		{"trustees", func(r *ElectionReport) { r.Count.DecryptedBy = []int{1, 2, 3} }, "count.decrypted_by"},
		{"manifest", func(r *ElectionReport) { r.ManifestHash = strings.Repeat("0", 64) }, "of manifest 0000"},
		{"independent person", func(r *ElectionReport) { r.IndependentPersons = nil }, "independent persons [], the contest [Ruth Jones"},
		{"candidate", func(r *ElectionReport) { r.Count.Candidates[3] = "Candidate E" }, "count.candidates[3]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := vectorReport(t)
			tc.change(r)
			d := CheckElection(r, truth)
			if len(d) == 0 || !strings.Contains(strings.Join(d, "\n"), tc.want) {
				t.Fatalf("want a difference naming %q, got %q", tc.want, d)
			}
		})
	}
	// The scrutineer's own parts are not compared.
	r := vectorReport(t)
	r.Title, r.Date, r.Notes, r.Statements[0].Satisfied = "Another title", "2030-01-01", nil, false
	r.IndependentPersons[0].Satisfied = false
	if d := CheckElection(r, truth); len(d) != 0 {
		t.Fatal(d)
	}
}

// TestElectionRendering: both languages render every part the statute
// asks for, every word has both languages, and text from the report
// cannot inject markup.
func TestElectionRendering(t *testing.T) {
	for k := range electionWords["en"] {
		if electionWords["cy"][k] == "" {
			t.Errorf("no Welsh for %q", k)
		}
	}
	for k := range electionWords["cy"] {
		if electionWords["en"][k] == "" {
			t.Errorf("no English for %q", k)
		}
	}
	rep := vectorReport(t)
	rep.Count.Candidates[1] = "Bob <script>|x"
	want := map[string][]string{
		"en": {"Voting papers distributed (s.52(1)(a)) | 50", "Voting papers returned (s.52(1)(b)) | 24", "| Turnout | 48.00% |",
			"Spoilt or otherwise invalid papers (s.52(1)(d)) | 0", "| Elected | Candidate A; Candidate C |", "| Candidate A | 9.00 (elected) |",
			"Ruth Jones, Independent Counts Ltd, holds the key share of trustee 3", "The scrutineer is satisfied: **no**",
			"- one trustee kept their share", "examine the copy supplied? **yes**", "Bob &lt;script&gt;\\|x"},
		"cy": {"Papurau pleidleisio a ddosbarthwyd (adran 52(1)(a)) | 50", "| Etholwyd | Candidate A; Candidate C |",
			"| Candidate A | 9.00 (etholwyd) |", "yn dal rhan allwedd ymddiriedolwr 3", "Mae'r craffwr yn fodlon: **nac ydy**",
			"a roddwyd iddo? **do**", "mewn perthynas â'r etholiad."},
	}
	for _, lang := range ElectionLanguages {
		var b bytes.Buffer
		WriteElectionMarkdown(&b, rep, lang)
		for _, w := range want[lang] {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s Markdown has no %q:\n%s", lang, w, b.String())
			}
		}
	}
	var h bytes.Buffer
	if err := WriteElectionHTML(&h, rep); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`<section class="lang" lang="en">`, `<section class="lang" lang="cy">`, "Bob &lt;script&gt;|x", "Etholwyd", "Elected"} {
		if !strings.Contains(h.String(), w) {
			t.Errorf("HTML has no %q", w)
		}
	}
	if strings.Contains(h.String(), "<script>") {
		t.Error("a candidate's name is not escaped in the HTML")
	}
	// None appointed: s.52(1)(e) says so.
	rep.IndependentPersons = nil
	var b bytes.Buffer
	WriteElectionMarkdown(&b, rep, "en")
	if !strings.Contains(b.String(), "No person was appointed under section 51A.") {
		t.Error("no statement that no independent person was appointed")
	}
}

// FuzzParseElection: ParseElection never panics; what it accepts
// re-encodes to the same report, signs and opens to it again, renders in
// both languages, and compares with the true count without panicking.
func FuzzParseElection(f *testing.F) {
	js := readFile(f, electionVector)
	f.Add(js)
	f.Add(bytes.Replace(js, []byte(`"version": 1,`), []byte(`"version": 1, "x": 1,`), 1))
	f.Add([]byte(`{"version":1,"count":{"stv":{}},"statements":[{},{},{}]}`))
	truth := vectorReport(f)
	s := signer(f, testSignerKey)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseElection(b)
		if err != nil {
			return
		}
		sj, sig, err := SignElection(rep, s)
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		again, err := OpenElection(sj, sig, testVerifierKey)
		if err != nil {
			t.Fatalf("an accepted report, signed, does not open: %v\n%s", err, sj)
		}
		if !reflect.DeepEqual(again, rep) {
			t.Fatal("the report changed through signing")
		}
		for _, l := range ElectionLanguages {
			WriteElectionMarkdown(new(bytes.Buffer), rep, l)
		}
		if err := WriteElectionHTML(new(bytes.Buffer), rep); err != nil {
			t.Fatal(err)
		}
		_ = CheckElection(rep, truth)
	})
}
