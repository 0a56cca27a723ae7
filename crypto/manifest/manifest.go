// Package manifest implements the election manifest of the eBallot protocol
// (docs/protocol.md §3): the [Manifest] type, its canonical JSON form and
// manifest_hash = SHA-256(canonical_json(manifest)), and a strict decoder.
//
// What it guarantees: [Parse] accepts only a manifest that is valid JSON in
// the canonical subset (UTF-8, integers only, no duplicate keys), has exactly
// the fields of its version, 1 or 2 (unknown, missing or differently-cased
// fields are rejected) and satisfies every bound listed on [Manifest]; [Manifest.Hash]
// equals SHA-256 of the bytes JavaScript computes with JSON.stringify over a
// key-sorted copy (crypto/js canonical.mjs). Every ballot proof and
// authorisation is bound to this hash.
//
// What it assumes: SHA-256 is collision resistant. It does not check that
// issuer keys or the election key come from an honest ceremony; that is the
// scrutineer's job (protocol §7, §8).
package manifest

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/unionvote/eballot/crypto/elgamal"
	"github.com/unionvote/eballot/crypto/internal/enc"
	"github.com/unionvote/eballot/crypto/internal/snote"
	"github.com/unionvote/eballot/crypto/ranked"
)

// Manifest versions (docs/protocol.md §3). Version 1 is the manifest of
// choose questions only; version 2 adds ranked (STV) questions
// (Question.Method, Seats, Rule) and candidates' election addresses
// (Option.Address). A version-1 manifest must not use a version-2 field;
// a version-2 manifest may use any or none. A version-1 manifest parses
// and hashes exactly as before version 2 existed.
const (
	Version  = 1
	Version2 = 2
)

// Question methods (Question.Method). The empty method is choose-up-to-N
// (homomorphic tally, min/max marks), the only method of version 1.
const (
	MethodChoose = ""
	MethodRanked = "ranked"
	// MethodCompact (protocol 7, manifest version 2) is a choose question
	// of exactly two options and at most one mark (a yes/no question) whose
	// ballots carry one ciphertext of 0 (no mark), 1 (option 0) or
	// [CompactBase] (option 1) with one proof: ballot version 3 (§4.2).
	MethodCompact = "compact"
)

// CompactBase is B of a compact question (protocol §4.2 version 3): option
// 1 is encrypted as B, so a sum of n ballots is yes + B·no, which decodes
// uniquely while n < B. A style's ballots of a compact question must be
// fewer than B (2^24 = 16,777,216).
const CompactBase = 1 << 24

// CompactSize is the size of a compact question's part of a ballot: α, β
// and a proof of 3 branches (2 when min is 1).
func CompactSize(min int) int { return 64 + (3-min)*128 }

// STV rules of a ranked question (Question.Rule), as crypto/stv names them
// (docs/protocol.md §9.7).
var Rules = []string{"ers97", "meek"}

// Bounds enforced by [Manifest.Validate] and [Parse].
const (
	MaxSize       = 1 << 20 // encoded manifest, bytes
	MaxQuestions  = 32
	MinOptions    = 2
	MaxOptions    = 64
	MaxStyles     = 1024
	MaxTrustees   = 32 // = threshold.MaxTrustees: a larger set could not be tallied
	MaxTexts      = 64
	MaxTextLen    = 64 << 10 // bytes, for question text and texts values
	MaxShortLen   = 512      // bytes, for titles, labels, names and text keys
	MaxEntitled   = 1 << 40
	IssuerKeyBits = 2048
	TimeFormat    = "2006-01-02T15:04:05Z"
)

// Kinds of ballot.
var Kinds = []string{"industrial_action", "union_election", "political_fund", "merger", "recognition", "other"}

var (
	// ErrMalformed is returned by [Parse] for input that is not a
	// canonical-JSON-representable object of exactly the version-1 shape.
	ErrMalformed = errors.New("manifest: malformed")
	// ErrInvalid is returned (wrapped, with the field) when a field is out
	// of bounds or badly formatted.
	ErrInvalid = errors.New("manifest: invalid")
	// ErrNoStyle is returned by [Manifest.Style] for an unknown style.
	ErrNoStyle = errors.New("manifest: no such style")
)

// Manifest is the election manifest (protocol §3), version 1 or 2.
//
// Bounds: version 1 or 2, and version 2 when a question has a method or
// an option an address; election_id and every question, option and style id
// match [a-z0-9-]{1,64} and are unique in their list; kind is one of [Kinds];
// title, names, labels and text keys are 1–512 bytes, question texts and
// texts values 1–65536 bytes, all valid UTF-8; opens_at < closes_at, both
// RFC 3339 UTC with seconds precision (2006-01-02T15:04:05Z); at most 64
// texts; 1–32 questions of 2–64 options with 0 ≤ min ≤ max ≤ options and
// max ≥ 1; a ranked question (version 2, kind union_election) has
// 1 ≤ seats < options and a rule of [Rules], a choose question neither;
// an address is 64 lowercase hex digits; 1–1024 styles, each with an RSA-2048, e = 65537 issuer key (base64 std
// padded DER SubjectPublicKeyInfo, canonical) and 0 ≤ entitled ≤ 2^40;
// the encrypted ballot fits in [MaxBallotSize]; trustees: 1 ≤ threshold ≤ len(public_keys) ≤ 32, every key 64 lowercase
// hex of a canonical non-identity ristretto255 element, election_key
// likewise; log_key a note verifier key name+hash+base64 with a matching
// hash and an Ed25519 key.
type Manifest struct {
	Version    int               `json:"version"`
	ElectionID string            `json:"election_id"`
	Kind       string            `json:"kind"`
	Title      string            `json:"title"`
	OpensAt    string            `json:"opens_at"`
	ClosesAt   string            `json:"closes_at"`
	Texts      map[string]string `json:"texts"`
	Questions  []Question        `json:"questions"`
	Styles     []Style           `json:"styles"`
	Trustees   Trustees          `json:"trustees"`
	LogKey     string            `json:"log_key"`
	// Translations is the voting paper in other languages, keyed by
	// language: only "cy" (Welsh) is defined. Omitted when empty, so a
	// manifest without it hashes as before (docs/protocol.md §3.1).
	Translations map[string]Translation `json:"translations,omitempty"`
	// Regime is the legal regime of a statutory ballot; required for an
	// industrial_action ballot, absent (never null) otherwise when the
	// service has none to state.
	Regime *Regime `json:"regime,omitempty"`
	// IndependentPerson (protocol 7) is the person the union appointed
	// under TULRCA s.51A (elections; s.77A political fund, s.100D merger
	// ballots) for the storage and distribution of the voting papers and
	// the counting of the votes, and, where the union's rules require it,
	// the trustee whose key share they hold: no count is made without
	// that trustee's decryption. Omitted when absent (never null), so a
	// manifest without it hashes as before.
	IndependentPerson *IndependentPerson `json:"independent_person,omitempty"`
}

// IndependentPerson names the s.51A independent person in the manifest
// (docs/protocol.md §3, independent_person).
//
// Bounds: name 1–512 bytes of UTF-8; 0 ≤ trustee ≤ len(trustees.public_keys),
// 0 when the union's rules do not require their key share for the count;
// only for the kinds with an independent person ([IndependentPersonKinds]).
type IndependentPerson struct {
	Name    string `json:"name"`
	Trustee int    `json:"trustee"`
}

// IndependentPersonKinds are the kinds of ballot for which the union
// appoints an independent person: union_election (TULRCA s.51A),
// political_fund (s.77A) and merger (s.100D). Part V (industrial action)
// has no such duty.
var IndependentPersonKinds = []string{"union_election", "political_fund", "merger"}

// RequiredTrustee is the trustee (1-based) whose decryption the count of
// this ballot needs, the independent person's where the union's rules
// require it (s.51A), or 0.
func (m *Manifest) RequiredTrustee() int {
	if m.IndependentPerson == nil {
		return 0
	}
	return m.IndependentPerson.Trustee
}

// Languages are the keys a manifest's translations may have.
var Languages = []string{"cy"}

// Translation is every member-visible text of the paper in one more
// language (docs/protocol.md §3.1): the title, the questions and their
// option labels in the order and with the ids of the manifest's own, and
// texts for some keys of the manifest's texts (a text not translated, such
// as the scrutineer's name, is shown as it is).
type Translation struct {
	Title     string               `json:"title"`
	Texts     map[string]string    `json:"texts"`
	Questions []TranslatedQuestion `json:"questions"`
}

// TranslatedQuestion is a question's text and option labels in another
// language; ids as in the manifest's question.
type TranslatedQuestion struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	Options []Option `json:"options"`
}

// Regime is the legal regime a statutory ballot follows (protocol §3,
// "regime"), fixed by the service from its table of regimes when the ballot
// opens and signed with the rest of the manifest. A result applies these
// fields as they are; nothing decides a rule by reading a name.
//
// Bounds: id matches [a-z0-9-]{1,64}; name and code_of_practice 1–512 bytes
// of UTF-8; 0 ≤ mandate_months ≤ [MaxMandateMonths].
type Regime struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// TurnoutThreshold: at least 50% of those entitled must vote
	// (TULRCA s.226(2)(a)(iia)); spoilt papers count as voting (s.297A).
	TurnoutThreshold bool `json:"turnout_threshold"`
	// SupportThreshold: Yes from at least 40% of those entitled
	// (s.226(2B), important public services; repealed from 18 Feb 2026).
	// True only when the regime has the test AND the ballot is of workers
	// in important public services.
	SupportThreshold bool `json:"support_threshold"`
	// MandateMonths: the period of the mandate from the date of the ballot
	// (s.234); 0 when the ballot gives no mandate (not industrial action).
	MandateMonths int `json:"mandate_months"`
	// CodeOfPractice names the Code of Practice version in force.
	CodeOfPractice string `json:"code_of_practice"`
}

// MaxMandateMonths bounds [Regime.MandateMonths].
const MaxMandateMonths = 24

// Question is one question of the voting paper. A choose question (Method
// empty) marks 0/1 for each option and the number of marks is between Min
// and Max. A ranked question (Method "ranked", version 2, kind
// union_election only) is an STV contest: the options are the candidates,
// Min and Max bound the number of preferences (crypto/ranked MinRanked,
// MaxRanked), Seats is the number to elect (1 ≤ Seats < len(Options)) and
// Rule the STV rule (one of [Rules]). Method, Seats and Rule are omitted
// when absent (never "" or 0), so a version-1 question hashes as before.
type Question struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	Options []Option `json:"options"`
	Min     int      `json:"min"`
	Max     int      `json:"max"`
	Method  string   `json:"method,omitempty"`
	Seats   int      `json:"seats,omitempty"`
	Rule    string   `json:"rule,omitempty"`
}

// Ranked reports whether q is a ranked (STV) question.
func (q *Question) Ranked() bool { return q.Method == MethodRanked }

// Compact reports whether q is a compact yes/no question ([MethodCompact]).
func (q *Question) Compact() bool { return q.Method == MethodCompact }

// Option is one answer of a question, or a candidate. Address (version 2,
// omitted when absent) is 64 lowercase hex digits: the SHA-256 of the
// candidate's election address (TULRCA s.48), so the address every member
// is shown is the one signed with the paper.
type Option struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Address string `json:"address,omitempty"`
}

// Style is a ballot style: a separate workplace ballot (TULRCA s.228) with
// its own register, issuer key, result and turnout.
type Style struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	IssuerKey string `json:"issuer_key"`
	Entitled  int64  `json:"entitled"`
}

// Trustees is the outcome of the key ceremony (protocol §7).
type Trustees struct {
	Threshold   int      `json:"threshold"`
	ElectionKey string   `json:"election_key"`
	PublicKeys  []string `json:"public_keys"`
}

// Parse strictly decodes and validates a manifest: at most [MaxSize] bytes,
// canonical-JSON representable (see [Canonicalize]), exactly the version-1
// fields with their exact names, and [Manifest.Validate]. Input need not be
// in canonical form itself.
func Parse(data []byte) (*Manifest, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxSize)
	}
	canon, err := Canonicalize(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	d := json.NewDecoder(bytes.NewReader(canon))
	d.DisallowUnknownFields()
	m := new(Manifest)
	if err := d.Decode(m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	// encoding/json matches names case-insensitively and accepts null or
	// missing fields: the re-encoding must reproduce the input exactly.
	again, err := m.Canonical()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, canon) {
		return nil, fmt.Errorf("%w: fields missing, null, misnamed or not exactly representable", ErrMalformed)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// Canonical returns canonical_json(m) (protocol §3). Nil maps and slices are
// encoded as {} and [].
func (m *Manifest) Canonical() ([]byte, error) {
	if err := m.checkUTF8(); err != nil {
		return nil, err
	}
	c := *m
	if c.Texts == nil {
		c.Texts = map[string]string{}
	}
	if c.Questions == nil {
		c.Questions = []Question{}
	}
	qs := make([]Question, len(c.Questions))
	for i, q := range c.Questions {
		if q.Options == nil {
			q.Options = []Option{}
		}
		qs[i] = q
	}
	c.Questions = qs
	if c.Styles == nil {
		c.Styles = []Style{}
	}
	if c.Trustees.PublicKeys == nil {
		c.Trustees.PublicKeys = []string{}
	}
	if c.Translations != nil {
		ts := make(map[string]Translation, len(c.Translations))
		for l, t := range c.Translations {
			if t.Texts == nil {
				t.Texts = map[string]string{}
			}
			tq := make([]TranslatedQuestion, len(t.Questions))
			for i, q := range t.Questions {
				if q.Options == nil {
					q.Options = []Option{}
				}
				tq[i] = q
			}
			t.Questions = tq
			ts[l] = t
		}
		c.Translations = ts
	}
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	out, err := Canonicalize(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return out, nil
}

// Hash returns manifest_hash = SHA-256(canonical_json(m)). It fails only if
// m holds a string that is not valid UTF-8 or an integer ≥ 2^53; a manifest
// from [Parse] always hashes.
func (m *Manifest) Hash() ([32]byte, error) {
	c, err := m.Canonical()
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(c), nil
}

// checkUTF8 rejects strings encoding/json would silently alter.
func (m *Manifest) checkUTF8() error {
	ss := []string{m.ElectionID, m.Kind, m.Title, m.OpensAt, m.ClosesAt, m.LogKey, m.Trustees.ElectionKey}
	for k, v := range m.Texts {
		ss = append(ss, k, v)
	}
	for _, q := range m.Questions {
		ss = append(ss, q.ID, q.Text)
		ss = append(ss, q.Method, q.Rule)
		for _, o := range q.Options {
			ss = append(ss, o.ID, o.Label, o.Address)
		}
	}
	for _, s := range m.Styles {
		ss = append(ss, s.ID, s.Name, s.IssuerKey)
	}
	ss = append(ss, m.Trustees.PublicKeys...)
	for l, t := range m.Translations {
		ss = append(ss, l, t.Title)
		for k, v := range t.Texts {
			ss = append(ss, k, v)
		}
		for _, q := range t.Questions {
			ss = append(ss, q.ID, q.Text)
			for _, o := range q.Options {
				ss = append(ss, o.ID, o.Label, o.Address)
			}
		}
	}
	if m.Regime != nil {
		ss = append(ss, m.Regime.ID, m.Regime.Name, m.Regime.CodeOfPractice)
	}
	if m.IndependentPerson != nil {
		ss = append(ss, m.IndependentPerson.Name)
	}
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: invalid UTF-8 in a string", ErrInvalid)
		}
	}
	return nil
}

// BallotSize returns the size in bytes of the canonical binary encoding of
// an encrypted ballot for this manifest (protocol §4.2): per choose
// question its selections and sum proof, per ranked question the
// crypto/ranked ballot (§9.1).
func (m *Manifest) BallotSize() int {
	n := 1 + 32 + 2 + 2
	for _, q := range m.Questions {
		if q.Ranked() {
			n += RankedSize(len(q.Options), q.Min, q.Max)
			continue
		}
		if q.Compact() {
			n += CompactSize(q.Min)
			continue
		}
		n += 2 + len(q.Options)*(64+2*128) + (q.Max-q.Min+1)*128
	}
	return n
}

// RankedSize is the size of a crypto/ranked ballot of n candidates with
// min..max preferences (docs/protocol.md §9.1).
func RankedSize(n, minRanked, maxRanked int) int {
	c := ranked.Contest{Candidates: n, MinRanked: minRanked, MaxRanked: maxRanked}
	return c.Size()
}

// HasCompact reports whether the manifest has a compact question: its
// ballots are then of encoding version 3 (protocol §4.2).
func (m *Manifest) HasCompact() bool {
	for i := range m.Questions {
		if m.Questions[i].Compact() {
			return true
		}
	}
	return false
}

// HasRanked reports whether the manifest has a ranked question: its
// ballots are then of encoding version 2 (protocol §4.2).
func (m *Manifest) HasRanked() bool {
	for i := range m.Questions {
		if m.Questions[i].Ranked() {
			return true
		}
	}
	return false
}

// MaxBallotSize is the bound on an encoded ballot (protocol §4.2); a manifest
// whose ballots would be larger is invalid.
const MaxBallotSize = 64 << 10

var idRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func invalid(field string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

func checkText(field, s string, maxLen int) error {
	if len(s) == 0 || len(s) > maxLen {
		return invalid(field, "length %d not in 1..%d", len(s), maxLen)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "invalid UTF-8")
	}
	return nil
}

func checkTime(field, s string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, s)
	if err != nil || t.Format(TimeFormat) != s {
		return time.Time{}, invalid(field, "not RFC 3339 UTC with seconds precision")
	}
	return t, nil
}

func checkPoint(field, s string) error {
	if len(s) != 64 || strings.ToLower(s) != s {
		return invalid(field, "not 64 lowercase hex digits")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return invalid(field, "not hex")
	}
	if _, err := enc.DecodeElement(b, true); err != nil {
		return invalid(field, "%v", err)
	}
	return nil
}

// Validate checks every bound and format listed on [Manifest].
func (m *Manifest) Validate() error {
	if m.Version != Version && m.Version != Version2 {
		return invalid("version", "must be %d or %d", Version, Version2)
	}
	if !idRE.MatchString(m.ElectionID) {
		return invalid("election_id", "must match [a-z0-9-]{1,64}")
	}
	kindOK := false
	for _, k := range Kinds {
		kindOK = kindOK || m.Kind == k
	}
	if !kindOK {
		return invalid("kind", "unknown kind %q", m.Kind)
	}
	if err := checkText("title", m.Title, MaxShortLen); err != nil {
		return err
	}
	o, err := checkTime("opens_at", m.OpensAt)
	if err != nil {
		return err
	}
	c, err := checkTime("closes_at", m.ClosesAt)
	if err != nil {
		return err
	}
	if !o.Before(c) {
		return invalid("closes_at", "not after opens_at")
	}
	if len(m.Texts) > MaxTexts {
		return invalid("texts", "more than %d", MaxTexts)
	}
	for k, v := range m.Texts {
		if err := checkText("texts key", k, MaxShortLen); err != nil {
			return err
		}
		if err := checkText("texts."+k, v, MaxTextLen); err != nil {
			return err
		}
	}
	if len(m.Questions) < 1 || len(m.Questions) > MaxQuestions {
		return invalid("questions", "count %d not in 1..%d", len(m.Questions), MaxQuestions)
	}
	qids := map[string]bool{}
	for i, q := range m.Questions {
		f := fmt.Sprintf("questions[%d]", i)
		if !idRE.MatchString(q.ID) || qids[q.ID] {
			return invalid(f+".id", "must match [a-z0-9-]{1,64} and be unique")
		}
		qids[q.ID] = true
		if err := checkText(f+".text", q.Text, MaxTextLen); err != nil {
			return err
		}
		if len(q.Options) < MinOptions || len(q.Options) > MaxOptions {
			return invalid(f+".options", "count %d not in %d..%d", len(q.Options), MinOptions, MaxOptions)
		}
		oids := map[string]bool{}
		for j, op := range q.Options {
			g := fmt.Sprintf("%s.options[%d]", f, j)
			if !idRE.MatchString(op.ID) || oids[op.ID] {
				return invalid(g+".id", "must match [a-z0-9-]{1,64} and be unique")
			}
			oids[op.ID] = true
			if err := checkText(g+".label", op.Label, MaxShortLen); err != nil {
				return err
			}
			if err := m.checkAddress(g+".address", op.Address); err != nil {
				return err
			}
		}
		if q.Min < 0 || q.Min > q.Max || q.Max > len(q.Options) || q.Max < 1 {
			return invalid(f, "need 0 ≤ min ≤ max ≤ options and max ≥ 1")
		}
		if err := m.checkMethod(f, &q); err != nil {
			return err
		}
	}
	if m.BallotSize() > MaxBallotSize {
		return invalid("questions", "encrypted ballot would exceed %d bytes", MaxBallotSize)
	}
	if len(m.Styles) < 1 || len(m.Styles) > MaxStyles {
		return invalid("styles", "count %d not in 1..%d", len(m.Styles), MaxStyles)
	}
	sids := map[string]bool{}
	for i, s := range m.Styles {
		f := fmt.Sprintf("styles[%d]", i)
		if !idRE.MatchString(s.ID) || sids[s.ID] {
			return invalid(f+".id", "must match [a-z0-9-]{1,64} and be unique")
		}
		sids[s.ID] = true
		if err := checkText(f+".name", s.Name, MaxShortLen); err != nil {
			return err
		}
		if s.Entitled < 0 || s.Entitled > MaxEntitled {
			return invalid(f+".entitled", "not in 0..2^40")
		}
		if _, err := parseIssuerKey(s.IssuerKey); err != nil {
			return invalid(f+".issuer_key", "%v", err)
		}
	}
	t := m.Trustees
	if len(t.PublicKeys) < 1 || len(t.PublicKeys) > MaxTrustees || t.Threshold < 1 || t.Threshold > len(t.PublicKeys) {
		return invalid("trustees", "need 1 ≤ threshold ≤ len(public_keys) ≤ %d", MaxTrustees)
	}
	if err := checkPoint("trustees.election_key", t.ElectionKey); err != nil {
		return err
	}
	for i, k := range t.PublicKeys {
		if err := checkPoint(fmt.Sprintf("trustees.public_keys[%d]", i), k); err != nil {
			return err
		}
		// Each trustee has its own share: a repeated public key is a
		// malformed ceremony (two trustees cannot hold the same x_j).
		if slices.Contains(t.PublicKeys[:i], k) {
			return invalid(fmt.Sprintf("trustees.public_keys[%d]", i), "repeats an earlier trustee's key")
		}
	}
	if err := checkLogKey(m.LogKey); err != nil {
		return invalid("log_key", "%v", err)
	}
	if err := m.validateRegime(); err != nil {
		return err
	}
	if err := m.validateIndependentPerson(); err != nil {
		return err
	}
	return m.validateTranslations()
}

// validateIndependentPerson checks independent_person (protocol 7).
func (m *Manifest) validateIndependentPerson() error {
	ip := m.IndependentPerson
	if ip == nil {
		return nil
	}
	if !slices.Contains(IndependentPersonKinds, m.Kind) {
		return invalid("independent_person", "only for a ballot of kind %s (s.51A, s.77A, s.100D)", strings.Join(IndependentPersonKinds, ", "))
	}
	if err := checkText("independent_person.name", ip.Name, MaxShortLen); err != nil {
		return err
	}
	if ip.Trustee < 0 || ip.Trustee > len(m.Trustees.PublicKeys) {
		return invalid("independent_person.trustee", "not in 0..%d (the trustees)", len(m.Trustees.PublicKeys))
	}
	return nil
}

// validateTranslations checks §3.1: a known language; a title; texts only
// for keys the manifest has; every question and option, in order, with
// the manifest's ids. A translation is complete: no question or label of
// the paper is left in one language only.
func (m *Manifest) validateTranslations() error {
	if m.Translations != nil && len(m.Translations) == 0 {
		return invalid("translations", "omitted when empty")
	}
	for l, t := range m.Translations {
		f := "translations." + l
		if !slices.Contains(Languages, l) {
			return invalid(f, "unknown language (known: %s)", strings.Join(Languages, ", "))
		}
		if err := checkText(f+".title", t.Title, MaxShortLen); err != nil {
			return err
		}
		for k, v := range t.Texts {
			if _, ok := m.Texts[k]; !ok {
				return invalid(f+".texts", "key %q is not in texts", k)
			}
			if err := checkText(f+".texts."+k, v, MaxTextLen); err != nil {
				return err
			}
		}
		if len(t.Questions) != len(m.Questions) {
			return invalid(f+".questions", "count %d, the manifest has %d", len(t.Questions), len(m.Questions))
		}
		for i, q := range t.Questions {
			g := fmt.Sprintf("%s.questions[%d]", f, i)
			if q.ID != m.Questions[i].ID {
				return invalid(g+".id", "not the id of questions[%d]", i)
			}
			if err := checkText(g+".text", q.Text, MaxTextLen); err != nil {
				return err
			}
			if len(q.Options) != len(m.Questions[i].Options) {
				return invalid(g+".options", "count %d, the question has %d", len(q.Options), len(m.Questions[i].Options))
			}
			for j, o := range q.Options {
				h := fmt.Sprintf("%s.options[%d]", g, j)
				if o.ID != m.Questions[i].Options[j].ID {
					return invalid(h+".id", "not the id of the question's option %d", j)
				}
				if err := checkText(h+".label", o.Label, MaxShortLen); err != nil {
					return err
				}
				if o.Address != "" {
					// One address hash per candidate, covering every language.
					return invalid(h+".address", "addresses are in the manifest's options only")
				}
			}
		}
	}
	return nil
}

// checkMethod checks a question's version-2 fields (protocol §3, §9).
func (m *Manifest) checkMethod(f string, q *Question) error {
	switch q.Method {
	case MethodChoose:
		if q.Seats != 0 || q.Rule != "" {
			return invalid(f, "seats and rule are for ranked questions only")
		}
		return nil
	case MethodCompact:
		if m.Version < Version2 {
			return invalid(f+".method", "needs manifest version %d", Version2)
		}
		if q.Seats != 0 || q.Rule != "" {
			return invalid(f, "seats and rule are for ranked questions only")
		}
		if len(q.Options) != 2 || q.Max != 1 {
			return invalid(f+".method", "a compact question has exactly 2 options and max 1")
		}
		// A style's compact sum yes + B·no decodes only while it holds
		// fewer than B ballots (§4.2 version 3), and counts.entitled
		// bounds its ballots by its entitled members.
		for _, s := range m.Styles {
			if s.Entitled >= CompactBase {
				return invalid(f+".method", "style %q has %d members entitled: a compact question allows at most %d", s.ID, s.Entitled, CompactBase-1)
			}
		}
		return nil
	case MethodRanked:
	default:
		return invalid(f+".method", "unknown method %q (known: %q, %q)", q.Method, MethodRanked, MethodCompact)
	}
	if m.Version < Version2 {
		return invalid(f+".method", "needs manifest version %d", Version2)
	}
	if m.Kind != "union_election" {
		return invalid(f+".method", "ranked questions are for union_election ballots only")
	}
	if q.Seats < 1 || q.Seats >= len(q.Options) {
		return invalid(f+".seats", "need 1 ≤ seats < options (%d)", len(q.Options))
	}
	if !slices.Contains(Rules, q.Rule) {
		return invalid(f+".rule", "unknown rule %q (known: %s)", q.Rule, strings.Join(Rules, ", "))
	}
	return nil
}

// checkAddress checks an option's address: absent, or (version 2) 64
// lowercase hex digits, the SHA-256 of the election address (s.48).
func (m *Manifest) checkAddress(f, a string) error {
	if a == "" {
		return nil
	}
	if m.Version < Version2 {
		return invalid(f, "needs manifest version %d", Version2)
	}
	if !addressRE.MatchString(a) {
		return invalid(f, "not 64 lowercase hex digits")
	}
	return nil
}

var addressRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (m *Manifest) validateRegime() error {
	r := m.Regime
	if r == nil {
		if m.Kind == "industrial_action" {
			return invalid("regime", "required for an industrial_action ballot")
		}
		return nil
	}
	if !idRE.MatchString(r.ID) {
		return invalid("regime.id", "must match [a-z0-9-]{1,64}")
	}
	if err := checkText("regime.name", r.Name, MaxShortLen); err != nil {
		return err
	}
	if err := checkText("regime.code_of_practice", r.CodeOfPractice, MaxShortLen); err != nil {
		return err
	}
	if r.MandateMonths < 0 || r.MandateMonths > MaxMandateMonths {
		return invalid("regime.mandate_months", "not in 0..%d", MaxMandateMonths)
	}
	return nil
}

// Paper is the voting paper's member-visible texts in one language.
type Paper struct {
	// Lang is the language of the texts: "en" or a key of Translations.
	Lang  string
	Title string
	// Texts are the manifest's texts with the translated ones in their
	// place (untranslated ones, such as names, as they are).
	Texts map[string]string
	// Questions are the manifest's questions with the translated text
	// and labels (ids, min and max unchanged).
	Questions []Question
}

// Paper returns the paper's texts in lang: the translation when the
// manifest has one for lang, English otherwise (Paper.Lang says which).
// For the voting page and printed papers (postal packs).
func (m *Manifest) Paper(lang string) Paper {
	p := Paper{Lang: "en", Title: m.Title, Texts: maps.Clone(m.Texts), Questions: slices.Clone(m.Questions)}
	if p.Texts == nil {
		p.Texts = map[string]string{}
	}
	t, ok := m.Translations[lang]
	if !ok || len(t.Questions) != len(m.Questions) {
		return p
	}
	p.Lang, p.Title = lang, t.Title
	maps.Copy(p.Texts, t.Texts)
	for i, q := range t.Questions {
		pq := p.Questions[i]
		pq.Text = q.Text
		// Translated labels; ids and addresses stay the manifest's.
		pq.Options = slices.Clone(pq.Options)
		for j := range pq.Options {
			if j < len(q.Options) { // always, in a validated manifest
				pq.Options[j].Label = q.Options[j].Label
			}
		}
		p.Questions[i] = pq
	}
	return p
}

// Bilingual reports whether the paper comes in Welsh as well as English.
func (m *Manifest) Bilingual() bool {
	_, ok := m.Translations["cy"]
	return ok
}

func parseIssuerKey(s string) ([]byte, error) {
	der, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || base64.StdEncoding.EncodeToString(der) != s {
		return nil, errors.New("not canonical padded standard base64")
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a DER SubjectPublicKeyInfo")
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok || rk.N.BitLen() != IssuerKeyBits || rk.E != 65537 {
		return nil, errors.New("not an RSA-2048 key with e = 65537")
	}
	if again, err := x509.MarshalPKIXPublicKey(rk); err != nil || !bytes.Equal(again, der) {
		return nil, errors.New("not canonical DER")
	}
	return der, nil
}

// checkLogKey checks a golang.org/x/mod/sumdb/note verifier key in its one
// accepted form: name+hash+base64(0x01 ‖ Ed25519 key) with hash the first
// 4 bytes (lowercase hex) of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key) and the key
// in canonical padded standard base64 (docs/protocol.md §6.1).
func checkLogKey(s string) error {
	_, err := snote.ParseVerifierKey(s)
	return err
}

// Shape returns, per question, the number of options, min and max (and
// whether it is ranked): what a ballot decoder needs (protocol §4.2).
func (m *Manifest) Shape() []QuestionShape {
	s := make([]QuestionShape, len(m.Questions))
	for i, q := range m.Questions {
		s[i] = QuestionShape{Options: len(q.Options), Min: q.Min, Max: q.Max, Ranked: q.Ranked(), Compact: q.Compact()}
	}
	return s
}

// QuestionShape is the part of a question a ballot's encoding depends on.
// Ranked and Compact are omitted when false, so a version-1 shape encodes
// as before.
type QuestionShape struct {
	Options int  `json:"options"`
	Min     int  `json:"min"`
	Max     int  `json:"max"`
	Ranked  bool `json:"ranked,omitempty"`
	Compact bool `json:"compact,omitempty"`
}

// Style returns the index and the style with the given id, or [ErrNoStyle].
func (m *Manifest) Style(id string) (int, *Style, error) {
	for i := range m.Styles {
		if m.Styles[i].ID == id {
			return i, &m.Styles[i], nil
		}
	}
	return -1, nil, fmt.Errorf("%w: %q", ErrNoStyle, id)
}

// IssuerKey returns the DER SubjectPublicKeyInfo of style i's RSA
// blind-signature issuer key (protocol §5).
func (m *Manifest) IssuerKey(style int) ([]byte, error) {
	if style < 0 || style >= len(m.Styles) {
		return nil, fmt.Errorf("%w: index %d", ErrNoStyle, style)
	}
	der, err := parseIssuerKey(m.Styles[style].IssuerKey)
	if err != nil {
		return nil, invalid("issuer_key", "%v", err)
	}
	return der, nil
}

// ElectionKey returns the joint election key K.
func (m *Manifest) ElectionKey() (*elgamal.PublicKey, error) {
	b, err := hex.DecodeString(m.Trustees.ElectionKey)
	if err != nil {
		return nil, invalid("trustees.election_key", "not hex")
	}
	k, err := elgamal.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: trustees.election_key: %w", ErrInvalid, err)
	}
	return k, nil
}
