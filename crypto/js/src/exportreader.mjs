// The export file reader (docs/export-format.md), the twin of Go's
// crypto/export Reader: strict and streaming over the file's bytes, every
// structural defect a CheckError naming its check of docs/protocol.md §8.2
// (file.*, header.*, *.encoding, end.totals) and the line.
import { canonicalJSON, parseStrictJSON } from './canonical.mjs';
import { CheckError } from './checks.mjs';
import { fromBase64, fromHex, utf8 } from './bytes.mjs';

export const FORMAT = 'eballot-export';
export const VERSIONS = [1, 2, 3, 4, 5];
/** Version 5: version 4 with the paper section (docs/protocol.md §10). */
export const PAPER_VERSION = 5;
/** Versions 3 and 5 have a paper section; 4 and 5 decompression hints (§4.5). */
export const hasPaper = (v) => v === 3 || v === 5;
export const hasHints = (v) => v === 4 || v === 5;
export const MAX_PAPER = 256 << 10;
export const MAX_LINE = 2 << 20;
export const MAX_ENTRY = 32 + 288 + (64 << 10);
export const MAX_STYLES = 1024;
export const MAX_TREE_SIZE = 2 ** 40;
export const MAX_NOTE = 4096;

// Members of each line type, in version 1 order ("type" first); version 2
// writes them sorted (canonical JSON). t: s string, i integer, b boolean,
// I array of integers (or null).
const LINES = {
  header: [['type', 's'], ['format', 's'], ['version', 'i'], ['election_id', 's'], ['manifest_hash', 's'], ['log_key', 's'], ['tree_size', 'i'], ['closed', 'b']],
  manifest: [['type', 's'], ['manifest', 's']],
  checkpoint: [['type', 's'], ['size', 'i'], ['root', 's'], ['note', 's']],
  close: [['type', 's'], ['size', 'i'], ['root', 's'], ['note', 's']],
  entry: [['type', 's'], ['index', 'i'], ['style', 'i'], ['entry', 's']],
  entry_hints: [['type', 's'], ['index', 'i'], ['style', 'i'], ['entry', 's'], ['hints', 's']],
  end: [['type', 's'], ['entries', 'i'], ['checkpoints', 'i'], ['style_counts', 'I'], ['root', 's']],
  batch: [['type', 's'], ['batch', 's'], ['note', 's']],
  paper_close: [['type', 's'], ['close', 's'], ['note', 's']],
};

/** A string as Go's encoding/json writes it with HTML escaping off (version 1). */
function goString(s) {
  return canonicalJSON(s).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}

/** The version 1 line of an object of a type (members in order). */
function v1Line(type, o) {
  return '{' + LINES[type].map(([k, t]) => {
    const v = o[k];
    let enc;
    if (t === 's') enc = goString(v);
    else if (t === 'I') enc = v === null ? 'null' : '[' + v.join(',') + ']';
    else enc = String(v);
    return goString(k) + ':' + enc;
  }).join(',') + '}';
}

const typeOK = (t, v) => (t === 's' ? typeof v === 'string' : t === 'i' ? Number.isSafeInteger(v) : t === 'b' ? typeof v === 'boolean'
  : v === null || (Array.isArray(v) && v.every((x) => Number.isSafeInteger(x))));

const safe = (n) => Number.isSafeInteger(n);
const B64 = /^[A-Za-z0-9+/=]*$/;
const ENTRY_V2 = /^\{"entry":"([A-Za-z0-9+/=]*)","index":((?:0|-?[1-9][0-9]*)),"style":((?:0|-?[1-9][0-9]*)),"type":"entry"\}$/;
const ENTRY_V4 = /^\{"entry":"([A-Za-z0-9+/=]*)","hints":"([A-Za-z0-9+/=]*)","index":((?:0|-?[1-9][0-9]*)),"style":((?:0|-?[1-9][0-9]*)),"type":"entry"\}$/;
const ENTRY_V1 = /^\{"type":"entry","index":((?:0|-?[1-9][0-9]*)),"style":((?:0|-?[1-9][0-9]*)),"entry":"([A-Za-z0-9+/=]*)"\}$/;

/** Lowercase hex of 32 bytes, or null. */
function hash32(s) {
  try { return fromHex(s, 32); } catch { return null; }
}

/** Canonical standard padded base64 of at most max bytes, or null. */
function base64(s, max) {
  if (Math.floor(s.length / 4) * 3 > max + 2) return null;
  let b;
  try { b = fromBase64(s); } catch { return null; }
  return b.length > max ? null : b;
}

/** Streaming reader: header(), manifest, then next() until null. */
export class ExportReader {
  constructor(bytes) {
    this.b = bytes;
    this.pos = 0;
    this.line = 0;
    this.entries = 0;
    this.cps = 0;
    this.lastCP = -1;
    this.closedSeen = false;
    this.paper = 0; // 0 no paper line yet, 1 batches, 2 after the paper close
    this.done = false;
    this.dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    this.#readHeader();
  }

  fail(check, detail) {
    throw new CheckError(check, { line: this.line, detail });
  }

  #nextLine() {
    this.line++;
    const b = this.b;
    if (this.pos >= b.length) this.fail('file.end', 'file ends before the end line');
    const i = b.indexOf(10, this.pos);
    const end = i < 0 ? b.length : i;
    if (end - this.pos > MAX_LINE) this.fail('file.encoding', `line longer than ${MAX_LINE} bytes`);
    if (i < 0) this.fail('file.encoding', 'last line does not end with a newline (truncated file?)');
    const raw = b.subarray(this.pos, i);
    this.pos = i + 1;
    try {
      return { raw, s: this.dec.decode(raw) };
    } catch {
      return this.fail('file.encoding', 'the line is not UTF-8');
    }
  }

  /** Strict decoding of a line of a type in the file's version (file.line). */
  #decode(type, s) {
    let v;
    try { v = parseStrictJSON(s); } catch (e) { this.fail('file.line', String(e.message).replace(/^eballot: /, '')); }
    const members = LINES[type];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail('file.line', 'not a JSON object');
    const keys = Object.keys(v);
    if (keys.length !== members.length || !members.every(([k, t]) => Object.hasOwn(v, k) && typeOK(t, v[k]))) {
      this.fail('file.line', `the members are not exactly those of a ${type === 'entry_hints' ? 'entry' : type} line`);
    }
    const again = this.version === 1 ? v1Line(type, v) : canonicalJSON(v);
    if (again !== s) this.fail('file.line', 'the line is not in its canonical form');
    return v;
  }

  /** Exact member names, the last of duplicates (as Go's probe). */
  #probe(s) {
    let v;
    try { v = JSON.parse(s); } catch { return null; }
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  }

  #readHeader() {
    const { raw, s } = this.#nextLine();
    if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) this.fail('file.encoding', 'the file starts with a byte-order mark');
    const p = this.#probe(s);
    if (!p) this.fail('file.line', 'the first line is not a JSON object');
    if (p.type !== 'header') this.fail('file.order', 'the first line must be the header');
    if (p.format !== FORMAT) this.fail('header.version', `format ${JSON.stringify(p.format)} is not "${FORMAT}"`);
    if (!VERSIONS.includes(p.version)) this.fail('header.version', `export version ${JSON.stringify(p.version)} is not supported (this reader knows versions 1 to 5)`);
    this.version = p.version;
    const h = this.#decode('header', s);
    if (h.type !== 'header' || h.format !== FORMAT || h.version !== this.version) this.fail('file.line', "the header's members are not those of a header");
    const mh = hash32(h.manifest_hash);
    if (!mh) this.fail('header.field', 'manifest_hash: hash must be 64 lowercase hex digits');
    if (h.tree_size < 0 || h.tree_size > MAX_TREE_SIZE) this.fail('header.field', 'tree_size out of range');
    const idLen = utf8(h.election_id).length;
    if (idLen === 0 || idLen > 64) this.fail('header.field', 'election_id must be 1–64 bytes');
    this.header = { version: h.version, electionId: h.election_id, manifestHash: mh, logKey: h.log_key, treeSize: h.tree_size, closed: h.closed };

    const m = this.#nextLine();
    const ml = this.#decode('manifest', m.s);
    if (ml.type !== 'manifest') this.fail('file.order', 'the second line must be the manifest');
    const raw2 = base64(ml.manifest, MAX_LINE);
    if (!raw2 || raw2.length === 0) this.fail('manifest.encoding', 'manifest is not canonical standard padded base64 of at least one byte');
    this.manifest = raw2;
  }

  #lineType(s) {
    if (this.version === 1) {
      for (const t of ['entry', 'checkpoint', 'end']) if (s.startsWith(`{"type":"${t}",`)) return t;
      return '';
    }
    if (s.startsWith('{"entry":"')) return 'entry';
    const p = this.#probe(s);
    return p && typeof p.type === 'string' ? p.type : '';
  }

  /** The next body item {kind, …}, or null after the end line. */
  next() {
    if (this.done) {
      if (this.pos < this.b.length) {
        this.line++;
        this.fail('file.end', 'data after the end line');
      }
      return null;
    }
    const { s } = this.#nextLine();
    const type = this.#lineType(s);
    const paperLine = type === 'batch' || type === 'paper_close';
    if (this.closedSeen && type !== 'end' && !(paperLine && hasPaper(this.version))) this.fail('file.order', 'only the end line may follow the close (and, in versions 3 and 5, paper lines)');
    switch (type) {
      case 'batch':
      case 'paper_close': return this.#paper(s, type);
      case 'entry': return this.#entry(s);
      case 'checkpoint':
      case 'close': return this.#checkpoint(s, type);
      case 'end': return this.#end(s);
      case 'header':
      case 'manifest': return this.fail('file.order', `a second ${type} line`);
      default:
        try { parseStrictJSON(s); } catch (e) { this.fail('file.line', String(e.message).replace(/^eballot: /, '')); }
        return this.fail('file.line', 'the line is not a checkpoint, entry, close, batch, paper_close or end');
    }
  }

  /** A batch or paper_close line (Go's paperLine): versions 3 and 5, after the close. */
  #paper(s, type) {
    if (!hasPaper(this.version)) this.fail('file.line', `a paper line in an export of version ${this.version} (paper lines are versions 3 and 5)`);
    if (!this.closedSeen) this.fail('file.order', 'paper lines come after the close');
    if (this.paper === 2) this.fail('file.order', 'only the end line may follow the paper close');
    const l = this.#decode(type, s);
    const bytes = base64(type === 'batch' ? l.batch : l.close, MAX_PAPER);
    if (!bytes || bytes.length === 0) this.fail('paper.encoding', `paper line: not canonical standard padded base64 of 1 to ${MAX_PAPER} bytes`);
    const n = utf8(l.note).length;
    if (n === 0 || n > MAX_NOTE) this.fail('paper.encoding', `paper line: note must be 1–${MAX_NOTE} bytes`);
    this.paper = type === 'batch' ? 1 : 2;
    return { kind: type, bytes, note: l.note };
  }

  #entry(s) {
    let index;
    let style;
    let b64;
    let h64 = '';
    const hinted = hasHints(this.version);
    const m = (this.version === 1 ? ENTRY_V1 : hinted ? ENTRY_V4 : ENTRY_V2).exec(s);
    if (m) {
      // The exact canonical form (as Go's fastEntry).
      if (this.version === 1) [index, style, b64] = [Number(m[1]), Number(m[2]), m[3]];
      else if (hinted) [b64, h64, index, style] = [m[1], m[2], Number(m[3]), Number(m[4])];
      else [index, style, b64] = [Number(m[2]), Number(m[3]), m[1]];
    }
    if (!m || !safe(index) || !safe(style) || !B64.test(b64)) {
      const e = this.#decode(hinted ? 'entry_hints' : 'entry', s);
      if (e.type !== 'entry') this.fail('file.line', 'not an entry line');
      [index, style, b64, h64] = [e.index, e.style, e.entry, e.hints ?? ''];
    }
    if (index !== this.entries) this.fail('file.order', `entry index ${index}, want ${this.entries} (entries must be in order without gaps)`);
    if (index >= this.header.treeSize) this.fail('file.order', `entry ${index} beyond tree_size ${this.header.treeSize}`);
    if (style < 0 || style >= MAX_STYLES) this.fail('entry.encoding', `entry ${index}: style ${style} out of range`);
    const bytes = base64(b64, MAX_ENTRY);
    if (!bytes) this.fail('entry.encoding', `entry ${index}: not canonical standard padded base64 of at most ${MAX_ENTRY} bytes`);
    let hints = null;
    if (hinted) {
      hints = base64(h64, MAX_ENTRY);
      if (!hints) this.fail('entry.encoding', `entry ${index}: hints not canonical standard padded base64 of at most ${MAX_ENTRY} bytes`);
    }
    this.entries++;
    return { kind: 'entry', index, style, bytes, hints };
  }

  #checkpoint(s, probed) {
    const c = this.#decode(probed, s);
    const isClose = c.type === 'close';
    const what = isClose ? 'close' : 'checkpoint';
    if (isClose) {
      if (this.version === 1) this.fail('file.line', 'a close line in an export of version 1');
      if (!this.header.closed) this.fail('file.order', 'a close line in an export whose header says it is not closed');
      if (this.entries !== this.header.treeSize || c.size !== this.entries) {
        this.fail('file.order', `the close (size ${c.size}) must come after all ${this.header.treeSize} entries and cover them`);
      }
    } else {
      if (c.size !== this.entries) this.fail('file.order', `checkpoint of size ${c.size} after ${this.entries} entries (a checkpoint must follow its last entry)`);
      if (c.size <= this.lastCP) this.fail('file.order', `checkpoint of size ${c.size} repeated`);
    }
    const root = hash32(c.root);
    if (!root) this.fail('checkpoint.encoding', `${what} ${c.size}: root: hash must be 64 lowercase hex digits`);
    const n = utf8(c.note).length;
    if (n === 0 || n > MAX_NOTE) this.fail('checkpoint.encoding', `${what} ${c.size}: note must be 1–${MAX_NOTE} bytes`);
    if (isClose) this.closedSeen = true;
    else {
      this.lastCP = c.size;
      this.cps++;
    }
    return { kind: what, size: c.size, root, note: c.note };
  }

  #end(s) {
    const e = this.#decode('end', s);
    if (this.version !== 1 && this.header.closed && !this.closedSeen) this.fail('file.order', 'the header says closed but there is no close line before the end');
    if (e.entries !== this.entries || this.entries !== this.header.treeSize) {
      this.fail('end.totals', `end says ${e.entries} entries; the file has ${this.entries} and the header ${this.header.treeSize}`);
    }
    if (e.checkpoints !== this.cps) this.fail('end.totals', `end says ${e.checkpoints} checkpoints; the file has ${this.cps}`);
    if (e.style_counts !== null && e.style_counts.length > MAX_STYLES) this.fail('end.encoding', 'too many style_counts');
    if (e.style_counts !== null && e.style_counts.some((n) => n < 0)) this.fail('end.encoding', 'a negative style count');
    const root = hash32(e.root);
    if (!root) this.fail('end.encoding', 'end root: hash must be 64 lowercase hex digits');
    this.done = true;
    return { kind: 'end', entries: e.entries, checkpoints: e.checkpoints, styleCounts: e.style_counts, root };
  }
}
