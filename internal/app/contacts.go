package app

import (
	"context"

	"github.com/unionvote/eballot/internal/auth"
	"github.com/unionvote/eballot/internal/gotv"
	"github.com/unionvote/eballot/internal/register"
)

// authContacts gives internal/auth the contacts frozen at a ballot's
// opening (internal/register): invitations and sign-in codes
// go there.
func authContacts(c *register.Store) auth.ContactsFunc {
	return func(ctx context.Context, ballotID int64, ids []int64) (map[int64]auth.Contact, error) {
		m, err := c.Contacts(ctx, ballotID, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]auth.Contact, len(m))
		for id, x := range m {
			out[id] = auth.Contact{Mobile: x.Mobile, Email: x.Email, Lang: x.Lang}
		}
		return out, nil
	}
}

// gotvMobiles gives internal/gotv the mobiles frozen at a ballot's
// opening: reminders go there.
func gotvMobiles(c *register.Store) gotv.MobilesFunc {
	return func(ctx context.Context, ballotID int64, ids []int64) (map[int64]string, error) {
		m, err := c.Contacts(ctx, ballotID, ids)
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
