/**
 * OIDC sign-in (authorization code + PKCE) with oidc-client-ts, loaded only when config.json says
 * `"auth": "oidc"`. Its user and its sign-in state live in sessionStorage (its default state store is
 * localStorage: overridden). Renewal uses the refresh token; there is no iframe renewal, since the
 * site's CSP forbids framing (frame-ancestors 'none'), so a session that cannot be renewed ends with
 * a clear "sign in again".
 */
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import type { OidcSettings } from "../config";
import type { AuthProvider, Session } from "./session";

let manager: UserManager | null = null;
let settings: OidcSettings | null = null;

function toSession(user: User | null): Session | null {
  if (!user || !settings) return null;
  const token = settings.apiToken === "access_token" ? user.access_token : user.id_token;
  if (!token) return null;
  const profile = user.profile;
  return { token, label: profile.email ?? profile.preferred_username ?? profile.sub };
}

export function createOidcProvider(oidc: OidcSettings): AuthProvider & {
  signIn(returnTo: string): Promise<void>;
  completeSignIn(): Promise<{ session: Session | null; returnTo: string }>;
} {
  settings = oidc;
  const store = new WebStorageStateStore({ store: window.sessionStorage });
  manager = new UserManager({
    authority: oidc.authority,
    client_id: oidc.clientId,
    redirect_uri: `${window.location.origin}/callback`,
    post_logout_redirect_uri: `${window.location.origin}/signin`,
    response_type: "code",
    scope: oidc.scope,
    userStore: store,
    stateStore: store,
    automaticSilentRenew: false, // renewed on demand, with the refresh token, when a request needs it
    ...(oidc.audience ? { extraQueryParams: { audience: oidc.audience } } : {}),
  });
  const users = manager;
  return {
    kind: "oidc",
    async restore() {
      return toSession(await users.getUser());
    },
    async renew() {
      const user = await users.getUser();
      if (!user?.refresh_token) return null;
      return toSession(await users.signinSilent());
    },
    async signOut() {
      const user = await users.getUser();
      await users.removeUser();
      if (user) {
        await users.signoutRedirect({ id_token_hint: user.id_token }).catch(() => {
          /* an issuer without end_session_endpoint: signed out locally */
        });
      }
    },
    async signIn(returnTo: string) {
      await users.signinRedirect({ state: { returnTo } });
    },
    async completeSignIn() {
      const user = await users.signinRedirectCallback();
      const state = user.state as { returnTo?: unknown } | undefined;
      const returnTo = typeof state?.returnTo === "string" && state.returnTo.startsWith("/") ? state.returnTo : "/";
      return { session: toSession(user), returnTo };
    },
  };
}
