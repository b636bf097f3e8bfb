import { expect, test } from "bun:test";
import { didYouMean, levenshtein } from "../../src/config/did-you-mean.ts";

test("levenshtein counts inserts, deletes and substitutions", () => {
  expect(levenshtein("", "")).toBe(0);
  expect(levenshtein("rpm", "rpm")).toBe(0);
  expect(levenshtein("rpn", "rpm")).toBe(1);
  expect(levenshtein("prot", "port")).toBe(2);
  expect(levenshtein("kitten", "sitting")).toBe(3);
  expect(levenshtein("", "abc")).toBe(3);
});

test("suggests the closest key within 2 edits, first on ties", () => {
  const keys = ["rpm", "tpm", "tpd", "rpd", "mode"];
  expect(didYouMean("rpn", keys)).toBe("rpm");
  expect(didYouMean("tp", keys)).toBe("tpm");
  expect(didYouMean("modle", keys)).toBe("mode");
  expect(didYouMean("zzzz", keys)).toBeUndefined();
});

test("short inputs get fewer edits so unrelated keys are not offered", () => {
  expect(didYouMean("ab", ["rpm", "tpd"])).toBeUndefined();
  expect(didYouMean("xpm", ["rpm"])).toBe("rpm");
});

test("case and dashes do not count as typos; abbreviations are completed", () => {
  expect(didYouMean("Max-Wait-Seconds", ["max_concurrent", "max_wait_seconds"])).toBe("max_wait_seconds");
  expect(didYouMean("interval", ["rpm", "interval_seconds"])).toBe("interval_seconds");
  expect(didYouMean("timeout", ["timeout_seconds"])).toBe("timeout_seconds");
});
