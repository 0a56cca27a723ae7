-- 0016_auth_pack_codes: the one-time online access code printed in a
-- member's postal pack (hybrid ballots, docs/paper.md "Pack codes";
-- internal/auth pack.go). The code itself is never stored: lookup is an
-- HMAC-SHA-256 of it under a key derived from EBALLOT_SECRET_KEY, so the
-- code can be printed again (it is derived, not drawn) but not read back
-- from the database. used_hour is when it signed the member in, to the
-- hour only: the time of the ballot cast next is not linked to it.
CREATE TABLE auth_pack_codes (
    ballot_id   bigint NOT NULL REFERENCES ballots(id),
    member_id   bigint NOT NULL REFERENCES members(id),
    lookup      bytea NOT NULL UNIQUE CHECK (length(lookup) = 32),
    created_at  timestamptz NOT NULL,
    used_hour   timestamptz CHECK (used_hour IS NULL OR date_trunc('hour', used_hour) = used_hour),
    PRIMARY KEY (ballot_id, member_id)
);
CREATE INDEX auth_pack_codes_member ON auth_pack_codes (member_id);
