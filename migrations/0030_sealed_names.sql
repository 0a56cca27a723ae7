-- 0030_sealed_names: members' names sealed at rest (issue 21;
-- docs/threat-model.md "Data at rest").
--
-- members.name_sealed is the name under AES-256-GCM (internal/sealed,
-- EBALLOT_SECRET_KEY), additional data "name:<union id>:<hex of
-- number_index>": bound to the member's row, and known before the row's
-- id so that an import seals in the one write that inserts. Only
-- internal/register writes and opens it. members.name is NULL from now on:
-- the key is not in the database, so names written before this migration
-- are sealed (and cleared here) by the service when it starts
-- (internal/register Store.IndexMembers), as addresses are (0022).
ALTER TABLE members ADD COLUMN name_sealed bytea;
ALTER TABLE members ALTER COLUMN name DROP NOT NULL;
ALTER TABLE members ADD CONSTRAINT members_named CHECK (name IS NOT NULL OR name_sealed IS NOT NULL);
