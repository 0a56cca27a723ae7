-- 0015_outreach: peer-to-peer texting by volunteers (internal/outreach,
-- docs/volunteers.md).
--
-- Volunteers are staff accounts of a union (role 'volunteer'): they sign
-- in with internal/auth's staff passkey ceremonies (recovery by SMS code,
-- approved by an organiser of their union). Outreach never stores a phone
-- number: a conversation keeps a keyed hash of the number (HMAC under the
-- service key) to route replies. Volunteer texts go through the reminders'
-- outbox (gotv_messages, source 'volunteer'), so quiet hours, caps,
-- opt-outs and exactly-once sending are shared.

ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN ('organiser', 'scrutineer', 'volunteer'));
ALTER TABLE staff DROP CONSTRAINT staff_check;
ALTER TABLE staff ADD CONSTRAINT staff_check CHECK ((role IN ('organiser', 'volunteer')) = (union_id IS NOT NULL));

-- A volunteer text is an outbox row without a reminder step.
ALTER TABLE gotv_messages ALTER COLUMN step_id DROP NOT NULL;
ALTER TABLE gotv_messages ADD COLUMN source text NOT NULL DEFAULT 'reminder' CHECK (source IN ('reminder', 'volunteer'));
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_step_source CHECK ((source = 'reminder') = (step_id IS NOT NULL));

-- The scrutineer's approval that volunteers may use turnout (the marked
-- register) for this ballot (statutory.md §5 D26), with the wording of the
-- union's published policy approved. Listed in the s.231B report data.
CREATE TABLE outreach_approvals (
    ballot_id    bigint PRIMARY KEY REFERENCES ballots(id),
    policy_text  text NOT NULL CHECK (length(policy_text) BETWEEN 1 AND 2000),
    approved_by  text NOT NULL CHECK (length(approved_by) <= 64),
    approved_at  timestamptz NOT NULL,
    withdrawn_at timestamptz
);

-- A volunteer texting campaign for one ballot. source: who is in the pool
-- ('self_reported': not tagged voted; 'turnout': not in the marked
-- register, only with an approval). script: the organiser's message.
CREATE TABLE outreach_campaigns (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id   bigint NOT NULL REFERENCES ballots(id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    source      text NOT NULL CHECK (source IN ('self_reported', 'turnout')),
    script      text NOT NULL CHECK (length(script) BETWEEN 1 AND 1000),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL,
    closed_at   timestamptz
);
CREATE INDEX outreach_campaigns_ballot ON outreach_campaigns (ballot_id);

-- A volunteer of one campaign, limited to one branch or one workplace.
CREATE TABLE outreach_volunteers (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id         bigint NOT NULL REFERENCES outreach_campaigns(id),
    staff_id            bigint NOT NULL UNIQUE REFERENCES staff(id),
    display_name        text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    scope_kind          text NOT NULL CHECK (scope_kind IN ('branch', 'workplace')),
    scope               text NOT NULL CHECK (length(scope) BETWEEN 1 AND 200),
    invited_by          text NOT NULL,
    invited_at          timestamptz NOT NULL,
    conduct_accepted_at timestamptz
);
CREATE INDEX outreach_volunteers_campaign ON outreach_volunteers (campaign_id);

-- One conversation per member per campaign. While first_sent_at is NULL it
-- is a claim that lapses at expires_at (the member returns to the pool and
-- another volunteer may claim them); once a text is sent it stays with its
-- volunteer. number_mac routes replies (HMAC of the frozen number).
CREATE TABLE outreach_conversations (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id    bigint NOT NULL REFERENCES outreach_campaigns(id),
    ballot_id      bigint NOT NULL REFERENCES ballots(id),
    member_id      bigint NOT NULL REFERENCES members(id),
    volunteer_id   bigint NOT NULL REFERENCES outreach_volunteers(id),
    workplace      text NOT NULL DEFAULT '' CHECK (length(workplace) <= 200),
    claimed_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    first_sent_at  timestamptz,
    number_mac     bytea CHECK (number_mac IS NULL OR length(number_mac) = 32),
    UNIQUE (campaign_id, member_id)
);
CREATE INDEX outreach_conversations_volunteer ON outreach_conversations (volunteer_id);
CREATE INDEX outreach_conversations_mac ON outreach_conversations (number_mac) WHERE number_mac IS NOT NULL;

-- Messages of a conversation. Outgoing ones point at their outbox row;
-- incoming ones are stored with digit runs that look like phone numbers
-- masked, so no number reaches a volunteer.
CREATE TABLE outreach_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES outreach_conversations(id),
    direction        text NOT NULL CHECK (direction IN ('out', 'in')),
    body             text NOT NULL CHECK (length(body) <= 1600),
    gotv_message_id  bigint REFERENCES gotv_messages(id),
    at               timestamptz NOT NULL
);
CREATE INDEX outreach_messages_conversation ON outreach_messages (conversation_id, id);

-- Tags a volunteer put on a conversation.
CREATE TABLE outreach_tags (
    conversation_id  bigint NOT NULL REFERENCES outreach_conversations(id),
    tag              text NOT NULL CHECK (tag IN ('voted', 'wrong_number', 'postal_pack', 'opt_out', 'needs_help')),
    tagged_at        timestamptz NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);

-- The organiser's queue: postal packs wanted and wrong numbers.
CREATE TABLE outreach_queue (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id  bigint NOT NULL REFERENCES outreach_conversations(id),
    tag              text NOT NULL CHECK (tag IN ('wrong_number', 'postal_pack')),
    created_at       timestamptz NOT NULL,
    resolved_at      timestamptz,
    resolved_by      text,
    UNIQUE (conversation_id, tag)
);
