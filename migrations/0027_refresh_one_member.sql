-- 0027_refresh_one_member: a refresh campaign for one member (issue 24,
-- docs/contact-refresh.md): the union's office sends a member whose link
-- ran out, or was used, a new one. segment_value holds the member's
-- internal id (never their member number: docs/threat-model.md "Data at
-- rest").

ALTER TABLE refresh_campaigns DROP CONSTRAINT refresh_campaigns_segment_check;
ALTER TABLE refresh_campaigns ADD CONSTRAINT refresh_campaigns_segment_check
    CHECK (segment IN ('all', 'workplace', 'employer', 'unverified', 'member'));
