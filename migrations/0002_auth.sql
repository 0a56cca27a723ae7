-- 0002_auth: voter and staff authentication (internal/auth, docs/auth.md)
-- and the development SMS outbox (internal/sms).
--
-- Secrets are never stored in clear: invitation tokens, session ids and
-- enrolment tokens are kept as SHA-256 hashes, one-time codes as
-- HMAC-SHA-256 with a per-code salt, client IPs (rate limits only) as an
-- HMAC under EBALLOT_SECRET_KEY. Times of members' sign-in events are kept
-- to the hour only (like the ledger), so they cannot be matched to a cast.

-- Staff accounts: organisers (per union) and scrutineers (platform-wide).
-- They sign in with a passkey only; SMS serves recovery, approved by a
-- second staff member.
CREATE TABLE staff (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role         text NOT NULL CHECK (role IN ('organiser', 'scrutineer')),
    union_id     bigint REFERENCES unions(id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    mobile       text CHECK (mobile ~ '^\+[1-9][0-9]{6,14}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz,
    CHECK ((role = 'organiser') = (union_id IS NOT NULL))
);

-- Personal invitation links: one per member per ballot. The token is
-- derived (HMAC under EBALLOT_SECRET_KEY of ballot, member, generation) so
-- reminders can embed it again; only its SHA-256 is stored.
CREATE TABLE auth_invitations (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    ballot_id    bigint NOT NULL REFERENCES ballots(id),
    member_id    bigint NOT NULL REFERENCES members(id),
    generation   integer NOT NULL DEFAULT 1 CHECK (generation >= 1),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    sms_sent_at  timestamptz,
    revoked_at   timestamptz,
    UNIQUE (ballot_id, member_id, generation)
);
CREATE INDEX auth_invitations_member ON auth_invitations (member_id);

-- One-time codes sent by SMS. subject is 'm<member id>' or 's<staff id>'.
CREATE TABLE auth_otp_codes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject     text NOT NULL CHECK (subject ~ '^[ms][0-9]+$'),
    purpose     text NOT NULL CHECK (purpose IN ('signin', 'staff_recovery')),
    salt        bytea NOT NULL CHECK (length(salt) = 16),
    mac         bytea NOT NULL CHECK (length(mac) = 32),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    used_at     timestamptz,
    locked_at   timestamptz
);
CREATE INDEX auth_otp_codes_subject ON auth_otp_codes (subject, created_at);

-- Server-side sessions; id_hash = SHA-256 of the 256-bit cookie value.
-- kind: pending (invitation opened, code not yet entered), member, staff,
-- staff_enrol (may only register a passkey).
CREATE TABLE auth_sessions (
    id_hash       bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    kind          text NOT NULL CHECK (kind IN ('pending', 'member', 'staff', 'staff_enrol')),
    member_id     bigint REFERENCES members(id),
    staff_id      bigint REFERENCES staff(id),
    ballot_id     bigint REFERENCES ballots(id),
    method        text NOT NULL DEFAULT '' CHECK (length(method) <= 32),
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    idle_seconds  integer NOT NULL CHECK (idle_seconds > 0),
    expires_at    timestamptz NOT NULL,
    CHECK ((kind IN ('pending', 'member')) = (member_id IS NOT NULL)),
    CHECK ((kind IN ('staff', 'staff_enrol')) = (staff_id IS NOT NULL))
);
CREATE INDEX auth_sessions_expires ON auth_sessions (expires_at);

-- WebAuthn user handles (random, 32 bytes) of members and staff.
CREATE TABLE auth_webauthn_users (
    subject     text PRIMARY KEY CHECK (subject ~ '^[ms][0-9]+$'),
    handle      bytea NOT NULL UNIQUE CHECK (length(handle) BETWEEN 16 AND 64)
);

-- Registered passkeys. credential is go-webauthn's Credential as JSON;
-- sign_count mirrors its counter for queries.
CREATE TABLE auth_webauthn_credentials (
    id            bytea PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 1023),
    subject       text NOT NULL REFERENCES auth_webauthn_users(subject),
    credential    jsonb NOT NULL,
    sign_count    bigint NOT NULL DEFAULT 0,
    clone_warnings integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz
);
CREATE INDEX auth_webauthn_credentials_subject ON auth_webauthn_credentials (subject);

-- WebAuthn ceremony state (the challenge), single use, short-lived; bound
-- to the browser (hash of its session or pre-session cookie) and a purpose.
CREATE TABLE auth_webauthn_ceremonies (
    binding     bytea NOT NULL CHECK (length(binding) = 32),
    purpose     text NOT NULL CHECK (purpose IN ('member_register', 'member_login', 'staff_register', 'staff_login')),
    subject     text,
    data        jsonb NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (binding, purpose)
);

-- Staff enrolment links (first passkey, or a new one after an approved
-- recovery): SHA-256 of the token only, single use.
CREATE TABLE auth_staff_enrolments (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    staff_id    bigint NOT NULL REFERENCES staff(id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);

-- Staff account recovery: the staff member proves their phone with an SMS
-- code, then a different staff member approves (an organiser of the same
-- union, or a scrutineer).
CREATE TABLE auth_staff_recoveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id      bigint NOT NULL REFERENCES staff(id),
    requested_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    approved_by   bigint REFERENCES staff(id),
    decided_at    timestamptz,
    approved      boolean,
    CHECK (approved_by IS NULL OR approved_by <> staff_id)
);

-- Fixed-window rate-limit counters shared by every replica.
CREATE TABLE auth_rate_limits (
    key           text NOT NULL CHECK (length(key) <= 200),
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Sign-in audit. Never codes, tokens, phone numbers or IPs. Member events
-- are kept to the hour; staff events to the second.
CREATE TABLE auth_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    event       text NOT NULL CHECK (length(event) <= 64),
    outcome     text NOT NULL CHECK (length(outcome) <= 64),
    member_id   bigint REFERENCES members(id),
    staff_id    bigint REFERENCES staff(id),
    ballot_id   bigint REFERENCES ballots(id)
);
CREATE INDEX auth_events_member ON auth_events (member_id);
CREATE INDEX auth_events_staff ON auth_events (staff_id);

-- Development SMS outbox (EBALLOT_SMS_PROVIDER=dev only): the messages
-- that would have been sent, read on /dev/outbox. Holds codes and links.
CREATE TABLE sms_outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    to_number   text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
