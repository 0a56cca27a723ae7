package election

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/crypto/manifest"
	"github.com/unionvote/eballot/crypto/ranked"
	"github.com/unionvote/eballot/internal/audit"
	"github.com/unionvote/eballot/internal/web/page"
)

// A union election (TULRCA Part I Chapter IV: ss.46–53) has one or more
// contests, each a Question of the ballot's configuration with a Method:
// "choose up to N" (the homomorphic question: mark at most Max of the
// candidates) or "ranked" (a single transferable vote counted by the
// union's chosen rule after a verifiable mix, docs/protocol.md §9). Each
// candidate may have an election address (s.48) kept in the table
// election_addresses, and the ballot names an independent person (s.51A).

// Methods of a contest.
const (
	MethodChoose = "choose"
	MethodRanked = "ranked"
)

// Rules of a ranked contest: the Electoral Reform Society's 1997 STV rules
// or Meek's method (crypto/stv), as the union's rules choose; the
// manifest's list (one place for it).
var Rules = manifest.Rules

// Bounds of a union election's set-up.
const (
	// MinAddressWords: a union may limit an election address's length
	// but not below one hundred words (s.48(3)(a)).
	MinAddressWords     = 100
	MaxAddressWords     = 5000
	DefaultAddressWords = 500
	maxCandidateName    = 200
	maxContestTitle     = 300
	// MaxPhotoUpload bounds an uploaded photo; once its metadata is
	// stripped it must fit manifest.MaxAddressPhoto.
	MaxPhotoUpload = 4 << 20
	// MaxPhotoSide bounds a photo's width and height in pixels (read
	// from its header before the image is decoded).
	MaxPhotoSide = 2048
)

// ElectionSetup is what only a union election has (Config.Election).
type ElectionSetup struct {
	// AddressWords is the most words of a candidate's election address
	// in each language, as the union's rules set (s.48(3)(a): at least
	// 100).
	AddressWords int `json:"address_words"`
	// Independent is the independent person (s.51A), nil until named.
	Independent *IndependentPerson `json:"independent,omitempty"`
}

// IndependentPerson is the person the union appoints under s.51A to store
// and distribute the voting papers and count the votes. Named on the
// ballot's pages and in the report.
type IndependentPerson struct {
	Name         string `json:"name"`
	Organisation string `json:"organisation"`
	// Trustee is their number among the trustees of the key ceremony
	// (1-based), 0 if they hold no key share.
	Trustee int `json:"trustee,omitempty"`
	// KeyRequired: the union's rules require that the count cannot start
	// without the independent person's key share (s.51A(1)(b)); the
	// result refuses partial decryptions that do not include theirs.
	KeyRequired bool `json:"key_required,omitempty"`
}

// IndependentPersonText is the manifest's text naming a union election's
// independent person (docs/protocol.md §3, texts with a meaning).
const IndependentPersonText = "independent_person"

// independentPerson is the independent person as the manifest names them
// ("name, organisation"), "" if none is named.
func independentPerson(c Config) string {
	if c.Election == nil || c.Election.Independent == nil {
		return ""
	}
	ip := c.Election.Independent
	if ip.Organisation == "" {
		return ip.Name
	}
	return ip.Name + ", " + ip.Organisation
}

// HasRanked says whether the ballot has a ranked (STV) contest.
func (c *Config) HasRanked() bool {
	for _, q := range c.Questions {
		if q.Method == MethodRanked {
			return true
		}
	}
	return false
}

// RequiredTrustee is the trustee number (1-based) whose partial decryption
// the count needs (the independent person's, when the union's rules
// require it), or 0.
func (c *Config) RequiredTrustee() int {
	if c.Election == nil || c.Election.Independent == nil || !c.Election.Independent.KeyRequired {
		return 0
	}
	return c.Election.Independent.Trustee
}

func (e *ElectionSetup) validate() error {
	if e == nil {
		return nil
	}
	if e.AddressWords < MinAddressWords || e.AddressWords > MaxAddressWords {
		return configErr("elec.err.address_words", MinAddressWords, MaxAddressWords)
	}
	if p := e.Independent; p != nil {
		if blank(p.Name) || len(p.Name) > maxCandidateName || len(p.Organisation) > maxCandidateName {
			return configErr("elec.err.independent_name")
		}
		if p.Trustee < 0 || p.Trustee > manifest.MaxTrustees || (p.KeyRequired && p.Trustee == 0) {
			return configErr("elec.err.independent_trustee", manifest.MaxTrustees)
		}
	}
	return nil
}

// validateContest checks question i as a contest: only a union election
// has contests, and each of its questions is one.
func (c *Config) validateContest(i int, q Question) error {
	if c.Election == nil {
		if q.Method != "" || q.Seats != 0 || q.Rule != "" {
			return configErr("elec.err.not_election", i+1)
		}
		return nil
	}
	n := len(q.Options)
	if q.Seats < 1 || q.Seats >= n {
		// s.53: an unopposed candidate is elected without a ballot.
		return configErr("elec.err.seats", i+1, n)
	}
	switch q.Method {
	case MethodChoose:
		if q.Rule != "" || q.Min < 0 || q.Min > q.Max || q.Max < 1 || q.Max > q.Seats {
			return configErr("elec.err.choose", i+1, q.Seats)
		}
	case MethodRanked:
		known := false
		for _, r := range Rules {
			known = known || r == q.Rule
		}
		if !known {
			return configErr("elec.err.rule", i+1)
		}
		if n > ranked.MaxCandidates || q.Min < 1 || q.Min > q.Max || q.Max > n {
			return configErr("elec.err.preferences", i+1, n)
		}
	default:
		return configErr("elec.err.method", i+1)
	}
	for _, o := range q.Options {
		if len(o.Label) > maxCandidateName {
			return configErr("elec.err.candidate_name", i+1, maxCandidateName)
		}
	}
	return nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// ContestInput is a new contest as the organiser gives it.
type ContestInput struct {
	Title, TitleCy string
	// Candidates are the names, one per line (names are the same in
	// Welsh).
	Candidates string
	Method     string
	Rule       string
	Seats      int
	Min, Max   int
}

// contest makes the contest's question, with an id not used by the
// ballot's other contests.
func (in ContestInput) contest(existing []Question) (Question, error) {
	id := ""
	for n := 1; id == ""; n++ {
		c := "c" + strconv.Itoa(n)
		free := true
		for _, q := range existing {
			free = free && q.ID != c
		}
		if free {
			id = c
		}
	}
	title, titleCy := strings.TrimSpace(in.Title), strings.TrimSpace(in.TitleCy)
	if title == "" || len(title) > maxContestTitle || len(titleCy) > maxContestTitle {
		return Question{}, invalid("elec.err.contest_title", maxContestTitle)
	}
	q := Question{ID: id, Text: title, TextCy: titleCy, Method: in.Method, Rule: in.Rule, Seats: in.Seats, Min: in.Min, Max: in.Max}
	if q.Method == MethodChoose {
		q.Rule = ""
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(in.Candidates, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if seen[strings.ToLower(l)] || !utf8.ValidString(l) {
			return Question{}, invalid("elec.err.candidate_twice", l)
		}
		seen[strings.ToLower(l)] = true
		q.Options = append(q.Options, Option{ID: "k" + strconv.Itoa(len(q.Options)+1), Label: l, LabelCy: l})
	}
	if len(q.Options) < 2 {
		return Question{}, invalid("elec.err.candidates")
	}
	return q, nil
}

// electionDraft reads a draft union election's configuration in tx (the
// caller holds the row lock, [Admin.inDraft]).
func electionDraft(ctx context.Context, tx pgx.Tx, ballotID int64) (*draft, error) {
	d, err := readDraft(ctx, tx, ballotID, false)
	if err != nil {
		return nil, err
	}
	if d.kind != "union_election" || d.config.Election == nil {
		return nil, invalid("elec.err.not_union_election")
	}
	return d, nil
}

// saveConfig validates and writes a draft's configuration.
func saveConfig(ctx context.Context, tx pgx.Tx, ballotID int64, c Config) error {
	if err := c.Validate(); err != nil {
		if m, ok := ErrorMsg(err); ok {
			return &MsgError{Base: ErrInvalid, Msg: m}
		}
		return err
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE ballots SET config = $2 WHERE id = $1`, ballotID, raw); err != nil {
		return fmt.Errorf("configure ballot: %w", err)
	}
	return nil
}

// AddContest adds a contest to a draft union election.
func (a *Admin) AddContest(ctx context.Context, actor string, ballotID int64, in ContestInput) (string, error) {
	var id string
	err := a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		d, err := electionDraft(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		q, err := in.contest(d.config.Questions)
		if err != nil {
			return err
		}
		d.config.Questions = append(d.config.Questions, q)
		if err := saveConfig(ctx, tx, ballotID, d.config); err != nil {
			return err
		}
		id = q.ID
		return audit.Append(ctx, tx, actor, "ballot.contest_add", &ballotID, map[string]any{"contest": q.ID, "title": q.Text,
			"method": q.Method, "rule": q.Rule, "seats": q.Seats, "min": q.Min, "max": q.Max, "candidates": len(q.Options)})
	})
	return id, err
}

// RemoveContest removes a draft union election's contest and its
// candidates' election addresses.
func (a *Admin) RemoveContest(ctx context.Context, actor string, ballotID int64, contest string) error {
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		d, err := electionDraft(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		var keep []Question
		for _, q := range d.config.Questions {
			if q.ID != contest {
				keep = append(keep, q)
			}
		}
		if len(keep) == len(d.config.Questions) {
			return ErrNotFound
		}
		d.config.Questions = keep
		if err := saveConfig(ctx, tx, ballotID, d.config); err != nil {
			return err
		}
		if err := a.store.deleteAddresses(ctx, tx, ballotID, contest); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.contest_remove", &ballotID, map[string]string{"contest": contest})
	})
}

// SetElectionSettings records a draft union election's address length
// limit and its independent person (nil: none named yet).
func (a *Admin) SetElectionSettings(ctx context.Context, actor string, ballotID int64, words int, ip *IndependentPerson) error {
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		d, err := electionDraft(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		d.config.Election = &ElectionSetup{AddressWords: words, Independent: ip}
		if err := saveConfig(ctx, tx, ballotID, d.config); err != nil {
			return err
		}
		details := map[string]any{"address_words": words}
		if ip != nil {
			details["independent_person"] = map[string]any{"name": ip.Name, "organisation": ip.Organisation,
				"trustee": ip.Trustee, "key_required": ip.KeyRequired}
		}
		return audit.Append(ctx, tx, actor, "ballot.election_settings", &ballotID, details)
	})
}

// AddressInput is a candidate's election address as the organiser gives
// it: the texts, and a new photo (nil: keep the one recorded, unless
// RemovePhoto).
type AddressInput struct {
	TextEn, TextCy string
	Photo          []byte
	RemovePhoto    bool
}

// SetAddress records a candidate's election address on a draft union
// election: each text within the union's word limit (s.48(3)(a)), the
// photo a JPEG or PNG re-encoded without its metadata. The opening
// freezes it.
func (a *Admin) SetAddress(ctx context.Context, actor string, ballotID int64, contest, candidate string, in AddressInput) error {
	in.TextEn, in.TextCy = normaliseText(in.TextEn), normaliseText(in.TextCy)
	var photo *Photo
	if in.Photo != nil {
		p, err := CleanPhoto(in.Photo)
		if err != nil {
			return err
		}
		photo = &p
	}
	return a.inDraft(ctx, ballotID, func(tx pgx.Tx) error {
		d, err := electionDraft(ctx, tx, ballotID)
		if err != nil {
			return err
		}
		if _, _, ok := d.config.Candidate(contest, candidate); !ok {
			return ErrNotFound
		}
		limit := d.config.Election.AddressWords
		for _, t := range []struct{ s, lang string }{{in.TextEn, "en"}, {in.TextCy, "cy"}} {
			if n := len(strings.Fields(t.s)); n > limit {
				return invalid("elec.err.address_words_over."+t.lang, n, limit)
			}
			if len(t.s) > manifest.MaxAddressText || !utf8.ValidString(t.s) {
				return invalid("elec.err.address_long", manifest.MaxAddressText)
			}
		}
		if photo == nil && !in.RemovePhoto {
			old, err := a.store.addressPhoto(ctx, tx, ballotID, contest, candidate)
			if err != nil {
				return err
			}
			photo = old
		}
		addr := manifest.Address{TextEn: in.TextEn, TextCy: in.TextCy}
		if photo != nil {
			addr.PhotoType, addr.Photo = photo.Type, photo.Data
		}
		hash, err := addr.Hash()
		if err != nil {
			return invalid("elec.err.address_long", manifest.MaxAddressText)
		}
		if err := a.store.putAddress(ctx, tx, ballotID, contest, candidate, addr, photo, hash); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor, "ballot.election_address", &ballotID, map[string]any{"contest": contest,
			"candidate": candidate, "address_hash": hash, "photo": photo != nil})
	})
}

// normaliseText trims an address's text and makes its line ends "\n",
// so the hash does not depend on the browser that sent it.
func normaliseText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
}

// Candidate finds a contest's candidate by ids.
func (c *Config) Candidate(contest, candidate string) (Question, Option, bool) {
	for _, q := range c.Questions {
		if q.ID != contest {
			continue
		}
		for _, o := range q.Options {
			if o.ID == candidate {
				return q, o, true
			}
		}
	}
	return Question{}, Option{}, false
}

// Photo is a candidate's photo as served: a JPEG or PNG the service has
// re-encoded (which drops every metadata block: camera, location, …).
type Photo struct {
	Type          string // manifest.PhotoJPEG or manifest.PhotoPNG
	Data          []byte
	Width, Height int
}

// CleanPhoto checks an uploaded photo and re-encodes it: at most
// [MaxPhotoUpload] bytes, a JPEG or PNG by its header (whatever name or
// type the browser gave), at most [MaxPhotoSide] pixels a side (checked
// before the image is decoded), and at most manifest.MaxAddressPhoto
// bytes once re-encoded. The re-encoding drops the file's metadata.
func CleanPhoto(data []byte) (Photo, error) {
	if len(data) == 0 || len(data) > MaxPhotoUpload {
		return Photo{}, invalid("elec.err.photo_size", MaxPhotoUpload>>20)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png") {
		return Photo{}, invalid("elec.err.photo_type")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxPhotoSide || cfg.Height > MaxPhotoSide {
		return Photo{}, invalid("elec.err.photo_side", MaxPhotoSide)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Photo{}, invalid("elec.err.photo_type")
	}
	var buf bytes.Buffer
	p := Photo{Width: cfg.Width, Height: cfg.Height}
	if format == "png" {
		p.Type, err = manifest.PhotoPNG, (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img)
	} else {
		p.Type, err = manifest.PhotoJPEG, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	}
	if err != nil {
		return Photo{}, fmt.Errorf("re-encode photo: %w", err)
	}
	if buf.Len() > manifest.MaxAddressPhoto {
		return Photo{}, invalid("elec.err.photo_big", manifest.MaxAddressPhoto>>10)
	}
	p.Data = buf.Bytes()
	return p, nil
}

// electionReasons are the opening checklist's reasons of a union
// election (added to checkOpen's): contests, the independent person
// (s.51A) and, when their key share is required, that they are one of
// the trustees of the uploaded ceremony.
func electionReasons(d *draft) []page.Msg {
	if d.kind != "union_election" {
		return nil
	}
	var out []page.Msg
	if d.config.Election == nil {
		return []page.Msg{page.M("elec.why.setup")}
	}
	if len(d.config.Questions) == 0 {
		out = append(out, page.M("elec.why.contests"))
	}
	ip := d.config.Election.Independent
	if ip == nil {
		out = append(out, page.M("elec.why.independent"))
	} else if ip.Trustee > 0 && len(d.trustees) > 0 {
		var t manifest.Trustees
		if err := json.Unmarshal(d.trustees, &t); err == nil && ip.Trustee > len(t.PublicKeys) {
			out = append(out, page.M("elec.why.independent_trustee", ip.Trustee, len(t.PublicKeys)))
		}
	}
	return out
}

// electionSetup keeps, when the set-up form saves a union election, what
// its own page set (contests, address limit, independent person) from
// prev (nil for a new ballot: the defaults); any other kind has none.
func electionSetup(s *BallotSetup, prev *AdminBallot) {
	if s.Kind != "union_election" {
		s.Config.Election = nil
		return
	}
	if prev != nil && prev.Kind == "union_election" && prev.Config.Election != nil {
		s.Config.Election, s.Config.Questions = prev.Config.Election, prev.Config.Questions
		return
	}
	s.Config.Election, s.Config.Questions = &ElectionSetup{AddressWords: DefaultAddressWords}, nil
}
