package mail

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the development mail outbox's part of the erasure of a
// ballot's personal data (internal/erasure; EBALLOT_MAIL_PROVIDER=dev
// only): messages to an email of a member whose row goes that no remaining
// member uses.
var Erasure = erasure.Part{
	Steps: []erasure.Step{
		{Table: "mail_outbox", SQL: `DELETE FROM mail_outbox WHERE lower(to_addr) IN (SELECT addr FROM retention_addresses WHERE kind = 'email')
		RETURNING id, message_id, to_addr, subject, body, created_at`},
	},
}
