-- 0025_workplace_sessions: workplace voting (issue 18, docs/paper.md).
--
-- Industrial action ballots only (the 2026 Order): a workplace box is a
-- session at one workplace of one workplace ballot (s.228), run by a
-- presiding officer, a staff account of its own role that the scrutineer
-- creates. The officer marks the register (issuance, the one-vote rule:
-- first recorded wins), issues the paper and closes the box; the closed
-- box's slips are counted as paper batches (internal/paper) naming the box.
-- Owner: internal/issuance (it knows members; paper asks it through an
-- interface wired in internal/app).

ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check CHECK (role IN ('organiser', 'scrutineer', 'volunteer', 'presiding_officer'));

CREATE TABLE workplace_boxes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ballot_id    bigint NOT NULL REFERENCES ballots(id),
    box          text NOT NULL CHECK (box ~ '^[A-Za-z0-9._-]{1,64}$'), -- the public id named by the batches
    style        text NOT NULL,                                       -- the workplace ballot (style id)
    place        text NOT NULL CHECK (length(place) BETWEEN 1 AND 200),
    officer_id   bigint NOT NULL REFERENCES staff(id),
    created_by   text NOT NULL CHECK (length(created_by) <= 64),
    created_at   timestamptz NOT NULL,
    closed_at    timestamptz,
    closed_by    text CHECK (length(closed_by) <= 64),
    UNIQUE (ballot_id, box)
);
CREATE INDEX workplace_boxes_officer ON workplace_boxes (officer_id);

-- A paper issued (or refused) at a box names the box in the return log:
-- the papers issued in a box bound the papers counted from it.
ALTER TABLE mark_log ADD COLUMN box_id bigint REFERENCES workplace_boxes(id);
ALTER TABLE mark_log ADD CONSTRAINT mark_log_box CHECK (box_id IS NULL OR channel = 'workplace');
CREATE INDEX mark_log_box ON mark_log (box_id) WHERE box_id IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON workplace_boxes TO eballot_service;
