// Package register holds the unions' members and each ballot's register
// of members entitled to vote (TULRCA s.227): the import of the
// organiser's register file, the register frozen when the ballot opens
// (voting-paper numbers, the register hash, the members' contacts), and the
// contacts credentials and reminders go to. It owns the tables members,
// register_entries, register_uploads and ballot_contacts ([Store]); it
// knows a ballot only through what the election module tells it
// ([Ballot]).
package register

// Register import: the organiser's CSV of members entitled to vote (TULRCA
// s.227) is parsed and checked here, previewed as a diff against the
// ballot's current register, and committed in one transaction while the
// ballot is a draft. Contacts go to members' personal email and mobile only
// (e-ballot Code; statutory.md §5 C17): employer channels are flagged and
// dropped.
//
// Personal data MUST NOT appear in logs or in report messages: an [Issue]
// names the line and the column, and may carry the member number, but never
// the value of a name, mobile or email.
//
// An issue's reason is a [page.Msg] (catalogue keys register.*, i18n/), so
// the register page shows it in the page's language; its English text is
// kept too, for the CLI, logs and tests.

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/unionvote/eballot/internal/web/page"
)

// Bounds of a register file.
const (
	// MaxBytes bounds the size of a register file.
	MaxBytes = 50 << 20
	// MaxRows bounds the number of members in a register file.
	MaxRows = 1_000_000
	// MaxReportIssues bounds the issues an [Report] lists; further
	// ones are counted in [Report.Omitted].
	MaxReportIssues = 50_000
)

// Field length bounds, in characters, as the schema's CHECKs
// (migrations/0001_init.sql, table members).
const (
	maxMemberNumberLen = 64
	maxNameLen         = 200
	maxEmailLen        = 254
	maxPlaceLen        = 200 // workplace, branch, employer
)

// Register columns. Header names are matched ignoring case, surrounding
// spaces and full stops, with spaces or dashes read as underscores
// ("Member number", "member-number" and "MEMBER_NUMBER" are all
// member_number), and with the usual other spellings of each column
// (regHeaderAliases: "Mobile number", "E-mail address", "Membership
// no." …).
const (
	ColMemberNumber = "member_number"
	ColName         = "name"
	ColMobile       = "mobile"
	ColEmail        = "email"
	ColWorkplace    = "workplace"
	ColBranch       = "branch"
	ColEmployer     = "employer"
	// ColLanguage is the member's preferred language, optional: English
	// or Welsh ("en", "English", "Saesneg"; "cy", "Welsh", "Cymraeg"),
	// blank for no preference. Invitations and reminders go in it.
	ColLanguage = "language"
)

// regColumns lists every known column; the first five are required.
var regColumns = []string{ColMemberNumber, ColName, ColMobile, ColEmail, ColWorkplace, ColBranch, ColEmployer, ColLanguage}

const regRequiredColumns = 5

// Errors of the register import, besides the election module's errors for
// the ballot ([Ballots]: no such ballot, HTTP 404; the ballot has opened,
// so its register is frozen (s.227): changes are reasoned amendments, not
// imports; HTTP 409).
var (
	// ErrInvalid (422): the file has errors ([Report.Errors] > 0) and
	// cannot be previewed or committed: sending it again cannot succeed,
	// the file must be corrected.
	ErrInvalid = page.NewError("register: register file has errors", http.StatusUnprocessableEntity, "register_invalid", "register.err.invalid")
	// ErrStale (409): the ballot's workplaces changed since the file was
	// checked; parse it again against the current configuration.
	ErrStale = page.NewError("register: ballot workplaces changed since the register was checked", http.StatusConflict, "register_stale", "register.err.stale")
)

// Severity says whether an [Issue] blocks the import.
type Severity int

const (
	// SeverityError blocks the import.
	SeverityError Severity = iota + 1
	// SeverityWarning is shown to the organiser; the import may go ahead.
	SeverityWarning
)

func (s Severity) String() string {
	switch s {
	case SeverityError:
		return "error"
	case SeverityWarning:
		return "warning"
	}
	return "unknown"
}

// Issue is one problem found in a register file. Msg is the reason for
// people (shown in the page's language) and Message its English text; they
// MUST NOT contain a name, mobile or email (they may contain the member
// number and the workplace as written). Code is stable, for machines and
// tests (e.g. "mobile.not_mobile").
type Issue struct {
	Line         int    // line where the record starts (1 = header); 0 = the whole file
	Column       string // register column, "" for the whole row or file
	Code         string
	Severity     Severity
	MemberNumber string // when the row has a valid one
	OtherLine    int    // for duplicates: the line of the first occurrence
	Msg          page.Msg
	Message      string // english(Msg)
}

// newIssue is an issue with its reason m, and m's English text.
func newIssue(line int, column, code string, sev Severity, m page.Msg) Issue {
	return Issue{Line: line, Column: column, Code: code, Severity: sev, Msg: m, Message: english(m)}
}

func (i Issue) String() string {
	var b strings.Builder
	if i.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", i.Line)
	} else {
		b.WriteString("file: ")
	}
	if i.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(i.Message)
	return b.String()
}

// Report is the outcome of checking a register file.
type Report struct {
	Rows     int // data rows read (header excluded)
	Errors   int // issues of SeverityError, listed or omitted
	Warnings int // issues of SeverityWarning, listed or omitted
	Issues   []Issue
	Omitted  int // issues not listed beyond MaxReportIssues
	// Skipped is the number of rows left out of the import for their
	// errors (each listed with its line and reason); the file's other
	// members are imported.
	Skipped int
	// fileErrors: errors of the whole file (Line 0), which block it.
	fileErrors int
}

// Importable is the number of valid members the file would import.
func (r *Report) Importable() int { return r.Rows - r.Skipped }

// OK says whether the file may be imported: no error of the whole file
// (header, encoding, size, no valid member). Rows with errors do not
// block it: they are skipped and listed (Skipped), every valid member is
// imported, and an unusable contact is only a warning (the member is
// imported without it: with no contact left, they are sent a postal
// pack, s.230(2)).
func (r *Report) OK() bool { return r.fileErrors == 0 }

func (r *Report) add(is Issue) {
	if is.Severity == SeverityError {
		r.Errors++
		if is.Line == 0 {
			r.fileErrors++
		}
	} else {
		r.Warnings++
	}
	if len(r.Issues) >= MaxReportIssues {
		r.Omitted++
		return
	}
	r.Issues = append(r.Issues, is)
}

// Row is one valid member of a register file, normalised: the
// mobile in E.164 or "", the email with a lower-case domain or "", the
// workplace as configured, the employer as configured for the workplace
// (else as written in the file).
type Row struct {
	Line         int
	MemberNumber string
	Name         string
	Mobile       string
	Email        string
	Workplace    Workplace
	Branch       string
	Employer     string
	Language     string // "en", "cy", or "" (no preference given)
}

// File is a checked register file. Rows holds the valid rows; a
// file whose report has errors cannot be previewed or committed.
type File struct {
	Rows []Row
	// SHA256 is the digest of the file's bytes, for the audit log entry
	// recording the import.
	SHA256 [32]byte
	errors int
}

// ContactPolicy says which contacts are employer channels, from the
// union's employer_email_domains and work_phone_numbers.
type ContactPolicy struct {
	// EmployerEmailDomains: an email at one of these domains, or at a
	// subdomain of one, is an employer address ("@" and "*." prefixes are
	// ignored).
	EmployerEmailDomains []string
	// WorkPhoneNumbers: numbers (any format, GB by default) of employer
	// phones; an entry ending in "*" matches every number with that prefix.
	WorkPhoneNumbers []string
	// AllowFictionalNumbers accepts Ofcom's drama range 07700 900000–900999
	// as mobiles: for the demo and tests only, never in production.
	AllowFictionalNumbers bool
}

type regPolicy struct {
	domains     []string
	phones      map[string]bool
	prefixes    []string
	fictional   bool
	badEntries  int
	workplaceBy map[string]Workplace
}

func regCompilePolicy(p ContactPolicy, workplaces []Workplace) *regPolicy {
	rp := &regPolicy{phones: map[string]bool{}, fictional: p.AllowFictionalNumbers, workplaceBy: map[string]Workplace{}}
	for _, d := range p.EmployerEmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		d = strings.TrimPrefix(strings.TrimPrefix(d, "@"), "*.")
		d = strings.Trim(d, ".")
		if d != "" {
			rp.domains = append(rp.domains, d)
		}
	}
	for _, n := range p.WorkPhoneNumbers {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if p, ok := strings.CutSuffix(n, "*"); ok {
			digits := regDigitsPrefix(p)
			if digits == "" {
				rp.badEntries++
				continue
			}
			rp.prefixes = append(rp.prefixes, digits)
			continue
		}
		num, err := phonenumbers.Parse(n, "GB")
		if err != nil {
			rp.badEntries++
			continue
		}
		rp.phones[phonenumbers.Format(num, phonenumbers.E164)] = true
	}
	for _, w := range workplaces {
		k := strings.ToLower(strings.TrimSpace(w.Name))
		if _, dup := rp.workplaceBy[k]; !dup {
			rp.workplaceBy[k] = w
		}
	}
	return rp
}

// regDigitsPrefix turns a prefix pattern into an E.164 prefix: "+44 29 20"
// stays international, "029 20" becomes "+4429 20" (GB), digits only.
func regDigitsPrefix(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	t := strings.TrimSpace(p)
	switch {
	case d == "":
		return ""
	case strings.HasPrefix(t, "+"):
		return "+" + d
	case strings.HasPrefix(d, "00"):
		return "+" + d[2:]
	case strings.HasPrefix(d, "0"):
		return "+44" + d[1:]
	}
	return "+" + d
}

func (rp *regPolicy) employerDomain(email string) bool {
	at := strings.LastIndexByte(email, '@')
	dom := email[at+1:]
	for _, d := range rp.domains {
		if dom == d || strings.HasSuffix(dom, "."+d) {
			return true
		}
	}
	return false
}

func (rp *regPolicy) workPhone(e164 string) bool {
	if rp.phones[e164] {
		return true
	}
	for _, p := range rp.prefixes {
		if strings.HasPrefix(e164, p) {
			return true
		}
	}
	return false
}

// regLimitReader fails once more than n bytes are read.
type regLimitReader struct {
	r io.Reader
	n int64
	h hash.Hash
}

var errRegTooLarge = fmt.Errorf("file is larger than %d MiB", MaxBytes>>20)

// msgRegTooLarge is errRegTooLarge's message.
var msgRegTooLarge = page.M("register.too_large", MaxBytes>>20)

func (l *regLimitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errRegTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.h.Write(p[:n])
	l.n -= int64(n)
	if l.n < 0 {
		return 0, errRegTooLarge
	}
	return n, err
}

// regHeaderAliases are the other spellings of the columns that registers
// exported from membership systems and spreadsheets use (normalised).
var regHeaderAliases = map[string]string{
	"membership_number": ColMemberNumber, "member_no": ColMemberNumber, "membership_no": ColMemberNumber,
	"member_id": ColMemberNumber, "membership_id": ColMemberNumber, "number": ColMemberNumber,
	"full_name": ColName, "member_name": ColName, "names": ColName,
	"mobile_number": ColMobile, "mobile_phone": ColMobile, "mobile_phone_number": ColMobile, "mobile_no": ColMobile,
	"mobile_telephone": ColMobile, "mobile_tel": ColMobile, "cell_phone": ColMobile, "cellphone": ColMobile,
	"e_mail": ColEmail, "email_address": ColEmail, "e_mail_address": ColEmail, "emailaddress": ColEmail,
	"work_place": ColWorkplace, "workplace_name": ColWorkplace, "place_of_work": ColWorkplace, "site": ColWorkplace,
	"branch_name": ColBranch, "employer_name": ColEmployer,
	"preferred_language": ColLanguage, "language_preference": ColLanguage, "lang": ColLanguage,
	"iaith": ColLanguage, "dewis_iaith": ColLanguage, "welsh_or_english": ColLanguage,
}

// regLanguages reads the usual ways of writing a preferred language
// (lower-cased): English or Welsh, in either language.
var regLanguages = map[string]string{
	"en": "en", "eng": "en", "english": "en", "saesneg": "en", "e": "en",
	"cy": "cy", "cym": "cy", "welsh": "cy", "cymraeg": "cy", "w": "cy",
}

// regNormHeader reads a header cell as a column name.
func regNormHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "_", "-", "_", ".", "").Replace(s)
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	s = strings.Trim(s, "_")
	if c, ok := regHeaderAliases[s]; ok {
		return c
	}
	return s
}

// Parse reads and checks a register file: CSV (RFC 4180, comma
// separated), UTF-8 with an optional byte order mark, a header row naming
// the columns in any order — member_number, name, mobile, email and
// workplace are required, branch, employer and language optional — and one member
// per row. It reports every problem of every row, never stopping at the
// first, and returns the valid rows; the file may be imported only when
// report.OK(). workplaces are the ballot's; policy the union's
// employer channels. Parse never panics and reads at most
// MaxBytes+1 bytes of r.
func Parse(r io.Reader, workplaces []Workplace, policy ContactPolicy) (*File, *Report) {
	rep := &Report{}
	file := &File{}
	defer func() { file.errors = rep.fileErrors }()
	fileErr := func(code string, m page.Msg) {
		rep.add(newIssue(0, "", code, SeverityError, m))
	}
	if len(workplaces) == 0 {
		fileErr("config.no_workplaces", page.M("register.no_workplaces"))
		return file, rep
	}
	rp := regCompilePolicy(policy, workplaces)
	if rp.badEntries > 0 {
		rep.add(newIssue(0, "", "policy.bad_work_phone", SeverityWarning, page.M("register.bad_work_phones", rp.badEntries)))
	}

	h := sha256.New()
	lr := &regLimitReader{r: r, n: MaxBytes, h: h}
	br := bufio.NewReaderSize(lr, 64<<10)
	defer func() {
		// The digest covers the bytes read: the whole file, unless the
		// check stopped early on a file-level error.
		copy(file.SHA256[:], h.Sum(nil))
	}()
	if b, err := br.Peek(3); err == nil || len(b) > 0 {
		switch {
		case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
			_, _ = br.Discard(3)
		case len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF):
			fileErr("file.utf16", page.M("register.utf16"))
			return file, rep
		}
	}

	cr := csv.NewReader(br)
	header, err := cr.Read()
	if err == io.EOF {
		fileErr("file.empty", page.M("register.empty"))
		return file, rep
	}
	if errors.Is(err, errRegTooLarge) {
		fileErr("file.too_large", msgRegTooLarge)
		return file, rep
	}
	if err != nil {
		fileErr("file.header", page.M("register.header_unreadable", regCSVReason(err)))
		return file, rep
	}
	idx := map[string]int{}
	var unknown []page.Msg
	var dups, missing []string
	for i, hcell := range header {
		if !utf8.ValidString(hcell) {
			fileErr("file.encoding", page.M("register.header_encoding"))
			return file, rep
		}
		name := regNormHeader(hcell)
		known := false
		for _, c := range regColumns {
			if c == name {
				known = true
			}
		}
		switch {
		case !known:
			// Echo only what looks like a column name.
			if regColumnNameRE.MatchString(strings.TrimSpace(hcell)) {
				unknown = append(unknown, page.English(fmt.Sprintf("%q", strings.TrimSpace(hcell))))
			} else {
				unknown = append(unknown, page.M("register.column_n", i+1))
			}
		case idx[name] > 0:
			dups = append(dups, name)
		default:
			idx[name] = i + 1 // 1-based so that 0 means absent
		}
	}
	for _, c := range regColumns[:regRequiredColumns] {
		if idx[c] == 0 {
			missing = append(missing, c)
		}
	}
	if len(idx) == 0 {
		// No column is known: the first line is most likely a member, so
		// none of it is echoed.
		fileErr("file.columns", page.M("register.no_header", strings.Join(regColumns, ", ")))
		return file, rep
	}
	if len(unknown)+len(dups)+len(missing) > 0 {
		var parts []page.Msg
		if len(missing) > 0 {
			parts = append(parts, page.M("register.columns_missing", strings.Join(missing, ", ")))
		}
		if len(unknown) > 0 {
			parts = append(parts, page.M("register.columns_unknown", regList(unknown)))
		}
		if len(dups) > 0 {
			parts = append(parts, page.M("register.columns_twice", strings.Join(dups, ", ")))
		}
		fileErr("file.columns", page.M("register.header_wrong", parts, strings.Join(regColumns, ", ")))
		return file, rep
	}
	cr.FieldsPerRecord = len(header)
	col := func(rec []string, name string) string {
		if i := idx[name]; i > 0 {
			return strings.TrimSpace(rec[i-1])
		}
		return ""
	}

	// Read every record first (the CSV is sequential), check the rows in
	// parallel (phone number validation dominates the cost), then merge the
	// results in file order and find duplicates.
	type record struct {
		line   int
		fields []string
		issue  *Issue // a row that is not valid CSV
	}
	var recs []record
	var fileIssue *Issue
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			is := newIssue(0, "", "file.read", SeverityError, page.M("register.unreadable"))
			if errors.Is(err, errRegTooLarge) {
				is = newIssue(0, "", "file.too_large", SeverityError, msgRegTooLarge)
			}
			fileIssue = &is
			break
		}
		if len(recs) >= MaxRows {
			is := newIssue(0, "", "file.too_many_rows", SeverityError, page.M("register.too_many_rows", MaxRows))
			fileIssue = &is
			break
		}
		switch {
		case pe != nil && errors.Is(err, csv.ErrFieldCount):
			is := newIssue(pe.StartLine, "", "row.columns", SeverityError, page.M("register.row_columns", len(rec), len(header)))
			recs = append(recs, record{line: pe.StartLine, issue: &is})
		case pe != nil:
			is := newIssue(pe.StartLine, "", "row.csv", SeverityError, page.M("register.row_csv", regCSVReason(err)))
			recs = append(recs, record{line: pe.StartLine, issue: &is})
		default:
			line, _ := cr.FieldPos(0)
			recs = append(recs, record{line: line, fields: rec})
		}
	}
	rep.Rows = len(recs)

	type result struct {
		row    Row
		ok     bool
		issues []Issue
	}
	results := make([]result, len(recs))
	check := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if recs[i].issue != nil {
				results[i].issues = []Issue{*recs[i].issue}
				continue
			}
			res := &results[i]
			res.row, res.ok = regCheckRow(&res.issues, rp, recs[i].line, recs[i].fields, col)
		}
	}
	if workers := min(runtime.GOMAXPROCS(0), len(recs)/1000); workers <= 1 {
		check(0, len(recs))
	} else {
		var wg sync.WaitGroup
		chunk := (len(recs) + workers - 1) / workers
		for lo := 0; lo < len(recs); lo += chunk {
			wg.Add(1)
			go func() {
				defer wg.Done()
				check(lo, min(lo+chunk, len(recs)))
			}()
		}
		wg.Wait()
	}

	seenMember := map[string]int{}
	seenMobile := map[string]int{}
	seenEmail := map[string]int{}
	for i := range results {
		res := &results[i]
		for _, is := range res.issues {
			rep.add(is)
		}
		if recs[i].issue != nil {
			rep.Skipped++
			continue
		}
		row, line := res.row, recs[i].line
		if !res.ok {
			rep.Skipped++
		}
		// Duplicates are checked on rows with other errors too, so that
		// fixing one row does not reveal a new error in another.
		if row.MemberNumber != "" {
			if first, dup := seenMember[row.MemberNumber]; dup {
				is := newIssue(line, ColMemberNumber, "member_number.duplicate", SeverityError,
					page.M("register.duplicate", row.MemberNumber, first, line))
				is.MemberNumber, is.OtherLine = row.MemberNumber, first
				rep.add(is)
				if res.ok {
					rep.Skipped++
				}
				continue
			}
			seenMember[row.MemberNumber] = line
		}
		if !res.ok {
			continue
		}
		// The same mobile or email for two members is a warning, not an
		// error: households share a phone or an address, and refusing
		// them would leave a member without a vote (s.227 equal
		// entitlement). Whoever holds the contact can receive both
		// credentials, so the scrutineer is told (both lines named).
		if row.Mobile != "" {
			if first, dup := seenMobile[row.Mobile]; dup {
				is := newIssue(line, ColMobile, "mobile.shared", SeverityWarning, page.M("register.mobile_shared", row.MemberNumber, first))
				is.MemberNumber, is.OtherLine = row.MemberNumber, first
				rep.add(is)
			} else {
				seenMobile[row.Mobile] = line
			}
		}
		if row.Email != "" {
			k := strings.ToLower(row.Email)
			if first, dup := seenEmail[k]; dup {
				is := newIssue(line, ColEmail, "email.shared", SeverityWarning, page.M("register.email_shared", row.MemberNumber, first))
				is.MemberNumber, is.OtherLine = row.MemberNumber, first
				rep.add(is)
			} else {
				seenEmail[k] = line
			}
		}
		file.Rows = append(file.Rows, row)
	}
	switch {
	case fileIssue != nil:
		rep.add(*fileIssue)
	case rep.Rows == 0:
		fileErr("file.no_members", page.M("register.no_members"))
	case len(file.Rows) == 0:
		fileErr("file.no_valid_members", page.M("register.no_valid_members"))
	}
	if rep.fileErrors > 0 {
		file.Rows = nil
	}
	return file, rep
}

// regCSVReason is the reason of a CSV parse error without its position
// (the issue gives the line).
func regCSVReason(err error) page.Msg {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrQuote):
			return page.M("register.csv_quote")
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return page.M("register.csv_bare_quote")
		}
		// encoding/csv has no other parse error here (ErrFieldCount is
		// its own issue): its text, untranslated.
		return page.English(pe.Err.Error())
	}
	return page.M("register.csv_unreadable")
}

// regMaxListed bounds the unknown header cells an issue lists.
const regMaxListed = 20

// regList is a list of items separated by commas: the first regMaxListed,
// then how many more there are.
func regList(items []page.Msg) page.Msg {
	n := min(len(items), regMaxListed)
	list := items[0]
	for _, it := range items[1:n] {
		list = page.M("register.list", list, it)
	}
	if len(items) > n {
		list = page.M("register.list_more", list, len(items)-n)
	}
	return list
}

// regCheckRow checks one record, appending its issues; ok is false when
// the row has errors. It is safe to call concurrently. The
// returned row carries the member number when that column itself is valid.
func regCheckRow(issues *[]Issue, rp *regPolicy, line int, rec []string, col func([]string, string) string) (row Row, ok bool) {
	row.Line = line
	errs := 0
	issue := func(column, code string, sev Severity, m page.Msg) {
		if sev == SeverityError {
			errs++
		}
		is := newIssue(line, column, code, sev, m)
		is.MemberNumber = row.MemberNumber
		*issues = append(*issues, is)
	}
	for _, f := range rec {
		if !utf8.ValidString(f) {
			issue("", "row.encoding", SeverityError, page.M("register.row_encoding"))
			return row, false
		}
	}
	// text checks the shared rules of a text field; it reports and returns
	// false when the value is unusable.
	text := func(column, v string, required bool, max int) bool {
		switch {
		case v == "" && required:
			issue(column, column+".missing", SeverityError, page.M("register.missing", column))
			return false
		case regHasControl(v):
			issue(column, column+".control", SeverityError, page.M("register.control", column))
			return false
		case utf8.RuneCountInString(v) > max:
			issue(column, column+".too_long", SeverityError, page.M("register.too_long", column, max))
			return false
		}
		return true
	}
	if mn := col(rec, ColMemberNumber); text(ColMemberNumber, mn, true, maxMemberNumberLen) {
		row.MemberNumber = mn
	}
	if v := col(rec, ColName); text(ColName, v, true, maxNameLen) {
		row.Name = v
	}
	if v := col(rec, ColBranch); text(ColBranch, v, false, maxPlaceLen) {
		row.Branch = v
	}
	employer := col(rec, ColEmployer)
	employerOK := text(ColEmployer, employer, false, maxPlaceLen)
	if v := col(rec, ColWorkplace); text(ColWorkplace, v, true, maxPlaceLen) {
		w, found := rp.workplaceBy[strings.ToLower(v)]
		switch {
		case !found:
			issue(ColWorkplace, "workplace.unknown", SeverityError, page.M("register.workplace_unknown", regEcho(v)))
		default:
			row.Workplace = w
			row.Employer = w.Employer
			switch {
			case !employerOK:
			case employer != "" && w.Employer != "" && !regSameName(employer, w.Employer):
				issue(ColEmployer, "employer.mismatch", SeverityError, page.M("register.employer_mismatch", regEcho(employer), w.Name))
			case w.Employer == "" && employer != "":
				row.Employer = employer
			case w.Employer == "" && employer == "":
				issue(ColEmployer, "employer.missing", SeverityWarning, page.M("register.employer_missing"))
			}
		}
	}

	// An unusable contact is treated as missing: the member stays on the
	// register (s.227: entitled whatever their contact data), the issue
	// says why the contact is not used, and a member left with no contact
	// is sent a postal pack (s.230(2)).
	contact := func(column, v string, max int) bool {
		switch {
		case regHasControl(v):
			issue(column, column+".control", SeverityWarning, page.M("register.unusable", page.M("register.control", column)))
			return false
		case utf8.RuneCountInString(v) > max:
			issue(column, column+".too_long", SeverityWarning, page.M("register.unusable", page.M("register.too_long", column, max)))
			return false
		}
		return true
	}
	mobile := col(rec, ColMobile)
	if mobile != "" && contact(ColMobile, mobile, 64) {
		e164, code, m, sev := regMobile(rp, mobile)
		switch {
		case code == "":
			row.Mobile = e164
		case sev == SeverityWarning && e164 != "":
			row.Mobile = e164
			issue(ColMobile, code, sev, m)
		default:
			issue(ColMobile, code, SeverityWarning, page.M("register.unusable", m))
		}
	}
	email := col(rec, ColEmail)
	if email != "" && contact(ColEmail, email, maxEmailLen) {
		norm, okEmail := regEmail(email)
		switch {
		case !okEmail:
			issue(ColEmail, "email.invalid", SeverityWarning, page.M("register.unusable", page.M("register.email_invalid")))
		case rp.employerDomain(norm):
			issue(ColEmail, "email.employer", SeverityWarning, page.M("register.email_employer"))
		default:
			row.Email = norm
		}
	}
	// A language the service does not know is a warning: the member is
	// imported with no preference (invitations and reminders follow the
	// ballot's languages).
	if v := col(rec, ColLanguage); v != "" {
		if l, ok := regLanguages[strings.ToLower(v)]; ok {
			row.Language = l
		} else {
			issue(ColLanguage, "language.unknown", SeverityWarning, page.M("register.language_unknown"))
		}
	}
	if errs > 0 {
		return row, false
	}
	// A member without an e-contact is still entitled (s.227): they get a
	// postal pack (hybrid ballot, s.230(2)). So this is a warning.
	if row.Mobile == "" && row.Email == "" {
		issue("", "contact.none", SeverityWarning, page.M("register.contact_none"))
	}
	return row, true
}

// regMobile normalises a mobile number to E.164. code is "" when it is a
// usable mobile; a warning keeps e164, an error clears it.
func regMobile(rp *regPolicy, s string) (e164, code string, m page.Msg, sev Severity) {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || strings.ContainsRune("+ ()-.", r)) {
			return "", "mobile.characters", page.M("register.mobile_characters"), SeverityError
		}
	}
	num, ok := regFastUK(s)
	if !ok {
		var err error
		if num, err = phonenumbers.Parse(s, "GB"); err != nil {
			return "", "mobile.invalid", page.M("register.mobile_not_phone"), SeverityError
		}
	}
	if num.GetExtension() != "" {
		return "", "mobile.invalid", page.M("register.mobile_invalid"), SeverityError
	}
	e164 = phonenumbers.Format(num, phonenumbers.E164)
	if regFictionalRE.MatchString(e164) && !rp.fictional {
		// Ofcom reserves 07700 900000–900999 for TV and radio drama: no
		// such phone exists, so no code or invitation could reach it.
		return "", "mobile.fictional", page.M("register.mobile_fictional"), SeverityError
	}
	fictional := rp.fictional && regFictionalRE.MatchString(e164)
	if !fictional {
		// GetNumberType is UNKNOWN exactly when the number is not valid
		// (IsValidNumber would repeat the costly region lookup).
		typ := phonenumbers.GetNumberType(num)
		if typ == phonenumbers.UNKNOWN || !regE164RE.MatchString(e164) {
			return "", "mobile.invalid", page.M("register.mobile_invalid"), SeverityError
		}
		if num.GetCountryCode() == 44 {
			if typ != phonenumbers.MOBILE {
				return "", "mobile.not_mobile", page.M("register.mobile_not_uk_mobile"), SeverityError
			}
		} else if typ != phonenumbers.MOBILE && typ != phonenumbers.FIXED_LINE_OR_MOBILE {
			return "", "mobile.not_mobile", page.M("register.mobile_not_mobile"), SeverityError
		}
	}
	if rp.workPhone(e164) {
		return "", "mobile.work", page.M("register.mobile_work"), SeverityWarning
	}
	if num.GetCountryCode() != 44 {
		return e164, "mobile.abroad", page.M("register.mobile_abroad"), SeverityWarning
	}
	return e164, "", page.Msg{}, 0
}

// regFastUK reads the usual spellings of a UK mobile number ("07…",
// "+447…", "00447…", 11 or 12 digits with spaces, dashes or parentheses)
// into what phonenumbers.Parse(s, "GB") would return, without its regular
// expressions (which dominate the cost of a large import). Anything else
// is left to phonenumbers.Parse.
func regFastUK(s string) (*phonenumbers.PhoneNumber, bool) {
	var d [16]byte
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(d) {
				return nil, false
			}
			d[n] = c
			n++
		case c == '+' && n == 0 && !plus:
			plus = true
		case c == ' ' || c == '-' || c == '(' || c == ')':
		default:
			return nil, false
		}
	}
	digits := string(d[:n])
	var nsn string
	switch {
	case !plus && n == 11 && strings.HasPrefix(digits, "07"):
		nsn = digits[1:]
	case plus && n == 12 && strings.HasPrefix(digits, "447"):
		nsn = digits[2:]
	case !plus && n == 14 && strings.HasPrefix(digits, "00447"):
		nsn = digits[4:]
	default:
		return nil, false
	}
	var nn uint64
	for i := 0; i < len(nsn); i++ {
		nn = nn*10 + uint64(nsn[i]-'0')
	}
	cc := int32(44)
	return &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &nn}, true
}

var (
	regColumnNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z _-]{0,39}$`)
	regE164RE       = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`) // as the schema's CHECK
	regFictionalRE  = regexp.MustCompile(`^\+447700900[0-9]{3}$`)
)

// regEmail checks a bare address (no display name, no comments, no angle
// brackets) with a host name domain, and lower-cases the domain.
func regEmail(s string) (string, bool) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 {
		return "", false
	}
	dom := strings.ToLower(s[at+1:])
	labels := strings.Split(dom, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r >= 0x80) {
				return "", false
			}
		}
	}
	return s[:at+1] + dom, true
}

// regHasControl reports control characters (C0, DEL, C1) and the invisible
// bidirectional and zero-width formatting characters that can disguise a
// name on screen.
func regHasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
		switch {
		case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0xFEFF:
			return true
		}
	}
	return false
}

// regEcho quotes a workplace or employer as written, followed by a space,
// when it looks like the name of a place or an organisation; otherwise
// (a misplaced email, phone number or other data) it echoes nothing.
func regEcho(v string) string {
	if !regPlaceRE.MatchString(v) || regDigitsRE.MatchString(v) {
		return ""
	}
	return fmt.Sprintf("%q ", regTruncate(v, 60))
}

var (
	regPlaceRE  = regexp.MustCompile(`^[\p{L}\p{N} .,'&()/-]+$`)
	regDigitsRE = regexp.MustCompile(`[0-9]{5,}`)
)

func regSameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

func regTruncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
