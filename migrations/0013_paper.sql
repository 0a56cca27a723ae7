-- 0012_paper: every channel in one result (docs/paper.md, docs/protocol.md §9).
--
-- The marked register takes the workplace box as a third channel; the
-- return log (issuance) records every paper logged and every refusal of a
-- second mark, by channel, with its outcome; the ledger's paper section
-- (append-only like every ledger table) holds the signed batch entries
-- and the signed close of the paper count; paper_keyings (internal/paper)
-- holds the keyings of each batch until two different scrutineer staff
-- agree. Nothing in the ledger's tables or in paper_keyings names a member
-- or a paper number.

ALTER TABLE marked_register DROP CONSTRAINT marked_register_channel_check;
ALTER TABLE marked_register ADD CONSTRAINT marked_register_channel_check
    CHECK (channel IN ('online', 'postal', 'workplace'));

-- The return log: one row per paper logged (or refused) and per online
-- authorisation refused because a paper mark exists. No member column: the
-- paper number leads to the member only through the register (s.229(1A)(c)),
-- which is deleted at the end of retention.
CREATE TABLE mark_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    style         text NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('online', 'postal', 'workplace')),
    paper_number  integer CHECK (paper_number > 0),
    outcome       text NOT NULL CHECK (outcome IN ('accepted', 'voted_online', 'second_return', 'late', 'paper_recorded')),
    hour          timestamptz NOT NULL CHECK (date_trunc('hour', hour) = hour),
    CHECK ((channel = 'online') = (paper_number IS NULL))
);
CREATE INDEX mark_log_ballot ON mark_log (ballot_id);

-- Keyings of a batch: the first waits for a second by another scrutineer
-- staff member; the two must agree before the batch is accepted.
CREATE TABLE paper_keyings (
    election_id  text NOT NULL,
    batch_id     text NOT NULL CHECK (batch_id ~ '^[A-Za-z0-9._-]{1,64}$'),
    keyer        text NOT NULL CHECK (length(keyer) BETWEEN 1 AND 64),
    style        integer NOT NULL CHECK (style >= 0),
    channel      text NOT NULL CHECK (channel IN ('postal', 'workplace')),
    box          text NOT NULL DEFAULT '',
    totals       jsonb NOT NULL,
    seq          bigint CHECK (seq >= 0),   -- the ledger's batch once accepted
    keyed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (election_id, batch_id, keyer)
);

-- The ledger's paper section: signed batch entries, chained, and the signed
-- close of the paper count.
CREATE TABLE ledger_paper_batches (
    election_id  text NOT NULL REFERENCES ledger_elections(election_id),
    seq          bigint NOT NULL CHECK (seq >= 0),
    batch_id     text NOT NULL,
    body         bytea NOT NULL CHECK (length(body) BETWEEN 2 AND 262144),
    signed       text NOT NULL CHECK (length(signed) BETWEEN 1 AND 4096),
    PRIMARY KEY (election_id, seq),
    UNIQUE (election_id, batch_id)
);
CREATE TABLE ledger_paper_closes (
    election_id  text PRIMARY KEY REFERENCES ledger_elections(election_id),
    batches      bigint NOT NULL CHECK (batches >= 0),
    body         bytea NOT NULL CHECK (length(body) BETWEEN 2 AND 262144),
    signed       text NOT NULL CHECK (length(signed) BETWEEN 1 AND 4096)
);

CREATE TRIGGER ledger_paper_batches_append_only BEFORE UPDATE OR DELETE ON ledger_paper_batches
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_paper_batches_no_truncate BEFORE TRUNCATE ON ledger_paper_batches
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_paper_closes_append_only BEFORE UPDATE OR DELETE ON ledger_paper_closes
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_paper_closes_no_truncate BEFORE TRUNCATE ON ledger_paper_closes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

GRANT SELECT, INSERT ON ledger_paper_batches, ledger_paper_closes TO eballot_service;
GRANT SELECT, INSERT ON mark_log TO eballot_service;
GRANT SELECT, INSERT, UPDATE ON paper_keyings TO eballot_service;
