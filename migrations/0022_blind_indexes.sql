-- 0022_blind_indexes: keyed blind indexes for the look-ups of members'
-- direct identifiers, and opt-outs kept by index instead of by number
-- (issue 21: member personal data sealed at rest; docs/threat-model.md
-- "Data at rest"). (Assigned number 0022; renumber on merge to keep the
-- numbers consecutive; main ended at 0021 when this was merged.)
--
-- An index is HMAC-SHA-256 of the normalised value under a key derived
-- from EBALLOT_SECRET_KEY (internal/sealed DeriveKey "index/…"): equal
-- values join in SQL, and without the key a dump does not tell whether a
-- given number is in it. The key is not in the database, so the indexes
-- of rows that exist before this migration are computed by the service on
-- startup (internal/register Store.IndexMembers, internal/gotv
-- Service.IndexOptOuts), which is also where opt-outs lose their number.

-- members: the member number (per union), the E.164 mobile and the email
-- in lower case. NULL while not yet computed (a row written before this
-- migration, until the service starts) and for a mobile or email the
-- member does not have.
ALTER TABLE members
    ADD COLUMN number_index bytea CHECK (length(number_index) = 32),
    ADD COLUMN mobile_index bytea CHECK (length(mobile_index) = 32),
    ADD COLUMN email_index  bytea CHECK (length(email_index) = 32);
CREATE UNIQUE INDEX members_number_index ON members (union_id, number_index);
CREATE INDEX members_mobile_index ON members (mobile_index) WHERE mobile_index IS NOT NULL;

-- gotv_optouts: keyed by the index of the number (the same key as
-- members.mobile_index, so the two can be joined); the number itself is
-- cleared once its index is computed and never written again.
ALTER TABLE gotv_optouts DROP CONSTRAINT gotv_optouts_pkey;
ALTER TABLE gotv_optouts ALTER COLUMN number DROP NOT NULL;
ALTER TABLE gotv_optouts ADD COLUMN number_index bytea UNIQUE CHECK (length(number_index) = 32);
ALTER TABLE gotv_optouts ADD CONSTRAINT gotv_optouts_keyed CHECK (number IS NOT NULL OR number_index IS NOT NULL);

-- members' postal address and postcode, sealed together (AES-256-GCM
-- under EBALLOT_SECRET_KEY, internal/sealed, additional data
-- "address:<member id>", so a value copied to another member does not
-- open); postal_address and postcode stay '' from now on (rows written
-- before are sealed when the service starts). NULL: no address.
ALTER TABLE members ADD COLUMN address_sealed bytea;

-- refresh_pending: a new mobile or email waiting for its code is sealed
-- (additional data "refresh_pending:<member id>:<field>"); value stays
-- NULL from now on (a row written before keeps it in clear until it is
-- verified, replaced or expires, within an hour).
ALTER TABLE refresh_pending ADD COLUMN sealed bytea;
ALTER TABLE refresh_pending ALTER COLUMN value DROP NOT NULL;
ALTER TABLE refresh_pending ADD CONSTRAINT refresh_pending_kept CHECK (value IS NOT NULL OR sealed IS NOT NULL);
