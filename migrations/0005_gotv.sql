-- 0005_gotv: turnout and get-out-the-vote reminders (internal/gotv,
-- docs/gotv.md).
--
-- Turnout is read from the marked register (0004) only: who has an
-- authorisation or a postal return, never how anyone voted. Nothing here
-- refers to the ledger. Message bodies are never stored (only a SHA-256 of
-- the rendered body, for reconciliation with the provider).

-- Per-union GOTV policy. Defaults are the safe ones: member lists are never
-- exported and cells under 10 members are suppressed.
CREATE TABLE gotv_policies (
    union_id               bigint PRIMARY KEY REFERENCES unions(id),
    allow_nonvoter_export  boolean NOT NULL DEFAULT false,
    min_cell               integer NOT NULL DEFAULT 10 CHECK (min_cell BETWEEN 2 AND 1000),
    updated_by             text NOT NULL,
    updated_at             timestamptz NOT NULL
);

-- Reminders use member-level "has not yet voted" data. statutory.md §5 D26:
-- off by default, switched on per ballot by the scrutineer.
CREATE TABLE gotv_ballot_settings (
    ballot_id          bigint PRIMARY KEY REFERENCES ballots(id),
    reminders_enabled  boolean NOT NULL DEFAULT false,
    decided_by         text NOT NULL,
    decided_at         timestamptz NOT NULL
);

-- Per-member contact preferences: time zone for quiet hours.
CREATE TABLE gotv_contacts (
    member_id  bigint PRIMARY KEY REFERENCES members(id),
    time_zone  text NOT NULL DEFAULT 'Europe/London' CHECK (length(time_zone) BETWEEN 1 AND 64)
);

-- Numbers that replied STOP (or an equivalent keyword); START removes the
-- row. Keyed by number: the inbound webhook only knows the sender.
CREATE TABLE gotv_optouts (
    number      text PRIMARY KEY CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
    keyword     text NOT NULL CHECK (length(keyword) <= 32),
    opted_out_at timestamptz NOT NULL
);

-- Members whose number failed (e.g. Twilio 30003 unreachable, 21610
-- blocked, 21211 invalid) for the organiser to fix their contact data.
CREATE TABLE gotv_contact_issues (
    member_id   bigint PRIMARY KEY REFERENCES members(id),
    error_code  integer NOT NULL,
    flagged_at  timestamptz NOT NULL
);

-- A reminder campaign for one ballot: a segment (workplaces and branches;
-- empty = everyone) of members who have not voted.
CREATE TABLE gotv_campaigns (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id   bigint NOT NULL REFERENCES ballots(id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    workplaces  text[] NOT NULL DEFAULT '{}',
    branches    text[] NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'cancelled')),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX gotv_campaigns_ballot ON gotv_campaigns (ballot_id);

-- Steps of a campaign: one message each, due at a time. When a step of a
-- scheduled campaign is due its outbox rows are created (materialised_at).
CREATE TABLE gotv_steps (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     bigint NOT NULL REFERENCES gotv_campaigns(id),
    seq             integer NOT NULL CHECK (seq >= 1),
    template        text NOT NULL CHECK (length(template) BETWEEN 1 AND 1600),
    due_at          timestamptz NOT NULL,
    materialised_at timestamptz,
    UNIQUE (campaign_id, seq)
);
CREATE INDEX gotv_steps_due ON gotv_steps (due_at) WHERE materialised_at IS NULL;

-- The transactional outbox: one row per member per step, never two.
-- state: pending → sending → sent | failed; skipped (voted, opted out, no
-- number, cap reached) and unknown (a send was started but its outcome was
-- not recorded and could not be reconciled: never resent automatically).
-- send_started_at is written (and committed) before the provider is called.
CREATE TABLE gotv_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    step_id          bigint NOT NULL REFERENCES gotv_steps(id),
    ballot_id        bigint NOT NULL REFERENCES ballots(id),
    member_id        bigint NOT NULL REFERENCES members(id),
    idem_key         text NOT NULL UNIQUE CHECK (idem_key ~ '^[0-9a-f]{32}$'),
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'unknown')),
    not_before       timestamptz NOT NULL,
    deferrals        integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    claimed_by       text,
    lease_until      timestamptz,
    send_started_at  timestamptz,
    body_sha256      bytea CHECK (body_sha256 IS NULL OR length(body_sha256) = 32),
    parts            integer,
    provider_id      text UNIQUE,
    delivery         text NOT NULL DEFAULT '' CHECK (length(delivery) <= 32),
    delivery_rank    integer NOT NULL DEFAULT 0,
    error_code       integer,
    reason           text NOT NULL DEFAULT '' CHECK (length(reason) <= 64),
    sent_at          timestamptz,
    UNIQUE (step_id, member_id)
);
CREATE INDEX gotv_messages_pending ON gotv_messages (not_before, id) WHERE state = 'pending';
CREATE INDEX gotv_messages_sending ON gotv_messages (lease_until) WHERE state = 'sending';
CREATE INDEX gotv_messages_member ON gotv_messages (member_id, sent_at);
