// Package ledger is the append-only ballot ledger of docs/protocol.md §6:
// it accepts authorised encrypted ballots ("casts"), appends them to one
// RFC 6962 Merkle tree per election stored in PostgreSQL, signs a
// checkpoint for every appended batch, hands out receipts, and serves the
// public board and the export that the scrutineer verifies.
//
// The ledger never knows who votes: it does not import the modules that
// know members (internal/auth, issuance, gotv, election — enforced by
// internal/archtest), it checks an authorisation only with the style's
// issuer public key from the manifest, and an entry holds the tracker, the
// authorisation, the ballot, its style and the hour it arrived — no
// identity, cookie, address or precise time.
//
// # Lifecycle of an election
//
// The election module calls [Ledger.NewLogKey] (an Ed25519 note key per
// election; the private key is sealed (internal/sealed) under
// EBALLOT_SECRET_KEY) and puts the verifier key in the manifest's log_key,
// then [Ledger.Open] with the manifest (stored canonical and immutable; the
// checkpoint of the empty tree is published), and at the end
// [Ledger.Close] (no cast is accepted afterwards; the final checkpoint is
// returned).
//
// # Appending (group commit)
//
// [Ledger.Cast] decodes the ballot against the manifest and queues it.
// Each election has a pipeline: a batch of casts (closed at
// [Options.MaxBatch] casts, or once it holds [Options.MinBatch] casts and
// is [Options.MinWait] old, or [Options.MaxWait] after its first,
// whichever comes first; appended in a random order so that the ledger
// shows only which batch a ballot is in, docs/threat-model.md) has its
// authorisations and proofs verified on every core (the proofs with
// crypto/ballot's batch verifier), then is appended in ONE transaction that
// takes pg_advisory_xact_lock for the election, re-reads the size and the
// known trackers and αs, inserts the entries, their αs (a primary key
// refuses a reused α), the new tlog stored hashes and the signed
// checkpoint, and commits. Only then are the casts answered, each with a
// receipt (crypto/receipt) whose inclusion proof is against that batch's
// checkpoint. Several processes may append to one election: the lock
// serialises them and the log stays gap-free. A checkpoint is therefore
// published for every batch (several a second under load, and always
// within MaxWait plus one commit of a cast arriving).
//
// Submitting the same cast again returns its existing receipt (safe retry);
// the same tracker with another authorisation is ErrDuplicateTracker, a
// ballot reusing an α is ErrDuplicateAlpha. Refusals are [*Error] values
// with a code and an HTTP status (see the sentinels).
//
// # Append-only storage
//
// Migration 0003_ledger.sql installs triggers that refuse UPDATE, DELETE
// and TRUNCATE on every ledger table and a group role eballot_service with
// only SELECT and INSERT (docs/export-format.md, "Operating the ledger").
// [Ledger.Audit] recomputes everything from the entries and names the
// index of any entry or hash changed behind the triggers' back.
//
// # Public board
//
// [Ledger.Routes] mounts the JSON API under /ledger/v1/{election}
// (docs/board-api.yaml); [Ledger.Export] writes the one-file export
// (docs/export-format.md) with crypto/export's Writer.
package ledger
