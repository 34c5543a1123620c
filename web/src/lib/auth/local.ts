/** The local stack's sign-in: GET /_local/tenants lists the demo tenants with fresh tokens (local only). */
import { type AuthProvider, type Session, session, tabStorage } from "./session";

export interface Tenant {
  key: string;
  email: string;
  org: string;
  roles: string[];
  token: string;
}

export async function fetchTenants(apiUrl: string): Promise<Tenant[]> {
  const response = await fetch(`${apiUrl}/_local/tenants`, { cache: "no-store" });
  if (!response.ok) throw new Error(`The local stack did not list its tenants (HTTP ${response.status}).`);
  const body: unknown = await response.json();
  if (!Array.isArray(body)) throw new Error("Unexpected answer from /_local/tenants.");
  return body as Tenant[];
}

export function signInAs(tenant: Tenant): void {
  const next: Session = { token: tenant.token, label: tenant.email };
  tabStorage.write(next);
  session.set(next);
}

export const localProvider: AuthProvider = {
  kind: "local",
  restore: () => Promise.resolve(tabStorage.read()),
  renew: () => Promise.resolve(null), // demo tokens are not renewed: the sign-in page lists fresh ones
  signOut: () => {
    tabStorage.write(null);
    return Promise.resolve();
  },
};
