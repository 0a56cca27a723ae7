-- 0003_ledger: the append-only ballot ledger (internal/ledger,
-- docs/protocol.md §6, docs/export-format.md).
--
-- Nothing here names a member: entries hold the tracker, the authorisation,
-- the encrypted ballot, its style and the hour it arrived (rounded down).
-- Every table is append-only: triggers refuse UPDATE, DELETE and TRUNCATE,
-- and the group role eballot_service may only SELECT and INSERT.

-- Ledger signing keys: one Ed25519 note key per election. The private key is
-- sealed with AES-256-GCM under EBALLOT_SECRET_KEY (never stored in clear).
CREATE TABLE ledger_keys (
    election_id   text PRIMARY KEY CHECK (election_id ~ '^[a-z0-9-]{1,64}$'),
    verifier_key  text NOT NULL CHECK (length(verifier_key) BETWEEN 1 AND 512),
    sealed_key    bytea NOT NULL CHECK (length(sealed_key) BETWEEN 12 AND 1024),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- An opened election: its canonical manifest (immutable) and the window in
-- which casts are accepted.
CREATE TABLE ledger_elections (
    election_id    text PRIMARY KEY REFERENCES ledger_keys(election_id),
    manifest       bytea NOT NULL CHECK (length(manifest) BETWEEN 2 AND 4194304),
    manifest_hash  bytea NOT NULL CHECK (length(manifest_hash) = 32),
    opens_at       timestamptz NOT NULL,
    closes_at      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (opens_at < closes_at)
);

-- Entries: entry = T ‖ authorisation ‖ ballot_bytes, leaf = SHA-256(0x00 ‖ entry).
CREATE TABLE ledger_entries (
    election_id  text NOT NULL REFERENCES ledger_elections(election_id),
    idx          bigint NOT NULL CHECK (idx >= 0),
    tracker      bytea NOT NULL CHECK (length(tracker) = 32),
    leaf         bytea NOT NULL CHECK (length(leaf) = 32),
    style        integer NOT NULL CHECK (style BETWEEN 0 AND 65535),
    entry        bytea NOT NULL CHECK (length(entry) BETWEEN 357 AND 65856),
    hour         timestamptz NOT NULL CHECK (date_trunc('hour', hour AT TIME ZONE 'UTC') = hour AT TIME ZONE 'UTC'),
    PRIMARY KEY (election_id, idx)
);
CREATE UNIQUE INDEX ledger_entries_tracker ON ledger_entries (election_id, tracker);

-- Every ciphertext α of every entry: the primary key refuses a second use of
-- an α in an election (replayed or copied ciphertexts).
CREATE TABLE ledger_alphas (
    election_id  text NOT NULL REFERENCES ledger_elections(election_id),
    alpha        bytea NOT NULL CHECK (length(alpha) = 32),
    idx          bigint NOT NULL,
    PRIMARY KEY (election_id, alpha)
);

-- Stored Merkle tree hashes in golang.org/x/mod/sumdb/tlog order
-- (tlog.StoredHashIndex).
CREATE TABLE ledger_hashes (
    election_id  text NOT NULL REFERENCES ledger_elections(election_id),
    idx          bigint NOT NULL CHECK (idx >= 0),
    hash         bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (election_id, idx)
);

-- Every signed checkpoint ever published (one per appended batch, one at
-- open and one at close). signed is the sumdb/note text.
CREATE TABLE ledger_checkpoints (
    election_id  text NOT NULL REFERENCES ledger_elections(election_id),
    size         bigint NOT NULL CHECK (size >= 0),
    root         bytea NOT NULL CHECK (length(root) = 32),
    signed       text NOT NULL CHECK (length(signed) BETWEEN 1 AND 4096),
    PRIMARY KEY (election_id, size)
);

-- A closed election: no cast is accepted after this row exists.
CREATE TABLE ledger_closures (
    election_id  text PRIMARY KEY REFERENCES ledger_elections(election_id),
    size         bigint NOT NULL CHECK (size >= 0),
    closed_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ledger_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER ledger_keys_append_only BEFORE UPDATE OR DELETE ON ledger_keys
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_keys_no_truncate BEFORE TRUNCATE ON ledger_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_elections_append_only BEFORE UPDATE OR DELETE ON ledger_elections
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_elections_no_truncate BEFORE TRUNCATE ON ledger_elections
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_alphas_append_only BEFORE UPDATE OR DELETE ON ledger_alphas
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_alphas_no_truncate BEFORE TRUNCATE ON ledger_alphas
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_hashes_append_only BEFORE UPDATE OR DELETE ON ledger_hashes
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_hashes_no_truncate BEFORE TRUNCATE ON ledger_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_closures_append_only BEFORE UPDATE OR DELETE ON ledger_closures
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_closures_no_truncate BEFORE TRUNCATE ON ledger_closures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- The service's group role (roles are cluster-wide: create it once, and
-- tolerate a concurrent migration of another database creating it first).
-- Operators create a LOGIN role IN ROLE eballot_service and point
-- DATABASE_URL at it (docs/export-format.md, "Operating the ledger").
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'eballot_service') THEN
        CREATE ROLE eballot_service NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END;
$$;

GRANT USAGE ON SCHEMA public TO eballot_service;
GRANT SELECT, INSERT ON ledger_keys, ledger_elections, ledger_entries, ledger_alphas,
    ledger_hashes, ledger_checkpoints, ledger_closures TO eballot_service;
