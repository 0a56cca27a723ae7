// The named checks of docs/protocol.md §8.2 — the one list both verifiers
// run (Go: crypto/verify.Checks, crypto/report) — with the group each is
// shown in, and the limits of §8.3. A test compares these with the
// protocol's table and with Go's list.

/** Groups of checks, in the order a verifier shows them. */
export const GROUPS = ['file', 'manifest', 'checkpoints', 'entries', 'counts', 'paper', 'partials', 'result'];

/** Every check name → its group, in the order of docs/protocol.md §8.2. */
export const CHECKS = Object.freeze({
  'file.encoding': 'file',
  'file.line': 'file',
  'file.order': 'file',
  'file.end': 'file',
  'header.version': 'file',
  'header.field': 'file',
  'manifest.encoding': 'file',
  'checkpoint.encoding': 'file',
  'entry.encoding': 'file',
  'end.encoding': 'file',
  'end.totals': 'file',
  'paper.encoding': 'file',
  'manifest.hash': 'manifest',
  'manifest.valid': 'manifest',
  'manifest.trustees': 'manifest',
  'header.manifest': 'manifest',
  'manifest.expected': 'manifest',
  'checkpoint.signature': 'checkpoints',
  'checkpoint.text': 'checkpoints',
  'checkpoint.origin': 'checkpoints',
  'checkpoint.line': 'checkpoints',
  'checkpoint.root': 'checkpoints',
  'checkpoint.final': 'checkpoints',
  'final.expected': 'checkpoints',
  'entry.ballot': 'entries',
  'entry.hint': 'entries',
  'entry.tracker': 'entries',
  'entry.style': 'entries',
  'entry.authorisation': 'entries',
  'entry.proof': 'entries',
  'entry.duplicate_tracker': 'entries',
  'entry.duplicate_alpha': 'entries',
  'end.root': 'checkpoints',
  'end.style_counts': 'counts',
  'counts.entitled': 'counts',
  'counts.published': 'counts',
  'counts.issued': 'counts',
  'counts.issued_entitled': 'counts',
  'batch.encoding': 'paper',
  'batch.signature': 'paper',
  'batch.election': 'paper',
  'batch.chain': 'paper',
  'batch.duplicate_id': 'paper',
  'batch.style': 'paper',
  'batch.keyers': 'paper',
  'batch.keyings_agree': 'paper',
  'batch.totals': 'paper',
  'paper_close.encoding': 'paper',
  'paper_close.signature': 'paper',
  'paper_close.chain': 'paper',
  'paper_close.styles': 'paper',
  'counts.paper_returned': 'paper',
  'counts.paper_marked': 'paper',
  'counts.paper_entitled': 'paper',
  'partial.decode': 'partials',
  'partial.trustee': 'partials',
  'partial.manifest': 'partials',
  'partial.count': 'partials',
  'partial.proof': 'partials',
  'partials.threshold': 'partials',
  'result.key': 'result',
  'result.signature': 'result',
  'result.decode': 'result',
  'result.signer': 'result',
  'result.election': 'result',
  'result.manifest': 'result',
  'result.final': 'result',
  'result.ledger': 'result',
  'result.issued': 'result',
  'result.trustees': 'result',
  'result.counts': 'result',
  'result.derived': 'result',
  'result.particulars': 'result',
  'result.statements': 'result',
});

/** What a verification could not establish from what it was given (§8.3). */
export const LIMITS = ['limit.manifest_hash', 'limit.final', 'limit.open', 'limit.unsigned_close', 'limit.issued', 'limit.result'];

/** A failed check: the verifiers stop a stage by throwing one. */
export class CheckError extends Error {
  constructor(check, params = {}) {
    super(check);
    this.check = check;
    this.params = params;
  }
}
