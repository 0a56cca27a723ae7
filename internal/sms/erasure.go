package sms

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is the development SMS outbox's part of the erasure of a ballot's
// personal data (internal/erasure; EBALLOT_SMS_PROVIDER=dev only): messages
// to a mobile of a member whose row goes that no remaining member uses.
var Erasure = erasure.Part{
	Steps: []erasure.Step{
		{Table: "sms_outbox", SQL: `DELETE FROM sms_outbox WHERE to_number IN (SELECT addr FROM retention_addresses WHERE kind = 'mobile') RETURNING *`},
	},
}
