/**
 * Cutting a long text into parts whose token counts add up to the whole
 * text's count, so that the worker can count a huge prompt a part at a time
 * and answer small requests in between.
 *
 * A cut is exact where both encodings' pre-tokenizers necessarily end a piece
 * and start the next one the same way with or without the text around it:
 * - before a space that follows a non-space and precedes a letter
 *   ("word| next"): no piece runs on into a space-letter pair;
 * - before a punctuation mark that follows a letter and precedes one
 *   ("word|,next", "文|。中"): a letter piece ends at the mark, and the mark
 *   starts the next piece in both texts. Not the apostrophe, which can be a
 *   contraction ("it's"), nor combining marks, which o200k counts as letters.
 * A stretch of SEARCH_CHARS without such a place (runs of one letter, digits,
 * symbols) is cut blindly; that may move a token or two.
 */

const SEARCH_CHARS = 4096;

/** `text` as consecutive parts of about `size` UTF-16 units (more up to SEARCH_CHARS to reach a clean cut). */
export function splitText(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const parts: string[] = [];
  let start = 0;
  while (text.length - start > size) {
    const cut = cutNear(text, start + size);
    parts.push(text.slice(start, cut));
    start = cut;
  }
  parts.push(text.slice(start));
  return parts;
}

function cutNear(text: string, from: number): number {
  const end = Math.min(from + SEARCH_CHARS, text.length - 1);
  for (let i = Math.max(from, 1); i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) {
      if (!isSpace(text.charCodeAt(i - 1)) && isLetter(text, i + 1)) return i;
    } else if (isCutMark(text, i) && isLetter(text, i - 1) && isLetter(text, i + 1)) {
      return i;
    }
  }
  let cut = Math.min(from + SEARCH_CHARS, text.length);
  const c = text.charCodeAt(cut);
  if (c >= 0xdc00 && c <= 0xdfff) cut--; // never half a surrogate pair
  return cut;
}

const LETTER = /^\p{L}$/u;
const CUT_MARK = /^[^\s\p{L}\p{N}\p{M}']$/u;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || (c > 0xff && /\s/.test(String.fromCharCode(c)));
}

/** The code point at `i` (or ending at `i`, for a low surrogate) is a letter. */
function isLetter(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c | 32) >= 97 && (c | 32) <= 122;
  if (c >= 0xdc00 && c <= 0xdfff) i--; // the pair's start
  const cp = text.codePointAt(i);
  return cp !== undefined && LETTER.test(String.fromCodePoint(cp));
}

/** Punctuation or symbol that may start a piece: not space, letter, digit, combining mark or apostrophe. */
function isCutMark(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return c > 32 && c !== 39 && c !== 127 && !((c | 32) >= 97 && (c | 32) <= 122) && !(c >= 48 && c <= 57);
  if (c >= 0xd800 && c <= 0xdfff) return false; // astral symbols: not worth the risk
  return CUT_MARK.test(text.charAt(i));
}
