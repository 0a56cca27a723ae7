// Checkpoints and voter receipts (docs/protocol.md §6), as crypto/receipt.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, fromHex, toBase64, toHex, utf8 } from './bytes.mjs';
import { decodeBase64Go, openNote } from './note.mjs';
import { parseStrictJSON } from './canonical.mjs';
import { leafHash, verifyConsistency as consistent, verifyInclusion as included } from './merkle.mjs';
import { shortCode } from './tracker.mjs';

export const MAX_TREE_SIZE = 2 ** 40;
export const MAX_SIGNED_CHECKPOINT = 4096;
export const MAX_RECEIPT_JSON = 16 << 10;
const MAX_PROOF_HASHES = 40;
const MIN_BALLOT = 1 + 32 + 2 + 2;
const MAX_BALLOT = 64 << 10;
const EMPTY_ROOT = sha256(new Uint8Array(0));

export const checkpointOrigin = (electionId) => 'eballot/' + electionId;

/**
 * Parses a checkpoint body "<origin>\n<size>\n<base64 root>\n" strictly,
 * with "closed\n" as a fourth line for the close (protocol version 2), or
 * "closed <time>\n" with the time voting stopped, RFC 3339 UTC to the
 * second (protocol version 4); returns {origin, size, root, closed,
 * closedAt} (closedAt '' when the close states no time).
 */
export function parseCheckpoint(text) {
  const fail = (m) => { throw new Error('eballot: ' + m); };
  if (text.length === 0 || utf8(text).length > MAX_SIGNED_CHECKPOINT || !text.endsWith('\n')) fail('malformed checkpoint');
  const lines = text.slice(0, -1).split('\n');
  let closed = false;
  let closedAt = '';
  if (lines.length === 4) {
    if (lines[3].startsWith('closed ')) {
      closedAt = lines[3].slice('closed '.length);
      parseCloseTime(closedAt);
      closed = true;
    } else closed = lines[3] === 'closed';
    if (closed) lines.pop();
  }
  if (lines.length !== 3) fail('checkpoint must have three lines (and "closed" or "closed <time>" as a fourth for the close)');
  const [origin, sz, root64] = lines;
  if (origin.length === 0 || origin.length > 255 || !/^[\x21-\x7e]+$/.test(origin)) fail('bad checkpoint origin');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sz)) fail('malformed tree size');
  const size = Number(sz);
  if (size > MAX_TREE_SIZE) fail('tree size out of range');
  let root;
  try { root = decodeBase64Go(root64); } catch { fail('malformed root hash'); }
  if (root.length !== 32 || toBase64(root) !== root64) fail('malformed root hash');
  if (size === 0 && !equalBytes(root, EMPTY_ROOT)) fail('empty tree with a non-empty root');
  return { origin, size, root, closed, closedAt };
}

/**
 * Parses a close time in its one accepted form (receipt.ParseCloseTime):
 * RFC 3339 UTC to the second, canonical. Returns a Date.
 */
export function parseCloseTime(s) {
  const d = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/.test(s) ? new Date(s) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().replace('.000Z', 'Z') !== s) throw new Error(`eballot: close time ${JSON.stringify(s)} is not RFC 3339 UTC to the second`);
  return d;
}

/** Verifies a signed checkpoint with the ledger's note verifier key and parses it. */
export function openCheckpoint(signed, verifierKey) {
  if (utf8(signed).length > MAX_SIGNED_CHECKPOINT) throw new Error('eballot: signed checkpoint too long');
  return parseCheckpoint(openNote(signed, verifierKey));
}

/** Throws unless leaf is the index'th leaf of checkpoint c. */
export function checkInclusion(c, index, leaf, proof) {
  if (!Number.isSafeInteger(index) || index < 0 || index >= c.size) throw new Error('eballot: index outside the tree');
  if (proof.length > 64 || !included(index, c.size, leaf, proof, c.root)) throw new Error('eballot: inclusion proof does not verify');
}

/** Throws unless checkpoint later extends old (same origin) with the consistency proof. */
export function checkConsistency(old, later, proof) {
  if (old.origin !== later.origin) throw new Error('eballot: checkpoints have different origins');
  if (later.size < old.size) throw new Error('eballot: later checkpoint is smaller');
  if (proof.length > 128) throw new Error('eballot: proof too long');
  if (old.size === later.size) {
    if (proof.length !== 0 || !equalBytes(old.root, later.root)) throw new Error('eballot: checkpoints of equal size differ');
    return;
  }
  if (old.size === 0) {
    if (proof.length !== 0 || !equalBytes(old.root, EMPTY_ROOT)) throw new Error('eballot: non-empty proof from the empty tree');
    return;
  }
  if (!consistent(old.size, later.size, proof, old.root, later.root)) throw new Error('eballot: consistency proof does not verify');
}

const FIELDS = ['version', 'election_id', 'tracker', 'short_code', 'index', 'inclusion_proof', 'checkpoint'];

/**
 * Parses a receipt (JSON text or object) strictly, as crypto/receipt
 * ParseReceipt: unknown fields, other versions, non-lowercase hex, a short
 * code not matching the tracker, bad index or proof length are rejected.
 */
export function parseReceipt(j) {
  if (typeof j === 'string') {
    if (utf8(j).length > MAX_RECEIPT_JSON) throw new Error('eballot: receipt JSON too large');
    j = parseStrictJSON(j);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error('eballot: receipt must be an object');
  // Go's encoding/json also matches differently-cased names and takes the last
  // of duplicate keys; this decoder rejects both (receipts come from our server).
  for (const k of Object.keys(j)) if (!FIELDS.includes(k)) throw new Error(`eballot: unknown receipt field ${k}`);
  if (j.version !== 1) throw new Error('eballot: unsupported receipt version');
  const proof = j.inclusion_proof ?? [];
  if (!Array.isArray(proof) || proof.length > MAX_PROOF_HASHES) throw new Error('eballot: bad inclusion proof');
  const r = {
    electionId: j.election_id ?? '',
    tracker: fromHex(j.tracker ?? '', 32),
    shortCode: j.short_code ?? '',
    index: j.index ?? 0,
    inclusionProof: proof.map((h) => fromHex(h, 32)),
    checkpoint: j.checkpoint ?? '',
  };
  checkReceipt(r);
  return r;
}

function checkReceipt(r) {
  if (typeof r.electionId !== 'string' || !/^[a-z0-9-]{1,64}$/.test(r.electionId)) throw new Error('eballot: bad election id');
  if (r.shortCode !== shortCode(r.tracker)) throw new Error('eballot: short code does not match tracker');
  if (!Number.isSafeInteger(r.index) || r.index < 0 || r.index >= MAX_TREE_SIZE) throw new Error('eballot: index out of range');
  if (typeof r.checkpoint !== 'string' || r.checkpoint.length === 0 || utf8(r.checkpoint).length > MAX_SIGNED_CHECKPOINT) {
    throw new Error('eballot: checkpoint missing or too long');
  }
}

/** The receipt as its JSON object (field order as Go). */
export function receiptToJSON(r) {
  checkReceipt(r);
  return {
    version: 1, election_id: r.electionId, tracker: toHex(r.tracker), short_code: r.shortCode,
    index: r.index, inclusion_proof: r.inclusionProof.map((h) => toHex(h)), checkpoint: r.checkpoint,
  };
}

function checkEntry(T, entry) {
  if (entry.length < 32 + 288 + MIN_BALLOT || entry.length > 32 + 288 + MAX_BALLOT) throw new Error('eballot: entry length out of range');
  if (!equalBytes(entry.subarray(0, 32), T)) throw new Error('eballot: entry is for another tracker');
  const ballot = entry.subarray(320);
  // Ballot versions 1, 2 and 3 (§4.2; 3 from protocol 7): the tracker is over the whole encoding of any.
  if (ballot[0] < 1 || ballot[0] > 3) throw new Error('eballot: not a version 1, 2 or 3 ballot');
  const t = sha256(concat(utf8('ballot-v1'), ballot.subarray(1, 33), ballot));
  if (!equalBytes(t, T)) throw new Error('eballot: tracker does not match the ballot');
}

/**
 * Verifies a receipt against its entry bytes (T ‖ authorisation ‖ ballot):
 * tracker recomputed from the ballot, checkpoint signed by verifierKey for
 * origin eballot/<election_id>, inclusion of the entry's leaf. Returns the
 * checkpoint; throws on failure.
 */
export function verifyReceipt(r, verifierKey, entry) {
  checkReceipt(r);
  checkEntry(r.tracker, entry);
  const c = openCheckpoint(r.checkpoint, verifierKey);
  if (c.origin !== checkpointOrigin(r.electionId)) throw new Error('eballot: checkpoint is for another election');
  checkInclusion(c, r.index, leafHash(entry), r.inclusionProof);
  return c;
}

/** verifyReceipt, then that the signed later checkpoint extends the receipt's. Returns the later checkpoint. */
export function verifyReceiptAgainst(r, verifierKey, entry, laterSigned, consistencyProof) {
  const c = verifyReceipt(r, verifierKey, entry);
  const lc = openCheckpoint(laterSigned, verifierKey);
  checkConsistency(c, lc, consistencyProof);
  return lc;
}
