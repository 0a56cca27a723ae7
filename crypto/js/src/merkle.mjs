// RFC 6962 / RFC 9162 Merkle tree proofs (docs/protocol.md §6), the same tree
// as golang.org/x/mod/sumdb/tlog.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes } from './bytes.mjs';

export const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
export const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

/** The ledger record of an entry: T ‖ authorisation ‖ ballot_bytes. */
export const entryRecord = (T, authorisation, ballotBytes) => concat(T, authorisation, ballotBytes);

function checkHashes(proof) {
  if (!Array.isArray(proof) || proof.some((h) => !(h instanceof Uint8Array) || h.length !== 32)) throw new Error('bad proof');
}

/** Root computed from a leaf hash and its inclusion proof (RFC 9162 §2.1.3.2), or null. */
export function rootFromInclusion(index, size, leaf, proof) {
  try {
    checkHashes(proof);
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0n) return null;
      if ((fn & 1n) === 1n || fn === sn) {
        r = nodeHash(p, r);
        if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n ? r : null;
  } catch {
    return null;
  }
}

/** Inclusion proof check: leaf (hash) at index in the tree of size with root. */
export function verifyInclusion(index, size, leaf, proof, root) {
  const r = rootFromInclusion(index, size, leaf, proof);
  return r !== null && equalBytes(r, root);
}

/** Consistency proof check from (size1, root1) to (size2, root2) (RFC 9162 §2.1.4.2). */
export function verifyConsistency(size1, size2, proof, root1, root2) {
  try {
    checkHashes(proof);
    // As tlog.CheckTree: both trees non-empty, size1 ≤ size2.
    if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size2 < size1) return false;
    if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
    if (proof.length === 0) return false;
    let path = proof;
    // If size1 is a power of two, root1 is the first node of the path.
    if ((size1 & (size1 - 1)) === 0) path = [root1, ...proof];
    let fn = BigInt(size1) - 1n;
    let sn = BigInt(size2) - 1n;
    while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
    let fr = path[0];
    let sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        sr = nodeHash(sr, c);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equalBytes(fr, root1) && equalBytes(sr, root2);
  } catch {
    return false;
  }
}
