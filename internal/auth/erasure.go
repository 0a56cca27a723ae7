package auth

import "github.com/unionvote/eballot/internal/erasure"

// Erasure is sign-in's part of the erasure of a ballot's personal data
// (internal/erasure): the ballot's invitation links, sessions and sign-in
// events, and the member-level records (subject 'm<id>': codes, passkeys,
// ceremonies, rate-limit counters) of members whose row goes.
var Erasure = erasure.Part{
	Links: []string{"auth_invitations", "auth_pack_codes"},
	Steps: []erasure.Step{
		{Table: "auth_invitations", SQL: `DELETE FROM auth_invitations WHERE ballot_id = $1 RETURNING *`},
		{Table: "auth_pack_codes", SQL: `DELETE FROM auth_pack_codes WHERE ballot_id = $1
		OR member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_sessions", SQL: `DELETE FROM auth_sessions WHERE ballot_id = $1
		OR member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_events", SQL: `DELETE FROM auth_events WHERE ballot_id = $1
		OR member_id IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_otp_codes", SQL: `DELETE FROM auth_otp_codes WHERE subject IN (SELECT 'm' || id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_webauthn_ceremonies", SQL: `DELETE FROM auth_webauthn_ceremonies WHERE subject IN (SELECT 'm' || id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_webauthn_credentials", SQL: `DELETE FROM auth_webauthn_credentials WHERE subject IN (SELECT 'm' || id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_webauthn_users", SQL: `DELETE FROM auth_webauthn_users WHERE subject IN (SELECT 'm' || id FROM retention_members WHERE gone) RETURNING *`},
		{Table: "auth_rate_limits", SQL: `DELETE FROM auth_rate_limits WHERE key ~ ':subject:m[0-9]+$'
		AND substring(key FROM ':subject:m([0-9]+)$')::bigint IN (SELECT id FROM retention_members WHERE gone) RETURNING *`},
	},
}
