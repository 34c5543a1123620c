/** Reading (never verifying: the API does that) the claims of a token, for display and expiry. */

export interface Claims {
  sub?: string;
  email?: string;
  exp?: number;
  [name: string]: unknown;
}

export function decodeClaims(token: string): Claims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
    const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return typeof claims === "object" && claims !== null ? (claims as Claims) : null;
  } catch {
    return null;
  }
}

/** Seconds since the epoch at which the token expires (0 when it has no exp). */
export function expiresAt(token: string): number {
  const exp = decodeClaims(token)?.exp;
  return typeof exp === "number" ? exp : 0;
}

/** Expired, or about to (within `skewSeconds`). */
export function isExpired(token: string, now = Date.now() / 1000, skewSeconds = 30): boolean {
  const exp = expiresAt(token);
  return exp !== 0 && exp - skewSeconds <= now;
}
