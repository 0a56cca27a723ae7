-- 0008_auth_email: email invitations, the development mail outbox and
-- staff recovery sessions (internal/auth, internal/mail, docs/auth.md).

-- Email delivery of personal invitation links, alongside the text. At
-- most once per invitation: a sender claims the row (email_claimed_at, a
-- lease) before sending, and records email_sent_at once the server has
-- accepted the message (or when the outcome is uncertain: the message may
-- have been accepted, so it is never sent again automatically). A failed
-- send releases the claim; the next IssueInvitations run retries it.
ALTER TABLE auth_invitations
    ADD COLUMN email_sent_at     timestamptz,
    ADD COLUMN email_claimed_at  timestamptz,
    ADD COLUMN email_attempts    integer NOT NULL DEFAULT 0 CHECK (email_attempts >= 0);

-- The text of the same link, claimed the same way (sms_claimed_at, a
-- lease; sms_sent_at of 0002 records it), so concurrent runs text each
-- member at most once.
ALTER TABLE auth_invitations
    ADD COLUMN sms_claimed_at    timestamptz,
    ADD COLUMN sms_attempts      integer NOT NULL DEFAULT 0 CHECK (sms_attempts >= 0);

-- Development mail outbox (EBALLOT_MAIL_PROVIDER=dev only), read on
-- /dev/outbox. Holds personal links.
CREATE TABLE mail_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  text NOT NULL,
    to_addr     text NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    raw         bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Staff account recovery pages: a 'staff_recovery' session is the browser
-- that asked for a recovery code. Its staff_id is NULL when the mobile
-- number entered matches no account (the pages answer the same either
-- way). The session kind checks of 0002 are replaced accordingly.
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'auth_sessions'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%kind%'
    LOOP
        EXECUTE format('ALTER TABLE auth_sessions DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
ALTER TABLE auth_sessions
    ADD CONSTRAINT auth_sessions_kind_check
        CHECK (kind IN ('pending', 'member', 'staff', 'staff_enrol', 'staff_recovery')),
    ADD CONSTRAINT auth_sessions_member_check
        CHECK ((kind IN ('pending', 'member')) = (member_id IS NOT NULL)),
    ADD CONSTRAINT auth_sessions_staff_check
        CHECK (kind = 'staff_recovery' OR (kind IN ('staff', 'staff_enrol')) = (staff_id IS NOT NULL));
