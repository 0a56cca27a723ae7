package auth

import (
	"context"
	"fmt"
)

// Contact is where a member's credentials for one ballot go, and the
// language they prefer them in: "en", "cy", or "" for none given (then the
// ballot's languages: English, or English and Welsh).
type Contact struct{ Mobile, Email, Lang string }

// ContactsFunc returns the contacts of members (nil: every member on the
// register) of a ballot as frozen when it opened (internal/election
// Contacts.For): a register import to another ballot of the union after
// the opening MUST NOT redirect this ballot's invitations or sign-in codes.
type ContactsFunc func(ctx context.Context, ballotID int64, memberIDs []int64) (map[int64]Contact, error)

// UseContacts makes invitations and sign-in codes go to the contacts f
// gives. Without it the members' current contacts are used (tests of this
// package only; internal/app always sets it).
func (s *Service) UseContacts(f ContactsFunc) { s.contacts = f }

// ballotContacts overrides the current contacts in cur with the ballot's
// frozen ones, when a ContactsFunc is set. A member missing from the
// frozen set gets no contact.
func (s *Service) ballotContacts(ctx context.Context, ballotID int64, ids []int64, set func(id int64, c Contact)) error {
	if s.contacts == nil {
		return nil
	}
	m, err := s.contacts(ctx, ballotID, ids)
	if err != nil {
		return fmt.Errorf("ballot contacts: %w", err)
	}
	for _, id := range ids {
		set(id, m[id])
	}
	return nil
}

// SendMemberCodeFor sends a sign-in code to the member's contacts as
// frozen for ballotID (the ballot of the invitation or pending session):
// [Service.SendSigninCode] in English, for callers that show no page.
func (s *Service) SendMemberCodeFor(ctx context.Context, ballotID, memberID int64) error {
	_, err := s.SendSigninCode(ctx, ballotID, memberID, "en")
	return err
}
