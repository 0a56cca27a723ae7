-- 0031_election_addresses: candidates' election addresses for union
-- elections (issue 26, TULRCA s.48). A candidate's address (text in
-- English and Welsh, an optional photo) is set while the ballot is a
-- draft; the opening freezes it and binds its hash into the manifest
-- (docs/protocol.md §3.2). The contests and candidates themselves are
-- in ballots.config. Owner: internal/election.

CREATE TABLE election_addresses (
    ballot_id    bigint NOT NULL REFERENCES ballots(id) ON DELETE CASCADE,
    contest      text NOT NULL CHECK (contest ~ '^[a-z0-9-]{1,64}$'),
    candidate    text NOT NULL CHECK (candidate ~ '^[a-z0-9-]{1,64}$'),
    text_en      text NOT NULL DEFAULT '' CHECK (octet_length(text_en) <= 65536),
    text_cy      text NOT NULL DEFAULT '' CHECK (octet_length(text_cy) <= 65536),
    photo_type   text NOT NULL DEFAULT '' CHECK (photo_type IN ('', 'image/jpeg', 'image/png')),
    photo        bytea NOT NULL DEFAULT ''::bytea CHECK (octet_length(photo) <= 524288),
    photo_width  integer NOT NULL DEFAULT 0 CHECK (photo_width BETWEEN 0 AND 4096),
    photo_height integer NOT NULL DEFAULT 0 CHECK (photo_height BETWEEN 0 AND 4096),
    -- address_hash of docs/protocol.md §3.2 (64 lowercase hex), computed
    -- when the address is written: the manifest carries it.
    hash         text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ballot_id, contest, candidate),
    CHECK ((photo_type = '') = (octet_length(photo) = 0))
);
