package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/unionvote/eballot/crypto/stv"
)

// The result of a union election's ranked (STV) contest and the
// scrutineer's report on it (TULRCA 1992 s.52), as `scrutineer ranked
// report` writes and signs it (docs/protocol.md §9.8): a document of its
// own, beside the ballot's report (s.231, s.231B), signed the same way —
// indented JSON ending with LF, in its one accepted form, and its
// signature lines under the scrutineer's key (a signed note, §6.1).
//
// What the statute asks of the report (statutory.md, "s.52"; wording
// from memory there, to be checked against the enacted text):
//   - s.52(1)(a) the number of voting papers distributed: the members
//     entitled to vote in the contest, to whom the service issued one
//     (papers_distributed);
//   - s.52(1)(b) the number returned to the scrutineer (papers_returned);
//   - s.52(1)(c) the number of valid votes cast for each candidate: the
//     first preferences (valid_votes), and every later stage of the STV
//     count (stv.stages[].votes);
//   - s.52(1)(d) the number of spoilt or otherwise invalid papers
//     (spoilt, each with its position and why);
//   - s.52(1)(e) the name of each person appointed under s.51A, or that
//     none was (independent_persons, empty when none);
//   - s.52(2)(a)–(c) whether the scrutineer is satisfied: no contravention,
//     the security of the arrangements, their independence (statements);
//   - s.52(2B) where an independent person other than the scrutineer was
//     appointed, whether the scrutineer is satisfied with their
//     performance (independent_persons[].satisfied);
//   - s.52(2A) whether the scrutineer inspected the register of members'
//     names and addresses (s.24) or examined the copy supplied, and any
//     matter it revealed (register; never a member's name, s.24A).

// ElectionVersion is the version of the election report (protocol 7).
const ElectionVersion = 1

// ElectionDocument is the election report's "document" member.
const ElectionDocument = "Result of a union election (TULRCA 1992 Part I Chapter IV) and scrutineer's report (s.52)"

// ElectionReport is the signed result of one ranked contest and the
// scrutineer's s.52 report on it.
type ElectionReport struct {
	Version  int    `json:"version"`
	Document string `json:"document"`
	// ManifestHash, Contest and Question name the contest: the manifest
	// (contest file) hash, the question's index and its id ("" for a
	// contest file, which names none).
	ManifestHash string `json:"manifest_hash"`
	Contest      int    `json:"contest"`
	Question     string `json:"question"`
	// Title is the office the contest fills (the question's text).
	Title      string `json:"title"`
	Scrutineer string `json:"scrutineer"`
	SignedBy   string `json:"signed_by"` // the scrutineer's key name
	Date       string `json:"date"`
	// Count is everything a recount reproduces exactly (CheckElection).
	Count ElectionCount `json:"count"`
	// Statements are the three s.52(2) statements.
	Statements []Statement `json:"statements"`
	// IndependentPersons are the persons appointed under s.51A (s.52(1)(e));
	// empty when none was.
	IndependentPersons []IndependentPerson `json:"independent_persons"`
	// Register is the s.52(2A) statement on the register.
	Register RegisterStatement `json:"register"`
	Notes    []string          `json:"notes"`
}

// ElectionCount is the counted part of an election report: what the
// scrutineer's tool computes from the contest, the shuffles and the
// trustees' decryptions, and any recount reproduces.
type ElectionCount struct {
	Candidates []string `json:"candidates"` // names, in ballot order
	// Distributed (s.52(1)(a)) is the number of members entitled to
	// vote, 0 when not known; Returned (s.52(1)(b)) the ballots cast,
	// spoilt ones included.
	Distributed int64 `json:"papers_distributed"`
	Returned    int64 `json:"papers_returned"`
	// Turnout is ⌊10000·returned/distributed⌋ as "P.QQ%", "n/a" when
	// distributed is 0 (as the ballot result's turnout, §8.5).
	Turnout string `json:"turnout"`
	// Spoilt (s.52(1)(d)) are the papers set aside, not counted.
	Spoilt []SpoiltPaper `json:"spoilt"`
	// ValidVotes (s.52(1)(c)) are each candidate's valid first
	// preferences: the votes of the count's first stage.
	ValidVotes []string `json:"valid_votes"`
	// Elected are the candidates elected, in order of election (indexes
	// into Candidates, as stv.elected).
	Elected []int `json:"elected"`
	// Shuffles, DecryptedBy, FinalList and Lot are how the count was
	// made (§9.5–§9.7): the verified shuffles, the trustees whose
	// verified partial decryptions were combined, the SHA-256 of the
	// final mixed list and the lot order drawn from it.
	Shuffles    int    `json:"shuffles"`
	DecryptedBy []int  `json:"decrypted_by"`
	FinalList   string `json:"final_list_sha256"`
	Lot         []int  `json:"lot"`
	// STV is the count stage by stage (crypto/stv).
	STV *stv.Result `json:"stv"`
}

// SpoiltPaper is a ballot set aside: its 1-based position among the
// contest's ballots and why.
type SpoiltPaper struct {
	Ballot int    `json:"ballot"`
	Reason string `json:"reason"`
}

// IndependentPerson is a person appointed under s.51A as the report names
// them (s.52(1)(e)): the name the manifest gives, the trustee whose key
// share they hold when the union's rules require it for the count (0
// otherwise), and whether the scrutineer is satisfied with their
// performance (s.52(2B)), with particulars where not.
type IndependentPerson struct {
	Name        string   `json:"name"`
	Trustee     int      `json:"trustee"`
	Satisfied   bool     `json:"satisfied"`
	Particulars []string `json:"particulars"`
}

// RegisterStatement is the s.52(2A) statement: whether the scrutineer
// inspected the register (or examined the copy supplied to them), on
// whose request and any requests declined (particulars), and any matter
// the inspection revealed that should be drawn to the union's attention
// (matters; no member's name).
type RegisterStatement struct {
	Inspected   bool     `json:"inspected"`
	Particulars []string `json:"particulars"`
	Matters     []string `json:"matters"`
}

// ElectionOptions are the scrutineer's own parts of an election report.
type ElectionOptions struct {
	Scrutineer string
	Date       string // YYYY-MM-DD
	// NotSatisfiedA/B/C are particulars where the scrutineer is not
	// satisfied of s.52(2)(a), (b) or (c).
	NotSatisfiedA, NotSatisfiedB, NotSatisfiedC []string
	// IndependentNotSatisfied are particulars where the scrutineer is not
	// satisfied with an independent person's performance (s.52(2B)), by
	// their index in the persons given to NewElection.
	IndependentNotSatisfied map[int][]string
	Register                RegisterStatement
	Notes                   []string
}

// ElectionContest is what the count was of: the contest's identity and
// the independent persons the manifest (or contest file) names.
type ElectionContest struct {
	ManifestHash string
	Contest      int
	Question     string
	Title        string
	Persons      []IndependentPerson // name and trustee; the rest is ignored
}

// electionStatements are the clause and text of the three s.52(2)
// statements (the s.231B(1) texts with "election" for "ballot").
var electionStatements = [3][2]string{
	{"s.52(2)(a)", "There are no reasonable grounds for believing that there was any contravention of a requirement imposed by or under any enactment in relation to the election."},
	{"s.52(2)(b)", "The arrangements made with respect to the production, storage, distribution, return or other handling of the voting papers used in the election, and the arrangements for the counting of the votes, included all such security arrangements as were reasonably practicable for the purpose of minimising the risk that any unfairness or malpractice might occur."},
	{"s.52(2)(c)", "The scrutineer has been able to carry out the scrutineer's functions without such interference as would make it reasonable for any person to call the scrutineer's independence in relation to the union into question."},
}

// Turnout is ⌊10000·returned/distributed⌋ as "P.QQ%", "n/a" when
// distributed is not positive.
func Turnout(returned, distributed int64) string {
	if distributed <= 0 {
		return "n/a"
	}
	t := 10000 * returned / distributed
	return fmt.Sprintf("%d.%02d%%", t/100, t%100)
}

// NewElection makes the election report of a count, to be signed by the
// key named signedBy. The count's Turnout and ValidVotes are filled from
// its other members.
func NewElection(ec ElectionContest, count ElectionCount, signedBy string, o ElectionOptions) *ElectionReport {
	count.Turnout = Turnout(count.Returned, count.Distributed)
	if count.STV != nil && len(count.STV.Stages) > 0 {
		count.ValidVotes = slices.Clone(count.STV.Stages[0].Votes)
		count.Elected = slices.Clone(count.STV.Elected)
	}
	if count.Spoilt == nil {
		count.Spoilt = []SpoiltPaper{}
	}
	rep := &ElectionReport{Version: ElectionVersion, Document: ElectionDocument, ManifestHash: ec.ManifestHash, Contest: ec.Contest,
		Question: ec.Question, Title: ec.Title, Scrutineer: o.Scrutineer, SignedBy: signedBy, Date: o.Date, Count: count,
		IndependentPersons: []IndependentPerson{}, Register: o.Register, Notes: append([]string{}, o.Notes...)}
	if rep.Scrutineer == "" {
		rep.Scrutineer = signedBy
	}
	if rep.Register.Particulars == nil {
		rep.Register.Particulars = []string{}
	}
	if rep.Register.Matters == nil {
		rep.Register.Matters = []string{}
	}
	for i, p := range ec.Persons {
		ps := append([]string{}, o.IndependentNotSatisfied[i]...)
		rep.IndependentPersons = append(rep.IndependentPersons, IndependentPerson{Name: p.Name, Trustee: p.Trustee, Satisfied: len(ps) == 0, Particulars: ps})
	}
	rep.Statements = statements(electionStatements, [3][]string{append([]string{}, o.NotSatisfiedA...), append([]string{}, o.NotSatisfiedB...), append([]string{}, o.NotSatisfiedC...)})
	return rep
}

// SignElection returns the election report's JSON and its signature
// lines: together, a signed note (as Sign for a ballot's report).
func SignElection(rep *ElectionReport, signer note.Signer) (js, sig []byte, err error) {
	return signDocument(rep, signer)
}

// OpenElection checks that sig is the scrutineer's signature of js under
// verifierKey (as Open) and decodes the election report strictly.
func OpenElection(js, sig []byte, verifierKey string) (*ElectionReport, error) {
	text, name, err := openKey(js, sig, verifierKey)
	if err != nil {
		return nil, err
	}
	rep, err := ParseElection([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("report: the signed document is not an election report: %w", err)
	}
	if rep.SignedBy != name {
		return nil, fmt.Errorf("report: the report says it is signed by %q, but the key is %q", rep.SignedBy, name)
	}
	return rep, nil
}

// IsElection reports whether a document (JSON) says it is an election
// report: its document member is ElectionDocument. It decides which
// parser to use, not whether the document is valid.
func IsElection(b []byte) bool {
	var d struct {
		Document string `json:"document"`
	}
	if len(b) > MaxSize || json.Unmarshal(b, &d) != nil {
		return false
	}
	return d.Document == ElectionDocument
}

// ParseElection decodes an election report strictly: its one accepted
// form (no unknown, missing or differently-cased member, integers only),
// its version, the fixed document and statement texts, and a count that
// is consistent with itself (the checks a reader can make without the
// ballots; CheckElection compares it with a recount).
func ParseElection(b []byte) (*ElectionReport, error) {
	if len(b) > MaxSize {
		return nil, errors.New("too large")
	}
	var r ElectionReport
	err := strictJSON(b, &r)
	if err != nil && err != errForm {
		return nil, err
	}
	if r.Version != ElectionVersion {
		return nil, fmt.Errorf("election report version %d is not supported (this reader knows version %d)", r.Version, ElectionVersion)
	}
	if r.Count.STV == nil || len(r.Statements) != 3 {
		return nil, errors.New("not an election report with a count and three statements")
	}
	if err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return &r, nil
}

// check is what ParseElection checks beyond the form.
func (r *ElectionReport) check() error {
	if r.Document != ElectionDocument {
		return fmt.Errorf("the document is %q, not %q", r.Document, ElectionDocument)
	}
	if !dateRE.MatchString(r.Date) {
		return errors.New("the date is not YYYY-MM-DD")
	}
	if len(r.ManifestHash) != 64 || strings.Trim(r.ManifestHash, "0123456789abcdef") != "" {
		return errors.New("manifest_hash: want 64 lowercase hex digits")
	}
	if r.Contest < 0 || r.Contest > 0xffff {
		return errors.New("contest: out of range")
	}
	if r.Title == "" || r.Scrutineer == "" || r.SignedBy == "" {
		return errors.New("the title, the scrutineer and the key's name must not be empty")
	}
	for i, s := range r.Statements {
		if want := electionStatements[i]; s.Clause != want[0] || s.Text != want[1] {
			return fmt.Errorf("statement %d is not the text of %s", i+1, want[0])
		}
		if s.Satisfied != (len(s.Particulars) == 0) {
			return fmt.Errorf("%s: satisfied is %v with %d particulars", s.Clause, s.Satisfied, len(s.Particulars))
		}
	}
	c := &r.Count
	for i, p := range r.IndependentPersons {
		if strings.TrimSpace(p.Name) == "" {
			return fmt.Errorf("independent person %d has no name", i+1)
		}
		if p.Satisfied != (len(p.Particulars) == 0) {
			return fmt.Errorf("independent person %s: satisfied is %v with %d particulars", p.Name, p.Satisfied, len(p.Particulars))
		}
		// s.51A: where the union's rules require their key share, the
		// count was not made without it.
		if p.Trustee < 0 || p.Trustee > 0 && !slices.Contains(c.DecryptedBy, p.Trustee) {
			return fmt.Errorf("independent person %s holds trustee %d's share, which is not among the decryptions the count used %v", p.Name, p.Trustee, c.DecryptedBy)
		}
	}
	return c.check()
}

// check: the count agrees with itself.
func (c *ElectionCount) check() error {
	s := c.STV
	n := len(c.Candidates)
	switch {
	case n < 2 || s.Candidates != n:
		return fmt.Errorf("%d candidates named, the count is of %d", n, s.Candidates)
	case s.Rule != stv.ERS97 && s.Rule != stv.Meek:
		return fmt.Errorf("rule %q is not one of %q, %q", s.Rule, stv.ERS97, stv.Meek)
	case s.Seats < 1 || s.Seats >= n:
		return fmt.Errorf("%d seats for %d candidates", s.Seats, n)
	case len(s.Stages) == 0:
		return errors.New("the count has no stage")
	case c.Distributed < 0 || c.Returned < 0 || c.Distributed > 0 && c.Returned > c.Distributed:
		return fmt.Errorf("%d papers returned of %d distributed", c.Returned, c.Distributed)
	case c.Returned != s.Valid+s.Invalid+int64(len(c.Spoilt)):
		return fmt.Errorf("%d papers returned, but %d counted and %d spoilt", c.Returned, s.Valid+s.Invalid, len(c.Spoilt))
	case c.Turnout != Turnout(c.Returned, c.Distributed):
		return fmt.Errorf("turnout %q, want %q", c.Turnout, Turnout(c.Returned, c.Distributed))
	case !slices.Equal(c.ValidVotes, s.Stages[0].Votes):
		return errors.New("valid_votes are not the votes of the count's first stage")
	case !slices.Equal(c.Elected, s.Elected) || len(c.Elected) > s.Seats:
		return errors.New("elected is not the count's elected candidates")
	case c.Shuffles < 1:
		return errors.New("a ranked count is made only of mixed ballots: no shuffle")
	case len(c.DecryptedBy) == 0:
		return errors.New("no trustee's decryption")
	case len(c.FinalList) != 64 || strings.Trim(c.FinalList, "0123456789abcdef") != "":
		return errors.New("final_list_sha256: want 64 lowercase hex digits")
	case len(c.Lot) != n:
		return fmt.Errorf("the lot orders %d candidates, not %d", len(c.Lot), n)
	}
	for _, e := range c.Elected {
		if e < 0 || e >= n {
			return fmt.Errorf("elected candidate %d does not exist", e)
		}
	}
	for i, st := range s.Stages {
		if len(st.Votes) != n || len(st.States) != n {
			return fmt.Errorf("stage %d: votes or states of %d candidates, not %d", i+1, len(st.Votes), n)
		}
	}
	for i, t := range c.DecryptedBy {
		if t < 1 || i > 0 && t <= c.DecryptedBy[i-1] {
			return errors.New("decrypted_by: want distinct trustee numbers in increasing order")
		}
	}
	last := 0
	for _, sp := range c.Spoilt {
		if sp.Ballot <= last || int64(sp.Ballot) > c.Returned || sp.Reason == "" {
			return errors.New("spoilt: want ballots in increasing order, each with a reason")
		}
		last = sp.Ballot
	}
	return nil
}

// CheckElection compares a signature-checked election report with a
// recount of its contest (the report NewElection makes of the recount,
// whatever its options): the contest's identity, every member of the
// count, and the independent persons' names and trustees, which the
// manifest fixes. The scrutineer's own parts (title, statements,
// satisfaction, register, notes, date) are not compared. It returns every
// discrepancy, each a sentence naming what differs; none means the signed
// count is exactly the recount.
func CheckElection(rep, recount *ElectionReport) []string {
	var out []string
	if rep.ManifestHash != recount.ManifestHash || rep.Contest != recount.Contest || rep.Question != recount.Question {
		out = append(out, fmt.Sprintf("the report is of contest %d (%q) of manifest %s, not contest %d (%q) of manifest %s",
			rep.Contest, rep.Question, rep.ManifestHash, recount.Contest, recount.Question, recount.ManifestHash))
	}
	x, y := jsonTree(rep.Count), jsonTree(recount.Count)
	diffTree([]string{"count"}, x, y, func(path []string, _ string, a, b any) {
		out = append(out, fmt.Sprintf("%s: the report says %s, the recount gives %s", strings.Join(path, "."), show(a), show(b)))
	})
	names := func(ps []IndependentPerson) string {
		var s []string
		for _, p := range ps {
			s = append(s, fmt.Sprintf("%s (trustee %d)", p.Name, p.Trustee))
		}
		return "[" + strings.Join(s, "; ") + "]"
	}
	if a, b := names(rep.IndependentPersons), names(recount.IndependentPersons); a != b {
		out = append(out, fmt.Sprintf("the report names the independent persons %s, the contest %s", a, b))
	}
	return out
}

// jsonTree is v as encoding/json decodes its JSON into any.
func jsonTree(v any) any {
	b, _ := json.Marshal(v)
	var t any
	_ = json.Unmarshal(b, &t)
	return t
}
