-- 0032_sealed_contacts: members' mobile numbers and email addresses sealed
-- at rest (issue 21; docs/threat-model.md "Data at rest"), as their names
-- are (0030_sealed_names).
--
-- members.mobile_sealed and members.email_sealed are the E.164 mobile and
-- the email under AES-256-GCM (internal/sealed, EBALLOT_SECRET_KEY),
-- additional data "mobile:<union id>:<hex of number_index>" and
-- "email:<union id>:<hex of number_index>": bound to the member's row and
-- to the field (a sealed mobile does not open as an email), and known
-- before the row's id so that an import seals in the one write that
-- inserts. Only internal/register writes and opens them. Look-ups and
-- "has a mobile / an email" go through mobile_index and email_index
-- (0022). members.mobile and members.email are NULL from now on: the key
-- is not in the database, so values written before this migration are
-- sealed (and cleared) by the service when it starts (internal/register
-- Store.IndexMembers).
ALTER TABLE members ADD COLUMN mobile_sealed bytea;
ALTER TABLE members ADD COLUMN email_sealed bytea;
