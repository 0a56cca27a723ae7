// Canonical JSON (docs/protocol.md §3) and the manifest hash.
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from './bytes.mjs';

function str(s) {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot be encoded as UTF-8: reject (invalid UTF-8).
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) throw new Error('eballot: invalid UTF-16 in string');
      out += s[i] + s[i + 1];
      i++;
      continue;
    }
    const ch = s[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20) out += '\\u00' + (c < 16 ? '0' : '1') + (c & 15).toString(16);
    else out += ch;
  }
  return out + '"';
}

function cmpUTF16(a, b) {
  return a < b ? -1 : a > b ? 1 : 0; // JS string comparison is by UTF-16 code units
}

/** canonical_json(value) as a string: sorted keys, no whitespace, integers only. */
export function canonicalJSON(v) {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error('eballot: canonical JSON allows only integers with |n| < 2^53');
    return Object.is(v, -0) ? '0' : String(v);
  }
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return '[' + v.map(canonicalJSON).join(',') + ']';
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort(cmpUTF16);
    return '{' + keys.map((k) => str(k) + ':' + canonicalJSON(v[k])).join(',') + '}';
  }
  throw new Error('eballot: value not representable in canonical JSON');
}

const MAX_DEPTH = 64;

/**
 * Parses one JSON value (text or UTF-8 bytes) strictly, as Go's
 * manifest.Canonicalize: invalid UTF-8, lone surrogates, non-integers,
 * |n| ≥ 2^53, duplicate keys, trailing data and nesting deeper than 64 are
 * rejected. Objects come back with a null prototype.
 */
export function parseStrictJSON(input) {
  let s;
  try {
    s = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    throw new Error('eballot: JSON is not valid UTF-8');
  }
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)) throw new Error('eballot: JSON has a lone surrogate');
  let i = 0;
  const fail = (m) => { throw new Error(`eballot: not canonical-JSON representable: ${m} at ${i}`); };
  const ws = () => { while (i < s.length && ' \t\n\r'.includes(s[i])) i++; };
  const lit = (w, v) => { if (!s.startsWith(w, i)) fail('invalid literal'); i += w.length; return v; };
  const hex4 = () => {
    const h = s.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('invalid \\u escape');
    i += 4;
    return parseInt(h, 16);
  };
  function str() {
    i++;
    let out = '';
    for (;;) {
      if (i >= s.length) fail('unterminated string');
      const c = s[i];
      const code = s.charCodeAt(i);
      if (c === '"') { i++; return out; }
      if (code < 0x20) fail('control character in string');
      if (c !== '\\') { out += c; i++; continue; }
      i++;
      if (i >= s.length) fail('unterminated escape');
      const e = s[i++];
      if (e === '"' || e === '\\' || e === '/') out += e;
      else if (e === 'b') out += '\b';
      else if (e === 'f') out += '\f';
      else if (e === 'n') out += '\n';
      else if (e === 'r') out += '\r';
      else if (e === 't') out += '\t';
      else if (e === 'u') {
        const r = hex4();
        if (r >= 0xd800 && r <= 0xdfff) {
          if (r >= 0xdc00 || s[i] !== '\\' || s[i + 1] !== 'u') fail('lone surrogate');
          i += 2;
          const r2 = hex4();
          if (r2 < 0xdc00 || r2 > 0xdfff) fail('lone surrogate');
          out += String.fromCharCode(r, r2);
        } else out += String.fromCharCode(r);
      } else fail('invalid escape');
    }
  }
  function num() {
    const m = /^-?(0|[1-9][0-9]*)/.exec(s.slice(i, i + 40));
    if (!m) fail('invalid number');
    i += m[0].length;
    if ('.eE'.includes(s[i] ?? 'x')) fail('only integers are allowed');
    const n = Number(m[0]);
    if (m[0].replace('-', '').length > 16 || !Number.isSafeInteger(n)) fail('integer out of range');
    return n === 0 ? 0 : n;
  }
  function value(depth) {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    if (i >= s.length) fail('unexpected end');
    const c = s[i];
    if (c === '{') {
      i++;
      const o = Object.create(null);
      ws();
      if (s[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        if (s[i] !== '"') fail('expected key');
        const k = str();
        if (Object.prototype.hasOwnProperty.call(o, k)) fail('duplicate key');
        ws();
        if (s[i] !== ':') fail('expected colon');
        i++;
        ws();
        o[k] = value(depth + 1);
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') { i++; return o; } else fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (s[i] === ']') { i++; return a; }
      for (;;) {
        ws();
        a.push(value(depth + 1));
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') { i++; return a; } else fail('expected , or ]');
      }
    }
    if (c === '"') return str();
    if (c === 't') return lit('true', true);
    if (c === 'f') return lit('false', false);
    if (c === 'n') return lit('null', null);
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    fail('unexpected character');
  }
  ws();
  const v = value(0);
  ws();
  if (i !== s.length) fail('trailing data');
  return v;
}

/** canonical_json of a JSON text (or UTF-8 bytes), parsed strictly. */
export const canonicalize = (input) => canonicalJSON(parseStrictJSON(input));

/** manifest_hash = SHA-256(canonical_json(manifest)), 32 bytes. */
export function manifestHash(manifest) {
  return sha256(utf8(canonicalJSON(manifest)));
}
