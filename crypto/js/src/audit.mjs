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
 * Recomputes every (r·G, m·G + r·K) from the revealed choices and nonces
 * (bigints or hex scalars) and compares with the ballot. Returns true or false.
 */
export function checkAudit(manifest, ballot, choices, nonces) {
  try {
    const K = electionKey(manifest);
    if (ballot.questions.length !== choices.length || choices.length !== nonces.length) return false;
    const nonceOf = (rr) => (typeof rr === 'bigint' ? rr : decodeScalar(fromHex(rr, 32)));
    const same = (ct, c) => equalBytes(ct.alpha.toBytes(), c.alpha) && equalBytes(ct.beta.toBytes(), c.beta);
    for (let q = 0; q < choices.length; q++) {
      const c = ballot.questions[q].compact;
      if (c) {
        // A compact question (§4.2 version 3): two marks, one nonce.
        if (nonces[q].length !== 1) return false;
        const r = nonceOf(nonces[q][0]);
        if (r === 0n || !same(encrypt(K, compactValue(choices[q]), r), c)) return false;
        continue;
      }
      const sel = ballot.questions[q].selections;
      if (sel.length !== choices[q].length || sel.length !== nonces[q].length) return false;
      for (let o = 0; o < sel.length; o++) {
        const m = choices[q][o];
        if (m !== 0 && m !== 1) return false;
        const rr = nonces[q][o];
        const r = typeof rr === 'bigint' ? rr : decodeScalar(fromHex(rr, 32));
        if (r === 0n) return false;
        const ct = encrypt(K, m, r);
        if (!equalBytes(ct.alpha.toBytes(), sel[o].alpha) || !equalBytes(ct.beta.toBytes(), sel[o].beta)) return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}
