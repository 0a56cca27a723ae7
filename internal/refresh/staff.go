package refresh

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/unionvote/eballot/internal/register"
	"github.com/unionvote/eballot/internal/web/page"
)

// Staff corrections: an organiser of the union corrects a member's mobile,
// email or postal address (a member who phoned the office, a returned
// letter). The value is checked as the member's page checks it, applied at
// once with source "staff", verified now (the organiser confirmed it with
// the member), in the audit log ("member.contacts", actor the organiser,
// never the value), and the old mobile or email gets the notice of the
// change as after a member's own change.

// staffField is a field of the staff page with its provenance.
type staffField struct {
	Key, Value string // catalogue key of the label, the value (masked)
	Source     string // "", import, member, staff
	Verified   *time.Time
}

type staffMemberData struct {
	Staff    page.Staff
	Number   string
	Found    bool
	Fields   []staffField
	Form     Form
	Problems map[string]string
	Saved    bool
	Unknown  bool
}

// StaffCorrect applies an organiser's correction to the member memberID of
// their union. Any refused value: nothing changes, problems say why.
func (s *Service) StaffCorrect(ctx context.Context, st page.Staff, memberID int64, f Form) (changed []string, probs Problems, err error) {
	d, err := s.reg.Details(ctx, memberID)
	if err != nil {
		return nil, nil, err
	}
	if d.UnionID != st.UnionID {
		return nil, nil, register.ErrNoMember
	}
	policy, err := s.policy(ctx, st.UnionID)
	if err != nil {
		return nil, nil, err
	}
	policy.AllowFictionalNumbers = s.fictional
	probs = Problems{}
	contacts, address := checkContacts(f, d, policy, probs)
	changes := slices.Concat(contacts, address)
	if len(probs) > 0 {
		return nil, probs, nil
	}
	if len(changes) == 0 {
		return nil, nil, nil
	}
	if err := s.reg.UpdateContacts(ctx, memberID, register.SourceStaff, st.Actor(), changes, nil, s.now()); err != nil {
		return nil, nil, err
	}
	for _, c := range changes {
		changed = append(changed, c.Field)
		if c.Field == register.FieldMobile || c.Field == register.FieldEmail {
			s.notifyOld(ctx, d, c.Field, "en")
		}
	}
	s.log.InfoContext(ctx, "refresh: staff corrected contacts", "member", memberID, "fields", changed)
	return changed, nil, nil
}

func (s *Service) staffMember(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	s.renderStaffMember(w, r, st, http.StatusOK, &staffMemberData{Number: strings.TrimSpace(r.URL.Query().Get("number"))})
}

func (s *Service) renderStaffMember(w http.ResponseWriter, r *http.Request, st page.Staff, status int, sd *staffMemberData) {
	sd.Staff = st
	if sd.Number != "" && len(sd.Number) <= 64 {
		id, err := s.reg.UnionMember(r.Context(), st.UnionID, sd.Number)
		switch {
		case errors.Is(err, register.ErrNoMember):
			sd.Unknown = true
			if status == http.StatusOK {
				status = http.StatusNotFound
			}
		case err != nil:
			s.pages.Fail(w, r, err)
			return
		default:
			d, err := s.reg.Details(r.Context(), id)
			if err != nil {
				s.pages.Fail(w, r, err)
				return
			}
			sd.Found = true
			field := func(key, field, value string) staffField {
				fi := d.Fields[field]
				return staffField{Key: key, Value: value, Source: fi.Source, Verified: fi.VerifiedAt}
			}
			mob, mail, addr := "", "", ""
			if d.Mobile != "" {
				mob = page.MaskMobile(d.Mobile)
			}
			if d.Email != "" {
				mail = page.MaskEmail(d.Email)
			}
			if d.Address != "" {
				addr = d.Postcode
			}
			sd.Fields = []staffField{field("refresh.f.mobile", register.FieldMobile, mob), field("refresh.f.email", register.FieldEmail, mail),
				field("refresh.f.postal_address", register.FieldAddress, addr)}
		}
	}
	s.pages.Render(w, r, status, "refresh_staff_member", sd)
}

func (s *Service) staffCorrect(w http.ResponseWriter, r *http.Request) {
	st, ok := page.StaffOf(w, r, s.staff, s.pages, "organiser")
	if !ok {
		return
	}
	sd := &staffMemberData{Number: strings.TrimSpace(r.PostFormValue("number"))}
	f := Form{Mobile: r.PostFormValue("mobile"), Email: r.PostFormValue("email"), Address: r.PostFormValue("address"),
		Postcode: r.PostFormValue("postcode")}
	if len(f.Mobile) > 64 || len(f.Email) > 320 || len(f.Address) > 2000 || len(f.Postcode) > 16 || len(sd.Number) > 64 {
		s.pages.Fail(w, r, ErrInvalid)
		return
	}
	id, err := s.reg.UnionMember(r.Context(), st.UnionID, sd.Number)
	if err != nil {
		s.renderStaffMember(w, r, st, http.StatusNotFound, sd)
		return
	}
	_, probs, err := s.StaffCorrect(r.Context(), st, id, f)
	if err != nil {
		s.pages.Fail(w, r, err)
		return
	}
	if len(probs) > 0 {
		lang := s.pages.Lang(w, r)
		sd.Form, sd.Problems = f, map[string]string{}
		for k, m := range probs {
			sd.Problems[k] = m.In(s.pages.T, lang)
		}
		s.renderStaffMember(w, r, st, http.StatusBadRequest, sd)
		return
	}
	sd.Saved = true
	s.renderStaffMember(w, r, st, http.StatusOK, sd)
}
