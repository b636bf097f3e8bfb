/**
 * A guard against byte-pair encoding's quadratic cost. The encoder first cuts
 * text into pieces (words, punctuation runs, whitespace runs) and merges
 * bytes inside each piece in O(length²): 64 KB of "aaaa…" is one piece and
 * took 2.6 s in gpt-tokenizer (js-tiktoken: 290 s). Any client could stall the
 * counter that way, so pieces longer than MAX_PIECE_CHARS are counted in
 * slices of that size.
 *
 * Counts stay exact for every text without such a giant piece (a word of
 * 256+ letters, 256+ spaces or punctuation marks in a row: base64, prose,
 * code and CJK text have none). A giant piece is off by about one token per
 * slice, and the text next to it by at most a token or two.
 */

export const MAX_PIECE_CHARS = 256;

/**
 * A piece longer than MAX_PIECE_CHARS holds a run of at least ~127 characters
 * of one kind (letters; punctuation, newlines and "/"; whitespace and "/"),
 * so a text without a run of SCAN_RUN_CHARS needs no second look. Characters
 * outside ASCII may be of any kind and extend every run.
 */
const SCAN_RUN_CHARS = 100;

/** Cheap linear check on char codes; false means no piece can exceed MAX_PIECE_CHARS. */
export function mayHoldLongPiece(text: string): boolean {
  if (text.length <= MAX_PIECE_CHARS) return false;
  let letters = 0;
  let punct = 0;
  let space = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) {
      letters++;
      punct++;
      space++;
    } else if ((c | 32) >= 97 && (c | 32) <= 122) {
      letters++;
      punct = 0;
      space = 0;
    } else if (c >= 48 && c <= 57) {
      // digits form pieces of at most three
      letters = 0;
      punct = 0;
      space = 0;
    } else if (c === 10 || c === 13) {
      // newlines may trail a punctuation piece (o200k: [\r\n/]*)
      space++;
      punct++;
      letters = 0;
    } else if (c === 32 || c === 9 || c === 11 || c === 12) {
      space++;
      letters = 0;
      punct = 0;
    } else if (c === 47) {
      // "/" may trail a punctuation piece among newlines
      punct++;
      space++;
      letters = 0;
    } else {
      punct++;
      letters = 0;
      space = 0;
    }
    if (letters >= SCAN_RUN_CHARS || punct >= SCAN_RUN_CHARS || space >= SCAN_RUN_CHARS) return true;
  }
  return false;
}

/**
 * `text` cut so that no piece longer than MAX_PIECE_CHARS reaches the
 * encoder: text between giant pieces stays whole, each giant piece becomes
 * slices (never splitting a surrogate pair). `pieceRegex` is the encoding's
 * own pre-tokenizer (global flag). Returns [text] when nothing needs cutting.
 */
export function guardedSegments(text: string, pieceRegex: RegExp): string[] {
  const out: string[] = [];
  let segmentStart = 0;
  for (const match of text.matchAll(pieceRegex)) {
    const length = match[0].length;
    if (length <= MAX_PIECE_CHARS) continue;
    const start = match.index;
    const end = start + length;
    if (start > segmentStart) out.push(text.slice(segmentStart, start));
    for (let i = start; i < end; ) {
      let j = Math.min(i + MAX_PIECE_CHARS, end);
      if (j < end && isLowSurrogate(text.charCodeAt(j))) j--;
      out.push(text.slice(i, j));
      i = j;
    }
    segmentStart = end;
  }
  if (out.length === 0) return [text];
  if (segmentStart < text.length) out.push(text.slice(segmentStart));
  return out;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
