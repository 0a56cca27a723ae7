package gotv

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the reminders' part of the erasure of a ballot's personal data
// (internal/erasure): the ballot's reminder messages, and the preferences
// and failed-number flags of members whose row goes.
var Erasure = erasure.Part{
	Links: []string{"gotv_messages"},
	Steps: []erasure.Step{
		// Reminder outbox rows (member, ballot, delivery), and the contact-refresh
		// texts (no ballot) of members who go.
		{Table: "gotv_messages", SQL: `DELETE FROM gotv_messages WHERE ballot_id = $1
			OR (ballot_id IS NULL AND member_id IN (SELECT id FROM retention_members WHERE gone)) RETURNING *`},
		{Table: "gotv_contacts", SQL: `DELETE FROM gotv_contacts WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "gotv_contact_issues", SQL: `DELETE FROM gotv_contact_issues WHERE member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
	},
}
