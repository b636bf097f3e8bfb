/** Bearer-token checks, compared in constant time so timing cannot leak a token. */
import { timingSafeEqual } from "node:crypto";
import { errors } from "../errors.ts";

export function bearer(req: Request): string | null {
  const h = req.headers.get("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m ? m[1]!.trim() : null;
}

export function tokenMatches(given: string | null, expected: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Compare against itself when lengths differ, so the time does not depend on where they differ.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
}

/** The optional shared token for /v1/* (server.auth_token). */
export function requireToken(req: Request, token: string | undefined): void {
  if (token !== undefined && token !== "" && !tokenMatches(bearer(req), token)) throw errors.unauthorized();
}
