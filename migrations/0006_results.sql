-- 0006_results: the scrutineer's signed result, published after the count
-- (internal/election result.go, docs/ballots.md "Result").

-- The scrutineer's public signing key (a golang.org/x/mod/sumdb/note
-- verifier key made by `scrutineer keygen`), recorded by the scrutineer in
-- draft and bound into the manifest at open (texts.scrutineer_key): the
-- result is published only when signed by this key.
ALTER TABLE ballots
    ADD COLUMN scrutineer_key text CHECK (length(scrutineer_key) BETWEEN 1 AND 512);

-- The published result on the public board (internal/ledger): the signed
-- report exactly as `scrutineer report` wrote it (report.json and
-- report.json.sig) and the trustees' partial decryptions (a JSON array),
-- so that anyone can check the signature and recompute the counts from the
-- ledger. Append-only like every ledger table: a published result is never
-- changed.
CREATE TABLE ledger_results (
    election_id   text PRIMARY KEY REFERENCES ledger_closures(election_id),
    report        bytea NOT NULL CHECK (length(report) BETWEEN 2 AND 16777216),
    signature     bytea NOT NULL CHECK (length(signature) BETWEEN 1 AND 65536),
    partials      bytea NOT NULL CHECK (length(partials) BETWEEN 2 AND 16777216),
    published_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER ledger_results_append_only BEFORE UPDATE OR DELETE ON ledger_results
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_results_no_truncate BEFORE TRUNCATE ON ledger_results
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
GRANT SELECT, INSERT ON ledger_results TO eballot_service;
