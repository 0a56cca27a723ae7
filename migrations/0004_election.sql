-- Ballot configuration, styles with their issuer keys, the marked register
-- (issuance), postal returns, and the tamper-evident audit log.

-- Configuration of a ballot, edited in draft and frozen at open.
ALTER TABLE ballots
    ADD COLUMN regime          text,            -- legal regime id, fixed at open (statutory.md §5 F42)
    ADD COLUMN config          jsonb NOT NULL DEFAULT '{}'::jsonb, -- questions, texts, workplaces (internal/election.Config)
    ADD COLUMN aggregation     text NOT NULL DEFAULT 'separate' CHECK (aggregation IN ('separate', 'aggregated')),
    ADD COLUMN s228a_ground    text CHECK (s228a_ground IN ('s228A(2)', 's228A(3)', 's228A(4)')),
    ADD COLUMN scrutineer_name text CHECK (length(scrutineer_name) <= 200),
    ADD COLUMN small_ballot_exemption boolean NOT NULL DEFAULT false, -- s.226C (≤ 50 entitled)
    ADD COLUMN security_assessment_by text CHECK (length(security_assessment_by) <= 200),
    ADD COLUMN security_assessment_at timestamptz,
    ADD COLUMN trustees        jsonb,           -- key ceremony output: threshold, election key, public keys
    ADD COLUMN manifest        bytea,           -- canonical manifest JSON, set at open, never changed
    ADD COLUMN manifest_hash   bytea CHECK (manifest_hash IS NULL OR length(manifest_hash) = 32),
    ADD COLUMN register_hash   bytea,           -- hash of the frozen register (s.227)
    ADD COLUMN opened_at       timestamptz,
    ADD COLUMN closed_at       timestamptz,
    ADD COLUMN published_at    timestamptz,
    ADD COLUMN result          bytea,           -- the scrutineer's signed result file
    ADD COLUMN notice_sent_at  timestamptz,     -- s.226A notice of the ballot sent to every employer
    ADD COLUMN sample_sent_at  timestamptz,     -- s.226A sample voting paper sent to every employer
    ADD CONSTRAINT s228a_ground_when_aggregated CHECK (aggregation = 'separate' OR s228a_ground IS NOT NULL);

-- A ballot style: one per separate workplace ballot (s.228), or one 'all'
-- for an aggregated ballot. Each has its own RSA blind-signature issuer key
-- (docs/protocol.md §5); the private key is encrypted at rest.
CREATE TABLE ballot_styles (
    ballot_id        bigint NOT NULL REFERENCES ballots(id),
    style            text NOT NULL CHECK (style ~ '^[a-z0-9-]{1,64}$'),
    idx              integer NOT NULL CHECK (idx >= 0),
    name             text NOT NULL,
    issuer_public    bytea NOT NULL,   -- SPKI DER
    issuer_private   bytea NOT NULL,   -- AES-256-GCM under EBALLOT_SECRET_KEY
    PRIMARY KEY (ballot_id, style),
    UNIQUE (ballot_id, idx)
);

-- The marked register: who has been given an authorisation to cast (never
-- how they voted). One row per member per ballot, by any channel: an online
-- authorisation or a postal return recorded by the scrutineer (s.230(2) as
-- modified). The time is kept to the hour only.
CREATE TABLE marked_register (
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    member_id     bigint NOT NULL REFERENCES members(id),
    channel       text NOT NULL CHECK (channel IN ('online', 'postal')),
    blinded_hash  bytea CHECK (blinded_hash IS NULL OR length(blinded_hash) = 32),
    blind_sig     bytea,
    hour          timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
    replaced      integer NOT NULL DEFAULT 0,   -- approved replacements of a lost authorisation
    PRIMARY KEY (ballot_id, member_id),
    CHECK ((channel = 'online') = (blinded_hash IS NOT NULL AND blind_sig IS NOT NULL))
);

-- Requests to replace a lost authorisation: organiser asks, scrutineer
-- approves; counted in the scrutineer's report.
CREATE TABLE replacement_requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    member_id     bigint NOT NULL REFERENCES members(id),
    reason        text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    decided_by    text,
    decided_at    timestamptz,
    approved      boolean
);

-- Authorisations replaced after an approved request; kept for the count
-- "ballots ≤ authorisations issued" in the scrutineer's report.
CREATE TABLE replaced_authorisations (
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    member_id     bigint NOT NULL REFERENCES members(id),
    blinded_hash  bytea NOT NULL,
    hour          timestamptz NOT NULL,
    request_id    bigint NOT NULL REFERENCES replacement_requests(id),
    PRIMARY KEY (ballot_id, member_id, blinded_hash)
);

-- "This wasn't me": a member reports an authorisation in their name that
-- they did not ask for; it goes to the scrutineer.
CREATE TABLE impersonation_reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id   bigint NOT NULL REFERENCES ballots(id),
    member_id   bigint NOT NULL REFERENCES members(id),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    reported_at timestamptz NOT NULL DEFAULT now()
);

-- Tamper-evident audit log of admin and scrutineer actions (statutory.md
-- §5 F38): each entry's hash chains the previous one; verification
-- recomputes the chain. Append-only: updates and deletes are refused.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    ballot_id  bigint,
    detail     text NOT NULL DEFAULT '{}', -- JSON exactly as hashed
    prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash       bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- A register file between its preview and its commit (personal data:
-- deleted when committed, and after a day if never committed).
CREATE TABLE register_uploads (
    ballot_id    bigint NOT NULL REFERENCES ballots(id),
    sha256       bytea NOT NULL CHECK (length(sha256) = 32),
    content      bytea NOT NULL,
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ballot_id, sha256)
);
