-- 0010_auth_email_codes: sign-in codes by email for members without a
-- personal mobile, and invitations whose delivery is uncertain
-- (internal/auth, docs/auth.md).

-- Where a one-time code went: 'sms' (every code before this migration) or
-- 'email' (a member whose frozen contacts hold a personal email but no
-- usable mobile). The code itself is stored as before: salted HMAC only.
ALTER TABLE auth_otp_codes
    ADD COLUMN channel text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'email'));

-- An invitation text or email whose outcome is unknown (the provider may
-- have taken it: a timeout or a broken connection after the request was
-- sent). It is also recorded as sent (sms_sent_at / email_sent_at), so it
-- is never sent again automatically; these columns let organisers find
-- the members who may not have it.
ALTER TABLE auth_invitations
    ADD COLUMN sms_uncertain_at    timestamptz,
    ADD COLUMN email_uncertain_at  timestamptz;
