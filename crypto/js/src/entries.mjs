// The checks of one batch of ledger entries that need no other part of the
// file (docs/protocol.md §8.2: entry.ballot, entry.tracker, entry.style,
// entry.authorisation, entry.proof — verify.entry in Go), and the
// homomorphic sums of the batch's ballots that passed them. The verifier
// runs it in the page or, to use every core, in Web Workers
// (src/verifyworker.mjs): the same function either way, so the order of the
// checks and their results do not depend on where it runs. The checks that
// need the whole file (duplicate trackers and α, counts, the tree) stay
// with the caller (src/verifier.mjs).
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, toHex } from './bytes.mjs';
import { parseManifest } from './manifest.mjs';
import { decodeBallot, sumWidth } from './ballot.mjs';
import { batchVerifyBallots } from './batch.mjs';
import { tracker, shortCode } from './tracker.mjs';
import { importIssuerKey, verifyAuthorisation, AUTHORISATION_SIZE } from './blind.mjs';
import { ZERO, decodeElement, encodeElement } from './group.mjs';

const detail = (e) => String(e?.message ?? e).replace(/^eballot: /, '');

/**
 * The context of the entry checks from the manifest's bytes as the export
 * holds them (already checked by the caller): {manifest, mh, keys, width}.
 */
export async function entryContext(manifestBytes) {
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(manifestBytes);
  const { manifest } = await parseManifest(text);
  const keys = [];
  for (const st of manifest.styles) keys.push(await importIssuerKey(st.issuer_key));
  return contextOf(manifest, sha256(manifestBytes), keys);
}

/** The context from a parsed manifest, its hash and the styles' issuer keys. */
export function contextOf(manifest, mh, keys) {
  return { manifest, mh, keys, width: manifest.questions.reduce((n, q) => n + sumWidth(q), 0) };
}

// One entry's checks but its proofs (verify.entry), in order.
async function entry(ctx, en) {
  const r = { errs: [], ballot: null, T: null, code: '', style: -1, alphas: [], ok: false };
  if (en.bytes.length <= 32 + AUTHORISATION_SIZE) {
    r.errs.push(['entry.ballot', { detail: `entry is ${en.bytes.length} bytes, shorter than tracker ‖ authorisation ‖ ballot` }]);
    return r;
  }
  r.T = en.bytes.slice(0, 32);
  r.code = shortCode(r.T);
  const auth = en.bytes.subarray(32, 32 + AUTHORISATION_SIZE);
  const bb = en.bytes.subarray(32 + AUTHORISATION_SIZE);
  try {
    r.ballot = decodeBallot(ctx.manifest, ctx.mh, bb, en.hints ?? null);
  } catch (e) {
    r.errs.push([e.kind === 'hint' ? 'entry.hint' : 'entry.ballot', { detail: detail(e) }]);
    return r;
  }
  r.style = r.ballot.style;
  for (const q of r.ballot.questions) for (const s of q.compact ? [q.compact] : q.selections) r.alphas.push(toHex(s.alpha));
  if (!equalBytes(tracker(ctx.mh, bb), r.T)) r.errs.push(['entry.tracker', {}]);
  if (r.ballot.style !== en.style) r.errs.push(['entry.style', { recorded: en.style, style: r.ballot.style }]);
  if (!(await verifyAuthorisation(ctx.keys[r.ballot.style], r.T, auth))) r.errs.push(['entry.authorisation', {}]);
  return r;
}

/**
 * Checks a batch of entries ({index, style, bytes}, as the export reader
 * gives them). Returns {results, sums}: per entry {errs: [[check, params]],
 * T, code, style, alphas (hex of each selection's α, in order), ok (no
 * error)}, and per style the sums of the ok ballots' ciphertexts, flat over
 * (question, option) (a compact question: its one sum), as encoded points
 * {alpha, beta} (null for a style with none). Plain data: it crosses a worker boundary by structured clone.
 */
export async function checkEntries(ctx, entries) {
  const rs = await Promise.all(entries.map((en) => entry(ctx, en)));
  const decoded = rs.filter((r) => r.ballot);
  const batch = batchVerifyBallots(ctx.manifest, ctx.mh, decoded.map((r) => r.ballot));
  for (const i of batch.bad) decoded[i].errs.push(['entry.proof', {}]);
  const sums = ctx.manifest.styles.map(() => null);
  decoded.forEach((r, i) => {
    if (r.errs.length) return;
    r.ok = true;
    const s = (sums[r.style] ??= Array.from({ length: ctx.width }, () => ({ alpha: ZERO, beta: ZERO })));
    batch.cts[i].flat().forEach((c, k) => { s[k] = { alpha: s[k].alpha.add(c.alpha), beta: s[k].beta.add(c.beta) }; });
  });
  for (const r of rs) delete r.ballot;
  return {
    results: rs,
    sums: sums.map((s) => s && s.map((c) => ({ alpha: encodeElement(c.alpha), beta: encodeElement(c.beta) }))),
  };
}

/** The ciphertexts of one entry's ballot, flat over (question, option), as points. */
export function ciphertextsOf(ctx, bytes) {
  const b = decodeBallot(ctx.manifest, ctx.mh, bytes.subarray(32 + AUTHORISATION_SIZE));
  return b.questions.flatMap((q) => (q.compact ? [q.compact] : q.selections).map((s) => ({ alpha: decodeElement(s.alpha), beta: decodeElement(s.beta, true) })));
}

/** Decodes a sum as checkEntries encodes it (the identity allowed). */
export const decodeSum = (c) => ({ alpha: decodeElement(c.alpha, true), beta: decodeElement(c.beta, true) });
