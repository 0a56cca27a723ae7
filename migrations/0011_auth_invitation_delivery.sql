-- 0011_auth_invitation_delivery: what happened to each invitation text and
-- email, for the scrutineer's delivery page, and the scrutineer's "send
-- again" (internal/auth delivery.go, docs/auth.md "Invitation delivery").

-- Why the last attempt failed, when it did (the provider's refusal as one
-- of the sms/mail sentinels, never the provider's text, which can repeat
-- the number or address); cleared when the message is sent or uncertain.
-- resent_at is the scrutineer's last "send again" for the member (any
-- channel; at most one every 10 minutes), resends how many there were,
-- resend_channel and resend_outcome what the last one did. Every resend is
-- also in the hash-chained audit log (invitation.resend,
-- invitation.resend_result).
ALTER TABLE auth_invitations
    ADD COLUMN sms_error       text CHECK (sms_error IN ('unavailable', 'rejected', 'opted_out', 'invalid_number', 'error')),
    ADD COLUMN email_error     text CHECK (email_error IN ('unavailable', 'rejected', 'invalid_address', 'auth', 'error')),
    ADD COLUMN resent_at       timestamptz,
    ADD COLUMN resends         integer NOT NULL DEFAULT 0 CHECK (resends >= 0),
    ADD COLUMN resend_channel  text CHECK (resend_channel IN ('sms', 'email')),
    ADD COLUMN resend_outcome  text CHECK (resend_outcome IN ('sent', 'failed', 'uncertain'));
