-- 0029_merger_kind: merger ballots (issue 19): a ballot on a resolution
-- approving an amalgamation or a transfer of engagements (TULRCA
-- ss.97–108, the ballot ss.100–100E), offered beside elections and
-- political fund ballots, with its law and permitted voting methods in
-- internal/election/legal/regimes.json; and the s.231A notice of an
-- industrial action result given to an employer by post or by hand.

ALTER TABLE ballots DROP CONSTRAINT ballots_kind_check;
ALTER TABLE ballots ADD CONSTRAINT ballots_kind_check
    CHECK (kind IN ('industrial_action', 'union_election', 'political_fund', 'merger', 'recognition', 'other'));

-- The s.231A notice given to an employer on paper: by post or by hand,
-- for an employer without an email address (or as well as by email),
-- with the day it was given and who recorded it. One record per
-- employer and ballot. internal/result's. An employer's notice is not a
-- member's data: kept with the ballot's records (docs/ballots.md
-- "Retention and deletion").
CREATE TABLE result_employer_deliveries (
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    employer_key  text NOT NULL CHECK (length(employer_key) BETWEEN 1 AND 200),
    employer      text NOT NULL CHECK (length(employer) BETWEEN 1 AND 200),
    method        text NOT NULL CHECK (method IN ('post', 'hand')),
    given_at      timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (ballot_id, employer_key)
);
