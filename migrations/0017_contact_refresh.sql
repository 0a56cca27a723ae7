-- 0017_contact_refresh: members confirm or correct their own contact
-- details before a ballot (internal/refresh, docs/contact-refresh.md).
--
-- Per field of a member's contacts: the value (on members, as before),
-- where it came from (import, the member, staff) and when it was last
-- verified (member_contact_fields); every change and confirmation is an
-- event (member_contact_events), from which the changes since a date are
-- exported and the coverage trend is drawn. Both are internal/register's.
-- Erased with the member (internal/register Erasure).
-- Ballots already open keep their frozen contacts (ballot_contacts, 0007):
-- nothing here changes where an open ballot's credentials go.

ALTER TABLE members
    ADD COLUMN postal_address text NOT NULL DEFAULT '' CHECK (length(postal_address) <= 500),
    ADD COLUMN postcode       text NOT NULL DEFAULT '' CHECK (postcode = '' OR postcode ~ '^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$'),
    ADD COLUMN language       text NOT NULL DEFAULT '' CHECK (language IN ('', 'en', 'cy')),
    ADD COLUMN ballot_by      text NOT NULL DEFAULT '' CHECK (ballot_by IN ('', 'online', 'post'));

-- Provenance of each field of a member's contacts (one row per member and
-- field that has one; a field without a row came from an import before
-- this migration and was never verified).
CREATE TABLE member_contact_fields (
    member_id    bigint NOT NULL REFERENCES members(id),
    field        text NOT NULL CHECK (field IN ('mobile', 'email', 'postal_address', 'workplace', 'language', 'ballot_by')),
    source       text NOT NULL CHECK (source IN ('import', 'member', 'staff')),
    changed_at   timestamptz NOT NULL,
    verified_at  timestamptz,
    PRIMARY KEY (member_id, field)
);

-- Every change or confirmation of a field, never its value. has_value and
-- verified describe the field after the event (the coverage at any time is
-- replayed from them); changed says whether the value changed.
CREATE TABLE member_contact_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    union_id   bigint NOT NULL REFERENCES unions(id),
    member_id  bigint NOT NULL REFERENCES members(id),
    field      text NOT NULL CHECK (field IN ('mobile', 'email', 'postal_address', 'workplace', 'language', 'ballot_by')),
    source     text NOT NULL CHECK (source IN ('import', 'member', 'staff')),
    changed    boolean NOT NULL,
    has_value  boolean NOT NULL,
    verified   boolean NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX member_contact_events_union ON member_contact_events (union_id, at);
CREATE INDEX member_contact_events_member ON member_contact_events (member_id);

-- The refresh campaigns themselves (campaigns, personal links, pending
-- verifications, member opt-outs) are internal/refresh's tables, not
-- built yet (docs/contact-refresh.md "Status"): the outbox below refers to
-- a campaign by id only until they exist.

-- Refresh texts go through the reminders' outbox: a row with no ballot
-- and no step, source 'refresh', one per member per campaign.
ALTER TABLE gotv_messages ALTER COLUMN ballot_id DROP NOT NULL;
ALTER TABLE gotv_messages ADD COLUMN refresh_campaign_id bigint CHECK (refresh_campaign_id > 0);
ALTER TABLE gotv_messages DROP CONSTRAINT gotv_messages_source_check;
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_source_check CHECK (source IN ('reminder', 'volunteer', 'refresh'));
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_refresh CHECK ((source = 'refresh') = (refresh_campaign_id IS NOT NULL));
ALTER TABLE gotv_messages ADD CONSTRAINT gotv_messages_ballot CHECK ((source = 'refresh') = (ballot_id IS NULL));
CREATE UNIQUE INDEX gotv_messages_refresh_member ON gotv_messages (refresh_campaign_id, member_id) WHERE refresh_campaign_id IS NOT NULL;
