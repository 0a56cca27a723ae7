-- 0028_opening_checklist: the scrutineer's approvals before a ballot opens
-- (issue 19, docs/ballots.md "Opening checklist").
--
-- s.229(4): a regime whose statutory statement is marked unverified in
-- internal/election/legal/regimes.json may open only once the scrutineer
-- has confirmed the wording in force for this ballot: which account, when,
-- under which regime, and the SHA-256 of the texts confirmed (English and
-- Welsh), so a different text (another regime, a corrected table) needs a
-- new confirmation.
--
-- The voting paper: the scrutineer approves the paper as it will be
-- signed: paper_approved_hash is the SHA-256 of the ballot's manifest
-- without the keys made at the opening (election.PaperHash); any later
-- change to the paper gives another hash, and opening is refused until
-- the scrutineer approves again.

ALTER TABLE ballots
    ADD COLUMN wording_confirmed_by     text,
    ADD COLUMN wording_confirmed_at     timestamptz,
    ADD COLUMN wording_confirmed_regime text,
    ADD COLUMN wording_confirmed_hash   bytea CHECK (octet_length(wording_confirmed_hash) = 32),
    ADD COLUMN paper_approved_by        text,
    ADD COLUMN paper_approved_at        timestamptz,
    ADD COLUMN paper_approved_hash      bytea CHECK (octet_length(paper_approved_hash) = 32);
