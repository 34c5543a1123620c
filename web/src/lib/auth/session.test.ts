import { decodeClaims, isExpired } from "./jwt";
import { session, type AuthProvider } from "./session";

function token(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${encode({ alg: "RS256" })}.${encode(claims)}.signature`;
}

describe("jwt", () => {
  it("reads the claims and the expiry, with a little skew", () => {
    const now = 1_000_000;
    expect(decodeClaims(token({ sub: "u1", email: "a@b.c" }))?.email).toBe("a@b.c");
    expect(isExpired(token({ exp: now + 3600 }), now)).toBe(false);
    expect(isExpired(token({ exp: now + 10 }), now)).toBe(true);
    expect(decodeClaims("garbage")).toBeNull();
  });
});

describe("session", () => {
  const provider = (renewed: string | null): AuthProvider => ({
    kind: "local",
    restore: () => Promise.resolve(null),
    renew: () => Promise.resolve(renewed ? { token: renewed, label: "renewed" } : null),
    signOut: () => Promise.resolve(),
  });

  it("hands out a valid token as it is", async () => {
    const valid = token({ exp: Date.now() / 1000 + 3600 });
    session.use(provider(null));
    session.set({ token: valid, label: "me" });
    await expect(session.token()).resolves.toBe(valid);
  });

  it("renews an expired token when the provider can", async () => {
    const fresh = token({ exp: Date.now() / 1000 + 3600 });
    session.use(provider(fresh));
    session.set({ token: token({ exp: 1 }), label: "me" });
    await expect(session.token()).resolves.toBe(fresh);
    expect(session.snapshot()).toEqual({ session: { token: fresh, label: "renewed" }, expired: false });
  });

  it("ends the session, marked expired, when it cannot: the sign-in page says so", async () => {
    session.use(provider(null));
    session.set({ token: token({ exp: 1 }), label: "me" });
    await expect(session.token()).resolves.toBeNull();
    expect(session.snapshot()).toEqual({ session: null, expired: true });
  });

  it("keeps the local session in sessionStorage, never localStorage", async () => {
    const { signInAs } = await import("./local");
    signInAs({ key: "acme_user", email: "user@acme.test", org: "acme", roles: [], token: "t" });
    expect(window.sessionStorage.getItem("helpdesk.session")).toContain('"token":"t"');
    expect(window.localStorage.length).toBe(0);
  });
});
