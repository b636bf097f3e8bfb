// "did you mean" suggestions for misspelled config keys.

/** Edit distance (insert, delete, substitute one character). */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// `max-wait-seconds` and `Max_Wait_Seconds` are the same mistake as a typo.
const normalise = (key: string): string => key.toLowerCase().replaceAll("-", "_");

/** The closest candidate within `maxDistance` edits, first listed on ties; undefined if none. */
export function didYouMean(input: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  let best: string | undefined;
  let bestDistance = maxDistance + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(normalise(input), normalise(candidate));
    // A one-letter key is "close" to every short key; require some real overlap.
    if (distance >= Math.max(input.length, candidate.length)) continue;
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
