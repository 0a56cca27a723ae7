package refresh

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the refresh's share of the erasure of a ballot's personal
// data (internal/retention): the personal links and the new contacts
// waiting for a code, the notices to old numbers, the emails' outbox rows and the opt-outs of members who go (no other ballot). Campaigns are
// kept: they hold no member's data.
var Erasure = erasure.Part{
	Steps: []erasure.Step{
		{Table: "refresh_pending", SQL: `DELETE FROM refresh_pending WHERE member_id IN (SELECT id FROM retention_members WHERE gone)
			RETURNING member_id, link_id, field, created_at`},
		{Table: "refresh_notices", SQL: `DELETE FROM refresh_notices WHERE member_id IN (SELECT id FROM retention_members WHERE gone)
			RETURNING id, member_id, changed_at`},
		{Table: "refresh_optouts", SQL: `DELETE FROM refresh_optouts WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "refresh_emails", SQL: `DELETE FROM refresh_emails WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "refresh_links", SQL: `DELETE FROM refresh_links WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
	},
}
