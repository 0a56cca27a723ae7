-- 0034_sealed_numbers: members' member numbers sealed at rest (issue 21;
-- docs/threat-model.md "Data at rest"), as their names (0030) and contacts
-- (0032) are: with them, a dump holds no member's direct identifier.
--
-- members.number_sealed is the member number under AES-256-GCM
-- (internal/sealed, EBALLOT_SECRET_KEY), additional data
-- "number:<union id>:<hex of number_index>": bound to the member's row
-- (and its blind index: a sealed number copied to another row, or a row
-- whose index was changed, does not open). Only internal/register writes
-- and opens it. Look-ups, joins and the uniqueness of a number in a union
-- go through number_index (0022: UNIQUE (union_id, number_index)), which
-- a row with a sealed number MUST have. members.member_number is NULL
-- from now on: the key is not in the database, so numbers written before
-- this migration are sealed (and cleared) by the service when it starts
-- (internal/register Store.IndexMembers). The paper numbers given in
-- member-number order (s.229(1A)(c)) are given in Go, after opening.
ALTER TABLE members ADD COLUMN number_sealed bytea;
ALTER TABLE members ALTER COLUMN member_number DROP NOT NULL;
ALTER TABLE members ADD CONSTRAINT members_numbered CHECK (member_number IS NOT NULL OR number_sealed IS NOT NULL);
ALTER TABLE members ADD CONSTRAINT members_number_indexed CHECK (number_sealed IS NULL OR number_index IS NOT NULL);
