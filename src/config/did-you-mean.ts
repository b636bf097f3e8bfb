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

/**
 * The closest candidate within `maxDistance` edits (first listed on ties),
 * else one the input abbreviates (`interval` → `interval_seconds`); undefined if none.
 */
export function didYouMean(input: string, candidates: readonly string[], maxDistance = 2): string | undefined {
  // Two edits turn any 2-letter key into most others; short keys get fewer.
  const limit = Math.min(maxDistance, Math.max(1, Math.floor(input.length / 2)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = levenshtein(normalise(input), normalise(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined || input.length < 3) return best;
  return candidates.find((c) => normalise(c).startsWith(`${normalise(input)}_`));
}
