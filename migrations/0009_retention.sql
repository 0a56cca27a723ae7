-- 0009_retention: retention and deletion after the statutory period
-- (internal/retention, docs/ballots.md "Retention and deletion";
-- statutory.md §5 F39–F40).
--
-- The scrutineer keeps custody of the returned votes for one year from the
-- announcement of the result (TULRCA s.49(3)(d) union elections, s.75(3)(d)
-- political fund; by design the same for industrial action ballots) and,
-- when a complaint is made (s.79, or to the Certification Officer or a
-- court), until its disposal is authorised. After that the personal data
-- of the ballot and every member-to-ballot link are deleted (UK GDPR
-- Art 5(1)(c),(e); F40), and the deletion is recorded here and in the
-- audit log. The public ledger, the published result and the audit log are
-- kept: they hold no personal data.

-- A hold stops deletion while a complaint is recorded. The scrutineer
-- records it with the complaint's reference (reason) and releases it when
-- the Certification Officer or the court authorises disposal. A ballot is
-- held while any of its holds is not released.
CREATE TABLE retention_holds (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id       bigint NOT NULL REFERENCES ballots(id),
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    recorded_by     bigint NOT NULL REFERENCES staff(id),
    recorded_at     timestamptz NOT NULL,
    released_at     timestamptz,
    released_by     bigint REFERENCES staff(id),
    release_reason  text CHECK (length(release_reason) BETWEEN 1 AND 1000),
    CHECK ((released_at IS NULL) = (released_by IS NULL)),
    CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
CREATE INDEX retention_holds_open ON retention_holds (ballot_id) WHERE released_at IS NULL;

-- The counts a published ballot still needs once its register and marked
-- register are deleted: per ballot style, the entitled, the online
-- authorisations, the postal returns and the replaced authorisations, as
-- /issuance/v1/{e}/counts published them (the check "ballots ≤
-- authorisations issued ≤ entitled", s.231, s.231B). Written in the same
-- transaction as the deletion. Counts only, never who.
CREATE TABLE retention_counts (
    ballot_id  bigint NOT NULL REFERENCES ballots(id),
    style      text NOT NULL CHECK (style ~ '^[a-z0-9-]{1,64}$'),
    entitled   integer NOT NULL CHECK (entitled >= 0),
    online     integer NOT NULL CHECK (online >= 0),
    postal     integer NOT NULL CHECK (postal >= 0),
    replaced   integer NOT NULL CHECK (replaced >= 0),
    PRIMARY KEY (ballot_id, style)
);

-- The record of a deletion: when, by whom or what ("cli", "job:retention"),
-- the rows deleted per table (JSON object table → count) and a SHA-256
-- over what was deleted (per table, the sorted rows as JSON; then the
-- lines "table count digest"), so that a backup taken before the deletion
-- can be shown to match what was destroyed. One per ballot; append-only.
CREATE TABLE retention_deletions (
    ballot_id     bigint PRIMARY KEY REFERENCES ballots(id),
    deleted_at    timestamptz NOT NULL,
    actor         text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    published_at  timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    counts        jsonb NOT NULL,
    digest        bytea NOT NULL CHECK (length(digest) = 32)
);

CREATE FUNCTION retention_deletions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'retention_deletions is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER retention_deletions_no_update BEFORE UPDATE OR DELETE ON retention_deletions
    FOR EACH ROW EXECUTE FUNCTION retention_deletions_append_only();
CREATE TRIGGER retention_deletions_no_truncate BEFORE TRUNCATE ON retention_deletions
    FOR EACH STATEMENT EXECUTE FUNCTION retention_deletions_append_only();
