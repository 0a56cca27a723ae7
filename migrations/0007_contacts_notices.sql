-- 0007_contacts_notices: contact details frozen at open and per-employer s.226A
-- notice records (internal/election contacts.go, employer_notices.go;
-- docs/ballots.md). Retention is 0009.

-- Contacts frozen when a ballot opens: the mobile and email its
-- credentials (invitations, sign-in codes) and reminders go to, one row per
-- member on the frozen register. A later register import to a draft ballot
-- of the same union changes members.mobile/email, never these. The
-- contacts are sealed (AES-256-GCM under EBALLOT_SECRET_KEY, internal/
-- sealed) with additional data "contact:<ballot id>:<member id>", so a row
-- copied to another member or ballot does not open. has_mobile and
-- has_email are kept in clear so that reminder segments can be counted in
-- SQL; they reveal no contact.
CREATE TABLE ballot_contacts (
    ballot_id   bigint NOT NULL REFERENCES ballots(id),
    member_id   bigint NOT NULL REFERENCES members(id),
    sealed      bytea NOT NULL,
    has_mobile  boolean NOT NULL,
    has_email   boolean NOT NULL,
    PRIMARY KEY (ballot_id, member_id)
);
ALTER TABLE ballots ADD COLUMN contacts_frozen_at timestamptz;

-- s.226A notices per employer: the notice of the ballot (s.226A(1)(a),
-- at least 7 days before the opening day) and the sample voting paper
-- (s.226A(1)(b), at least 3 days before) are given to each employer, so
-- each employer has its own clock. employer_key is the employer's name in
-- lower case with spaces collapsed (how the register's employers are
-- grouped, internal/election notices.go). Recorded by organisers (the
-- union gives the notices) while the ballot is a draft; the audit log
-- holds every change.
CREATE TABLE employer_notices (
    ballot_id       bigint NOT NULL REFERENCES ballots(id),
    employer_key    text NOT NULL CHECK (length(employer_key) <= 200),
    employer        text NOT NULL CHECK (length(employer) <= 200),
    notice_sent_at  timestamptz,
    sample_sent_at  timestamptz,
    recorded_by     text NOT NULL,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (ballot_id, employer_key)
);

-- Drafts that recorded one pair of times for every employer before this
-- migration keep them, now per employer of their register.
INSERT INTO employer_notices (ballot_id, employer_key, employer, notice_sent_at, sample_sent_at, recorded_by, recorded_at)
SELECT DISTINCT ON (b.id, lower(regexp_replace(btrim(m.employer), '\s+', ' ', 'g')))
       b.id, lower(regexp_replace(btrim(m.employer), '\s+', ' ', 'g')), btrim(m.employer),
       b.notice_sent_at, b.sample_sent_at, 'migration:0007', now()
FROM ballots b JOIN register_entries r ON r.ballot_id = b.id JOIN members m ON m.id = r.member_id
WHERE b.status = 'draft' AND (b.notice_sent_at IS NOT NULL OR b.sample_sent_at IS NOT NULL);
