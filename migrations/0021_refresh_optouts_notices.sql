-- 0021_refresh_optouts_notices: lawful basis of the contact refresh
-- (internal/refresh, docs/contact-refresh.md "Lawful basis").
-- (Assigned number 0025: renumber on merge to keep the numbers
-- consecutive; main ended at 0020 when this was written.)
--
-- A member's own "no more messages asking me to check my details",
-- set from their page (source 'member'); STOP to any of the union's texts
-- (gotv_optouts, by number) is read as the same opt-out by the campaign.
-- internal/refresh's; erased with the member.
CREATE TABLE refresh_optouts (
    member_id    bigint PRIMARY KEY REFERENCES members(id),
    union_id     bigint NOT NULL REFERENCES unions(id),
    source       text NOT NULL CHECK (source IN ('member')),
    opted_out_at timestamptz NOT NULL
);

-- The notice to the OLD mobile that it was replaced: kept here until the
-- outbox (gotv_messages, source 'notice') sends it, so it obeys the same
-- rules as every other text (STOP, quiet hours, daily cap, exactly once).
-- PERSONAL DATA (the old number); internal/refresh's; erased with the
-- member.
CREATE TABLE refresh_notices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members(id),
    to_number   text NOT NULL CHECK (to_number ~ '^\+[1-9][0-9]{6,14}$'),
    language    text NOT NULL CHECK (language IN ('en', 'cy')),
    changed_at  timestamptz NOT NULL
);
CREATE INDEX refresh_notices_member ON refresh_notices (member_id);

ALTER TABLE gotv_messages ADD COLUMN refresh_notice_id bigint UNIQUE CHECK (refresh_notice_id > 0);
ALTER TABLE gotv_messages DROP CONSTRAINT gotv_messages_source_check;
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_source_check CHECK (source IN ('reminder', 'volunteer', 'refresh', 'notice'));
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_notice CHECK ((source = 'notice') = (refresh_notice_id IS NOT NULL));
ALTER TABLE gotv_messages DROP CONSTRAINT gotv_messages_ballot;
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_ballot CHECK ((source IN ('refresh', 'notice')) = (ballot_id IS NULL));
