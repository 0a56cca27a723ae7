-- 0018_refresh_campaigns: the contact-refresh campaigns of a union
-- (internal/refresh, docs/contact-refresh.md): the campaign an organiser
-- starts, each member's personal one-tap link (only its hash is stored)
-- and a new mobile or email waiting for its code. internal/refresh's.
-- Links and pending changes go with the member (internal/refresh Erasure).
-- (Assigned number 0022: renumber on merge to keep the numbers
-- consecutive; main ended at 0017 when this was written.)

CREATE TABLE refresh_campaigns (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    union_id      bigint NOT NULL REFERENCES unions(id),
    segment       text NOT NULL CHECK (segment IN ('all', 'workplace', 'employer', 'unverified')),
    segment_value text NOT NULL DEFAULT '' CHECK (length(segment_value) <= 200),
    message_en    text NOT NULL CHECK (length(message_en) BETWEEN 1 AND 320),
    message_cy    text NOT NULL CHECK (length(message_cy) BETWEEN 1 AND 320),
    privacy_url   text NOT NULL CHECK (privacy_url ~ '^https://' AND length(privacy_url) <= 500),
    link_days     integer NOT NULL CHECK (link_days BETWEEN 1 AND 60),
    starts_at     timestamptz NOT NULL,
    members       integer NOT NULL CHECK (members >= 0),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    cancelled_at  timestamptz
);
CREATE INDEX refresh_campaigns_union ON refresh_campaigns (union_id, created_at);

-- A member's personal link of a campaign: 256 random bits, only their
-- SHA-256 kept. A new text of the campaign gives a new link and retires
-- the old one (superseded_at); a link is spent once the member confirmed
-- or saved their details (used_at).
CREATE TABLE refresh_links (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id   bigint NOT NULL REFERENCES refresh_campaigns(id),
    member_id     bigint NOT NULL REFERENCES members(id),
    token_hash    bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    superseded_at timestamptz
);
CREATE INDEX refresh_links_member ON refresh_links (campaign_id, member_id);

-- A new mobile or email the member entered, waiting for the code sent to
-- it (internal/auth, purpose 'contact'), one per member and field;
-- replaced by a newer one, deleted once verified. PERSONAL DATA.
CREATE TABLE refresh_pending (
    member_id   bigint NOT NULL REFERENCES members(id),
    link_id     bigint NOT NULL REFERENCES refresh_links(id),
    field       text NOT NULL CHECK (field IN ('mobile', 'email')),
    value       text NOT NULL CHECK (length(value) BETWEEN 1 AND 254),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (member_id, field)
);

-- Codes that verify a member's new mobile or email (internal/auth).
ALTER TABLE auth_otp_codes DROP CONSTRAINT auth_otp_codes_purpose_check;
ALTER TABLE auth_otp_codes ADD CONSTRAINT auth_otp_codes_purpose_check CHECK (purpose IN ('signin', 'staff_recovery', 'contact'));
