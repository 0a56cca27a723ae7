-- 0023_after_close_notices: after the close (issue 19; statutory.md §5
-- points 29, 31–33; internal/result notices_after.go, docs/ballots.md
-- "After the close").
-- (Number given as 0023 on branch notices19: renumber on merge to keep the
-- numbers consecutive. It redefines gotv_messages_source_check: merge the
-- list of sources with any other migration that does.)

-- Where each employer of a union takes the s.231A notice of a result:
-- per union, by employer (election.EmployerKey of the register's
-- employer column), so an address given once serves every later ballot.
-- internal/result's. An employer's address is not a member's data.
CREATE TABLE result_employer_contacts (
    union_id      bigint NOT NULL REFERENCES unions(id),
    employer_key  text NOT NULL CHECK (length(employer_key) BETWEEN 1 AND 200),
    employer      text NOT NULL CHECK (length(employer) BETWEEN 1 AND 200),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    updated_by    text NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (union_id, employer_key)
);

-- When a published ballot's s.231 notices were planned (one row per
-- member and channel created in result_notices), with the counts shown to
-- organisers. Counts only: kept after the ballot's personal data goes.
CREATE TABLE result_notice_plans (
    ballot_id   bigint PRIMARY KEY REFERENCES ballots(id),
    planned_at  timestamptz NOT NULL,
    members     integer NOT NULL CHECK (members >= 0),
    by_email    integer NOT NULL CHECK (by_email >= 0),
    by_sms      integer NOT NULL CHECK (by_sms >= 0),
    by_post     integer NOT NULL CHECK (by_post >= 0)
);

-- One notice each: the s.231 result to a member by one channel (kind
-- 'member'), the s.231A result to an employer (kind 'employer', by
-- email), or a reminder of the s.231B report deadline to a scrutineer
-- (kind 'reminder', by text, 'week' or 'day' before it). The sending, its
-- state and its time are the outbox's (gotv_messages.result_notice_id):
-- each notice is sent exactly once. The address is read when it is sent
-- (the contacts frozen at opening, the employer's contact, the staff
-- account's mobile): no contact is stored here. internal/result's; the
-- ballot's rows are erased with its personal data.
CREATE TABLE result_notices (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    kind          text NOT NULL CHECK (kind IN ('member', 'employer', 'reminder')),
    channel       text NOT NULL CHECK (channel IN ('email', 'sms')),
    member_id     bigint REFERENCES members(id),
    employer_key  text CHECK (length(employer_key) BETWEEN 1 AND 200),
    staff_id      bigint REFERENCES staff(id),
    reminder      text CHECK (reminder IN ('week', 'day')),
    created_at    timestamptz NOT NULL,
    queued_at     timestamptz, -- put in the outbox (gotv_messages)
    CHECK ((kind = 'member') = (member_id IS NOT NULL)),
    CHECK ((kind = 'employer') = (employer_key IS NOT NULL)),
    CHECK ((kind = 'reminder') = (staff_id IS NOT NULL AND reminder IS NOT NULL)),
    CHECK (kind <> 'employer' OR channel = 'email'),
    CHECK (kind <> 'reminder' OR channel = 'sms')
);
CREATE UNIQUE INDEX result_notices_member ON result_notices (ballot_id, member_id, channel) WHERE kind = 'member';
CREATE UNIQUE INDEX result_notices_employer ON result_notices (ballot_id, employer_key) WHERE kind = 'employer';
CREATE UNIQUE INDEX result_notices_reminder ON result_notices (ballot_id, staff_id, reminder) WHERE kind = 'reminder';
CREATE INDEX result_notices_member_id ON result_notices (member_id) WHERE member_id IS NOT NULL;
CREATE INDEX result_notices_unqueued ON result_notices (id) WHERE queued_at IS NULL;

-- Requests for a copy of the scrutineer's s.231B report, by a member
-- entitled to vote or by their employer, within six months of the date
-- of the ballot (s.231B(2)), and when each copy was supplied.
-- internal/result's; PERSONAL DATA (which member asked): erased with the
-- ballot's personal data.
CREATE TABLE result_report_requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    requester     text NOT NULL CHECK (requester IN ('member', 'employer')),
    member_id     bigint REFERENCES members(id),
    employer      text CHECK (length(employer) BETWEEN 1 AND 200),
    requested_at  timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    recorded_at   timestamptz NOT NULL,
    supplied_at   timestamptz,
    supplied_by   text,
    CHECK ((requester = 'member') = (member_id IS NOT NULL)),
    CHECK ((requester = 'employer') = (employer IS NOT NULL)),
    CHECK ((supplied_at IS NULL) = (supplied_by IS NULL))
);
CREATE INDEX result_report_requests_ballot ON result_report_requests (ballot_id, requested_at);

-- The outbox sends the notices (source 'result'): texts under the rules
-- of every text (STOP, quiet hours) and emails (channel 'email', through
-- internal/mail), each exactly once. An employer's notice has no member.
ALTER TABLE gotv_messages ADD COLUMN result_notice_id bigint UNIQUE CHECK (result_notice_id > 0);
ALTER TABLE gotv_messages ADD COLUMN channel text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'email'));
ALTER TABLE gotv_messages ALTER COLUMN member_id DROP NOT NULL;
ALTER TABLE gotv_messages DROP CONSTRAINT gotv_messages_source_check;
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_source_check
    CHECK (source IN ('reminder', 'volunteer', 'refresh', 'notice', 'result'));
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_result CHECK ((source = 'result') = (result_notice_id IS NOT NULL));
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_member_source CHECK (member_id IS NOT NULL OR source = 'result');
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_channel CHECK (channel = 'sms' OR source = 'result');
