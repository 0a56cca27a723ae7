-- 0033_sealed_uploads_notices: the last two copies of members' personal
-- data kept in clear are sealed at rest (issue 21; docs/threat-model.md
-- "Data at rest"), like the members' own rows (0030, 0032).
--
-- register_uploads.content (a previewed register file: names, numbers,
-- contacts) is from now on sealed by internal/register under
-- EBALLOT_SECRET_KEY, additional data "register_upload:<ballot id>:<hex of
-- sha256>". The key is not in the database and a preview lives a day at
-- most, so the files waiting in clear are dropped here: the organiser
-- previews the file again.
DELETE FROM register_uploads;

-- refresh_notices.to_sealed is the old mobile a change notice goes to,
-- sealed by internal/refresh (additional data "refresh_notice:<member
-- id>:<changed_at in Unix microseconds>"); to_number is NULL from now on.
-- Notices written in clear before this migration are sealed (and cleared)
-- by the service when it starts (internal/refresh Service.SealNotices).
ALTER TABLE refresh_notices ADD COLUMN to_sealed bytea;
ALTER TABLE refresh_notices ALTER COLUMN to_number DROP NOT NULL;
ALTER TABLE refresh_notices ADD CONSTRAINT refresh_notices_one_to
    CHECK ((to_number IS NULL) <> (to_sealed IS NULL));
