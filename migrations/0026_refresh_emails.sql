-- 0026_refresh_emails: contact-refresh links by email (issue 24), for
-- members with an email and no mobile (internal/refresh,
-- docs/contact-refresh.md "Links by email").
-- (Given number 0023; renumbered 0026 on merging main, which took 0023 to 0025.)
--
-- One row per member per campaign: the email's outbox. A row is claimed
-- ('sending', with a lease), its send is recorded as started
-- (send_started_at) before the mail server is called, and its outcome
-- after: 'sent'; 'failed' (refused for good); 'unknown' (handed over with
-- no answer, or the sender stopped between the start and the record: it
-- may have arrived, so it is NEVER sent again); 'skipped' (cancelled,
-- opted out, no email any more, an employer's address). A claim whose
-- lease ran out before its send started goes back to 'pending'.
-- No address or body is kept here: the address is the member's at send
-- time. internal/refresh's; erased with the member.
CREATE TABLE refresh_emails (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES refresh_campaigns(id),
    member_id       bigint NOT NULL REFERENCES members(id),
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'unknown')),
    reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 40),
    not_before      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_until     timestamptz,
    send_started_at timestamptz,
    sent_at         timestamptz,
    UNIQUE (campaign_id, member_id),
    CHECK ((state = 'sending') = (lease_until IS NOT NULL))
);
CREATE INDEX refresh_emails_due ON refresh_emails (not_before, id) WHERE state = 'pending';
CREATE INDEX refresh_emails_sending ON refresh_emails (lease_until) WHERE state = 'sending';
CREATE INDEX refresh_emails_member ON refresh_emails (member_id);
