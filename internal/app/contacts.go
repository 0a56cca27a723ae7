package app

import (
	"context"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/election"
	"github.com/unionvote/eballot/internal/gotv"
)

// authContacts gives internal/auth the contacts frozen at a ballot's
// opening (internal/election contacts.go): invitations and sign-in codes
// go there.
func authContacts(c *election.Contacts) auth.ContactsFunc {
	return func(ctx context.Context, ballotID int64, ids []int64) (map[int64]auth.Contact, error) {
		m, err := c.For(ctx, ballotID, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]auth.Contact, len(m))
		for id, x := range m {
			out[id] = auth.Contact{Mobile: x.Mobile, Email: x.Email}
		}
		return out, nil
	}
}

// gotvMobiles gives internal/gotv the mobiles frozen at a ballot's
// opening: reminders go there.
func gotvMobiles(c *election.Contacts) gotv.MobilesFunc {
	return func(ctx context.Context, ballotID int64, ids []int64) (map[int64]string, error) {
		m, err := c.For(ctx, ballotID, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]string, len(m))
		for id, x := range m {
			out[id] = x.Mobile
		}
		return out, nil
	}
}
