// Benaloh cast-or-audit check (docs/protocol.md §4.4).
import { decodeScalar, encodeScalar } from './group.mjs';
import { compactValue, electionKey } from './ballot.mjs';
import { encrypt } from './elgamal.mjs';
import { equalBytes, fromHex, toHex } from './bytes.mjs';

/** The audit data revealed for a ballot: nonces as hex scalars next to the choices. */
export function auditRecord(choices, nonces) {
  return { choices: choices.map((q) => q.slice()), nonces: nonces.map((q) => q.map((r) => toHex(encodeScalar(r)))) };
}

/**
 * Whether the revealed choices (0/1 per option) and nonces (bigints or hex
 * scalars) of one choose question reproduce its selections (r·G, m·G + r·K).
 * Shared by version-1 and version-2 ballots (src/ballot2.mjs).
 */
export function checkChooseAudit(K, question, choices, nonces) {
  const sel = question.selections;
  if (!Array.isArray(choices) || !Array.isArray(nonces) || sel.length !== choices.length || sel.length !== nonces.length) return false;
  for (let o = 0; o < sel.length; o++) {
    const m = choices[o];
    if (m !== 0 && m !== 1) return false;
    const rr = nonces[o];
    const r = typeof rr === 'bigint' ? rr : decodeScalar(fromHex(rr, 32));
    if (r === 0n) return false;
    const ct = encrypt(K, m, r);
    if (!equalBytes(ct.alpha.toBytes(), sel[o].alpha) || !equalBytes(ct.beta.toBytes(), sel[o].beta)) return false;
  }
  return true;
}

/**
 * Recomputes every (r·G, m·G + r·K) from the revealed choices and nonces
 * (bigints or hex scalars) and compares with the ballot. Returns true or false.
 */
export function checkAudit(manifest, ballot, choices, nonces) {
  try {
    const K = electionKey(manifest);
    if (ballot.questions.length !== choices.length || choices.length !== nonces.length) return false;
    const nonceOf = (rr) => (typeof rr === 'bigint' ? rr : decodeScalar(fromHex(rr, 32)));
    const same = (ct, c) => equalBytes(ct.alpha.toBytes(), c.alpha) && equalBytes(ct.beta.toBytes(), c.beta);
    return ballot.questions.every((q, i) => {
      if (q.compact) {
        // A compact question (§4.2 version 3): two marks, one nonce.
        if (!Array.isArray(nonces[i]) || nonces[i].length !== 1) return false;
        const r = nonceOf(nonces[i][0]);
        return r !== 0n && same(encrypt(K, compactValue(choices[i]), r), q.compact);
      }
      return checkChooseAudit(K, q, choices[i], nonces[i]);
    });
  } catch {
    return false;
  }
}
