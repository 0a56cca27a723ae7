-- 0023_action_notices: the notices of industrial action to employers
-- (TULRCA s.234A; issue 19). After an industrial action ballot, the union
-- gives each employer notice of the action it will call: the categories
-- of employees and the workplaces concerned, the total number of
-- affected employees, whether the action is a strike or action short of
-- a strike, continuous (its first day) or discontinuous (its days); at
-- least notice_days (the regime's s.234A period: 14 under TUA16, 10
-- under ERA25) before the first day of action, within the s.234 mandate.
-- notice_on is the day the notice is (to be) given; sent_at, once
-- recorded, when it was (then notice_on is that day). No member is
-- named: counts, categories and workplaces only (s.234A(3), statutory.md
-- §5 F9).
CREATE TABLE action_notices (
    id          bigserial PRIMARY KEY,
    ballot_id   bigint NOT NULL REFERENCES ballots(id) ON DELETE CASCADE,
    employer    text NOT NULL CHECK (length(employer) BETWEEN 1 AND 300),
    categories  text NOT NULL CHECK (length(categories) BETWEEN 1 AND 2000),
    workplaces  text NOT NULL CHECK (length(workplaces) BETWEEN 1 AND 2000),
    employees   integer NOT NULL CHECK (employees BETWEEN 1 AND 10000000),
    action      text NOT NULL CHECK (action IN ('strike', 'asos', 'both')),
    continuous  boolean NOT NULL,
    days        date[] NOT NULL CHECK (cardinality(days) BETWEEN 1 AND 366),
    notice_on   date NOT NULL,
    regime      text NOT NULL,
    notice_days integer NOT NULL CHECK (notice_days > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    sent_at     timestamptz,
    sent_by     text,
    CHECK ((sent_at IS NULL) = (sent_by IS NULL))
);
CREATE INDEX action_notices_ballot ON action_notices (ballot_id, id);
