-- 0012_ledger_close_note: the close is a signed statement (protocol version
-- 2, docs/protocol.md §6): when an election closes, the ledger signs its
-- final tree as a checkpoint that says "closed", and the export carries it
-- (docs/export-format.md, the close line). Elections closed before this
-- migration have no such note (NULL) and are exported in version 1.
-- ledger_closures stays append-only: the note is written with the closure
-- row, in the same INSERT, never added later.
ALTER TABLE ledger_closures
    ADD COLUMN signed text CHECK (signed IS NULL OR length(signed) BETWEEN 1 AND 4096);
