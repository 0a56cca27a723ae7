-- 0020_statutory_timeline: nothing before the notified opening, and the
-- close as it happened (issue 19).
--
-- A ballot whose Open is pressed before its notified opening time
-- (opens_at) is "scheduled": its register, keys and manifest are frozen
-- but no invitation, code or vote works until internal/election's
-- scheduler opens it at opens_at (opened_at then records the actual
-- opening). The scheduler also closes it at closes_at. A close before
-- closes_at is the scrutineer's, with a recorded reason (close_reason);
-- closed_at is always the actual close.

ALTER TABLE ballots DROP CONSTRAINT ballots_status_check;
ALTER TABLE ballots ADD CONSTRAINT ballots_status_check
    CHECK (status IN ('draft', 'scheduled', 'open', 'closed', 'published'));

ALTER TABLE ballots
    ADD COLUMN close_reason text CHECK (close_reason IS NULL OR length(close_reason) BETWEEN 1 AND 2000);

-- What each employer's s.226A notice stated when it was recorded as given:
-- the number of its employees on the register (the "total number of
-- employees concerned") and the opening day. A notice whose figures or
-- opening day no longer match the ballot (the register or the opening
-- changed) is stale and blocks opening until given again. NULL: recorded
-- before this migration (not checked).
ALTER TABLE employer_notices
    ADD COLUMN stated_members  integer CHECK (stated_members IS NULL OR stated_members >= 0),
    ADD COLUMN stated_opens_on date;
