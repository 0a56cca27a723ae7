-- 0035_election_reports: the scrutineer's signed result and s.52 report of
-- each ranked contest of a union election (TULRCA 1992 s.52; issue 26),
-- published by the service (internal/result election.go, docs/ballots.md
-- "Result of a union election").
--
-- The report exactly as `scrutineer ranked report` wrote it
-- (election-report.json and election-report.json.sig), checked before it
-- is stored: signed by the key the manifest binds, in its one accepted
-- form, of this ballot's manifest and one of its ranked questions.
-- Published once per contest and never changed: anyone may download the
-- signed bytes and check them with `scrutineer check-result`. No personal
-- data of members (candidates stand in public; the report names no voter).
CREATE TABLE result_election_reports (
    ballot_id     bigint NOT NULL REFERENCES ballots(id),
    question      text NOT NULL CHECK (length(question) BETWEEN 1 AND 64),
    contest       integer NOT NULL CHECK (contest BETWEEN 0 AND 65535),
    report        bytea NOT NULL CHECK (length(report) BETWEEN 2 AND 16777216),
    signature     bytea NOT NULL CHECK (length(signature) BETWEEN 1 AND 65536),
    published_by  text NOT NULL,
    published_at  timestamptz NOT NULL,
    PRIMARY KEY (ballot_id, question)
);
CREATE FUNCTION result_election_reports_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a published election report is never changed';
END $$;
CREATE TRIGGER result_election_reports_append_only BEFORE UPDATE OR DELETE ON result_election_reports
    FOR EACH ROW EXECUTE FUNCTION result_election_reports_refuse_change();
GRANT SELECT, INSERT ON result_election_reports TO eballot_service;
