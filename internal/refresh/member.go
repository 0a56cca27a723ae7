package refresh

import (
	"context"
	"errors"
	"fmt"
	"github.com/unionvote/eballot/internal/sealed"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/unionvote/eballot/internal/mail"
	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// pendingTTL is how long a new contact waits for its code (the code itself
// lasts 10 minutes; a new one may be asked for meanwhile).
const pendingTTL = time.Hour

// link is a member's personal link, resolved.
type link struct {
	ID, CampaignID, MemberID int64
	UnionID                  int64
	PrivacyURL               string
	ExpiresAt                time.Time
	Used                     bool
}

// resolve finds the link of token. Pending work (a code to enter) keeps a
// used link working for the verification pages only (allowUsed).
func (s *Service) resolve(ctx context.Context, token string, allowUsed bool) (*link, error) {
	if !validToken(token) {
		return nil, ErrUnknownLink
	}
	l := &link{}
	var used, superseded, cancelled *time.Time
	err := s.pool.QueryRow(ctx, `SELECT l.id, l.campaign_id, l.member_id, c.union_id, c.privacy_url, l.expires_at, l.used_at, l.superseded_at, c.cancelled_at
		FROM refresh_links l JOIN refresh_campaigns c ON c.id = l.campaign_id WHERE l.token_hash = $1`, tokenHash(token)).
		Scan(&l.ID, &l.CampaignID, &l.MemberID, &l.UnionID, &l.PrivacyURL, &l.ExpiresAt, &used, &superseded, &cancelled)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnknownLink
	}
	if err != nil {
		return nil, fmt.Errorf("resolve refresh link: %w", err)
	}
	switch {
	case superseded != nil:
		return nil, ErrUnknownLink
	case cancelled != nil || !l.ExpiresAt.After(s.now()):
		return nil, ErrExpiredLink
	case used != nil && !allowUsed:
		return nil, ErrUsedLink
	}
	l.Used = used != nil
	return l, nil
}

// spend marks the link used: the member is done.
func (s *Service) spend(ctx context.Context, l *link) error {
	if _, err := s.pool.Exec(ctx, `UPDATE refresh_links SET used_at = $2 WHERE id = $1 AND used_at IS NULL`, l.ID, s.now()); err != nil {
		return fmt.Errorf("spend refresh link: %w", err)
	}
	return nil
}

// Confirm records that every field the member holds is right (verified
// by the member now).
func (s *Service) Confirm(ctx context.Context, l *link) error {
	if err := s.reg.UpdateContacts(ctx, l.MemberID, register.SourceMember, actor(l), nil, register.ContactFields, s.now()); err != nil {
		return err
	}
	return s.spend(ctx, l)
}

func actor(l *link) string { return fmt.Sprintf("member:%d", l.MemberID) }

// Form is the member's correction form: "" leaves a field unchanged.
type Form struct {
	Mobile, Email     string
	Address, Postcode string
	Workplace         string
	Language          string // "", "en", "cy"
	BallotBy          string // "", "online", "post"
}

// Problems are the messages beside refused fields (field → message).
type Problems map[string]page.Msg

// Outcome of a correction: what was applied and what waits for a code.
type Outcome struct {
	Changed []string // fields changed now
	Pending []string // new mobile/email waiting for the code sent to it
}

// Correct checks the member's form. Any refused value: nothing is changed
// and the problems say why, field by field. Otherwise the postal address,
// workplace, language and ballot preference change now; a new mobile or
// email is kept aside and a code is sent to it (the first one; the next
// after it is verified). workplaces are the union's (a workplace must be
// one of them).
func (s *Service) Correct(r *http.Request, l *link, d *register.Details, f Form, workplaces []string, lang string) (Outcome, Problems, error) {
	ctx := r.Context()
	policy, err := s.policy(ctx, l.UnionID)
	if err != nil {
		return Outcome{}, nil, err
	}
	policy.AllowFictionalNumbers = s.fictional
	probs := Problems{}
	pending, changes := checkContacts(f, d, policy, probs)
	if v := strings.TrimSpace(f.Workplace); v != "" && v != d.Workplace {
		if !slices.Contains(workplaces, v) {
			probs["workplace"] = page.M("refresh.err.workplace")
		} else {
			changes = append(changes, register.Change{Field: register.FieldWorkplace, Value: v})
		}
	}
	if v := f.Language; v != "" && v != d.Language {
		if v != "en" && v != "cy" {
			probs["language"] = page.M("refresh.err.choice")
		} else {
			changes = append(changes, register.Change{Field: register.FieldLanguage, Value: v})
		}
	}
	if v := f.BallotBy; v != "" && v != d.BallotBy {
		if v != "online" && v != "post" {
			probs["ballot_by"] = page.M("refresh.err.choice")
		} else {
			changes = append(changes, register.Change{Field: register.FieldBallotBy, Value: v})
		}
	}
	if len(probs) > 0 {
		return Outcome{}, probs, nil
	}
	// A new contact waits for a code: the send limits first, so that a
	// rate-limited correction writes nothing, neither the new contact
	// nor the other changes (issue 21).
	if len(pending) > 0 {
		if err := s.codes.CheckContactCode(r, l.MemberID); err != nil {
			return Outcome{}, nil, err
		}
	}
	var out Outcome
	if len(changes) > 0 {
		if err := s.reg.UpdateContacts(ctx, l.MemberID, register.SourceMember, actor(l), changes, nil, s.now()); err != nil {
			return Outcome{}, nil, err
		}
		for _, c := range changes {
			out.Changed = append(out.Changed, c.Field)
		}
	}
	now := s.now()
	for _, p := range pending {
		ct, err := sealed.Seal(s.key, []byte(p.Value), pendingAD(l.MemberID, p.Field))
		if err != nil {
			return Outcome{}, nil, fmt.Errorf("keep new contact: %w", err)
		}
		if _, err := s.pool.Exec(ctx, `INSERT INTO refresh_pending (member_id, link_id, field, value, sealed, created_at, expires_at)
			VALUES ($1, $2, $3, NULL, $4, $5, $6)
			ON CONFLICT (member_id, field) DO UPDATE SET link_id = excluded.link_id, value = NULL, sealed = excluded.sealed,
			created_at = excluded.created_at, expires_at = excluded.expires_at`, l.MemberID, l.ID, p.Field, ct, now, now.Add(pendingTTL)); err != nil {
			return Outcome{}, nil, fmt.Errorf("keep new contact: %w", err)
		}
		out.Pending = append(out.Pending, p.Field)
	}
	if len(pending) > 0 {
		if err := s.sendCode(r, l, lang); err != nil {
			return out, nil, err
		}
		return out, nil, nil
	}
	return out, nil, s.spend(ctx, l)
}

// checkContacts checks the mobile, email and postal address of f (blank:
// unchanged) as the member's page and the staff page both do: a refused
// value goes into probs with its message; a new mobile or email is in
// contacts, a new address in address.
func checkContacts(f Form, d *register.Details, policy register.ContactPolicy, probs Problems) (contacts, address []register.Change) {
	if v := strings.TrimSpace(f.Mobile); v != "" {
		if m, msg, ok := register.CheckMobile(v, policy); !ok {
			probs["mobile"] = msg
		} else if m != d.Mobile {
			contacts = append(contacts, register.Change{Field: register.FieldMobile, Value: m})
		}
	}
	if v := strings.TrimSpace(f.Email); v != "" {
		if e, msg, ok := register.CheckEmail(v, policy); !ok {
			probs["email"] = msg
		} else if !strings.EqualFold(e, d.Email) {
			contacts = append(contacts, register.Change{Field: register.FieldEmail, Value: e})
		}
	}
	if strings.TrimSpace(f.Address) != "" || strings.TrimSpace(f.Postcode) != "" {
		a, aok := register.CheckAddress(f.Address)
		p, pok := register.CheckPostcode(f.Postcode)
		if !aok {
			probs["address"] = page.M("refresh.err.address")
		}
		if !pok {
			probs["postcode"] = page.M("refresh.err.postcode")
		}
		if aok && pok && (a != d.Address || p != d.Postcode) {
			address = append(address, register.Change{Field: register.FieldAddress, Value: a, Postcode: p})
		}
	}
	return contacts, address
}

// Pending is a new contact waiting for its code.
type Pending struct {
	Field, Value string
}

// pendingAD binds a sealed new contact to its member and field.
func pendingAD(memberID int64, field string) string {
	return fmt.Sprintf("refresh_pending:%d:%s", memberID, field)
}

// nextPending is the member's first new contact waiting for a code (mobile
// before email), nil if none. The value is sealed (issue 21); a row
// written before migration 0022 holds it in clear until it expires.
func (s *Service) nextPending(ctx context.Context, l *link) (*Pending, error) {
	p := &Pending{}
	var clear *string
	var ct []byte
	err := s.pool.QueryRow(ctx, `SELECT field, value, sealed FROM refresh_pending WHERE member_id = $1 AND link_id = $2 AND expires_at > $3
		ORDER BY field DESC LIMIT 1`, l.MemberID, l.ID, s.now()).Scan(&p.Field, &clear, &ct)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read new contact: %w", err)
	}
	switch {
	case ct != nil:
		v, err := sealed.Open(s.key, ct, pendingAD(l.MemberID, p.Field))
		if err != nil {
			return nil, fmt.Errorf("read new contact: %w", err)
		}
		p.Value = string(v)
	case clear != nil:
		p.Value = *clear
	}
	return p, nil
}

// sendCode sends a code to the member's next new contact.
func (s *Service) sendCode(r *http.Request, l *link, lang string) error {
	p, err := s.nextPending(r.Context(), l)
	if err != nil {
		return err
	}
	if p == nil {
		return ErrNoPending
	}
	channel := "sms"
	if p.Field == register.FieldEmail {
		channel = "email"
	}
	return s.codes.SendContactCode(r, l.MemberID, channel, p.Value, lang)
}

// Verify checks the code the member typed for their next new contact: on
// success the new value replaces the old one (verified, source member),
// the old contact gets a notice, and the next new contact's code is sent
// (more == true) or the link is spent.
func (s *Service) Verify(r *http.Request, l *link, code, lang string) (more bool, err error) {
	ctx := r.Context()
	p, err := s.nextPending(ctx, l)
	if err != nil {
		return false, err
	}
	if p == nil {
		return false, ErrNoPending
	}
	if err := s.codes.VerifyContactCode(r, l.MemberID, code); err != nil {
		return false, err
	}
	before, err := s.reg.Details(ctx, l.MemberID)
	if err != nil {
		return false, err
	}
	if err := s.reg.UpdateContacts(ctx, l.MemberID, register.SourceMember, actor(l), []register.Change{{Field: p.Field, Value: p.Value}}, nil, s.now()); err != nil {
		return false, err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM refresh_pending WHERE member_id = $1 AND field = $2`, l.MemberID, p.Field); err != nil {
		return false, fmt.Errorf("verify new contact: %w", err)
	}
	s.notifyOld(ctx, before, p.Field, lang)
	next, err := s.nextPending(ctx, l)
	if err != nil {
		return false, err
	}
	if next != nil {
		return true, s.sendCode(r, l, lang)
	}
	return false, s.spend(ctx, l)
}

// notifyOld tells the contact that was replaced that it was (the member
// hears of a change they did not make), in the member's language (else
// the page's). Best effort: a failure is logged
// (without the contact), never shown — the change stands.
func (s *Service) notifyOld(ctx context.Context, before *register.Details, field, pageLang string) {
	when := page.Day(s.now().In(page.London))
	lang := before.Language // the member's language, else their page's
	if lang == "" {
		lang = pageLang
	}
	if lang != "cy" {
		lang = "en"
	}
	text := func(l, key string) string { return page.M(key, when).In(s.pages.T, l) }
	switch field {
	case register.FieldMobile:
		if before.Mobile == "" {
			return
		}
		if err := s.queueNotice(ctx, before.MemberID, before.Mobile, lang); err != nil {
			s.log.WarnContext(ctx, "refresh: notice to the old mobile not queued", "member", before.MemberID, "err", err)
		}
	case register.FieldEmail:
		if before.Email == "" || s.mail == nil {
			return
		}
		other := "cy"
		if lang == "cy" {
			other = "en"
		}
		m := mail.Message{To: before.Email, Subject: s.pages.T(lang, "refresh.notice.subject") + " / " + s.pages.T(other, "refresh.notice.subject"),
			Text: text(lang, "refresh.notice.email") + "\n\n* * *\n\n" + text(other, "refresh.notice.email"), Language: lang + ", " + other}
		if _, err := s.mail.Send(ctx, m); err != nil {
			s.log.WarnContext(ctx, "refresh: notice to the old email not sent", "member", before.MemberID, "err", err)
		}
	}
}
