/**
 * Who is signed in: the bearer token, kept in memory and in sessionStorage (this tab only, gone
 * when it closes; never localStorage). The sign-in method behind it is a provider: the local
 * stack's demo tenants, or OIDC (authorization code + PKCE, loaded only when configured).
 */
import { isExpired } from "./jwt";

export interface Session {
  token: string;
  /** how the user is shown before /v1/me answers */
  label: string;
}

export interface AuthProvider {
  readonly kind: "local" | "oidc";
  /** the session this tab already has (a reload), or null */
  restore(): Promise<Session | null>;
  /** a fresh token without the user (OIDC refresh token); null when it cannot */
  renew(): Promise<Session | null>;
  signOut(): Promise<void>;
}

type State = { session: Session | null; expired: boolean };
const KEY = "helpdesk.session";
let state: State = { session: null, expired: false };
let provider: AuthProvider | null = null;
const listeners = new Set<() => void>();

function emit(next: State): void {
  state = next;
  for (const listener of listeners) listener();
}

export const session = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  snapshot(): State {
    return state;
  },
  use(next: AuthProvider): void {
    provider = next;
  },
  async restore(): Promise<void> {
    if (!provider) return;
    const restored = await provider.restore();
    if (restored && isExpired(restored.token)) {
      const renewed = await provider.renew().catch(() => null);
      emit({ session: renewed, expired: !renewed });
      return;
    }
    emit({ session: restored, expired: false });
  },
  set(next: Session): void {
    emit({ session: next, expired: false });
  },
  /** The token to send, renewed first when it has expired; null (and the sign-in page) when it cannot be. */
  async token(): Promise<string | null> {
    const current = state.session;
    if (!current) return null;
    if (!isExpired(current.token)) return current.token;
    const renewed = provider ? await provider.renew().catch(() => null) : null;
    if (renewed) {
      emit({ session: renewed, expired: false });
      return renewed.token;
    }
    this.expire();
    return null;
  },
  /** The API said 401: the token is no good any more. */
  expire(): void {
    if (state.session) emit({ session: null, expired: true });
  },
  async signOut(): Promise<void> {
    emit({ session: null, expired: false });
    await provider?.signOut();
  },
};

/** sessionStorage for the local provider (OIDC keeps its own user there, through oidc-client-ts). */
export const tabStorage = {
  read(): Session | null {
    try {
      const raw = window.sessionStorage.getItem(KEY);
      const value: unknown = raw ? JSON.parse(raw) : null;
      if (value && typeof value === "object" && "token" in value && "label" in value) {
        const { token, label } = value as Record<string, unknown>;
        if (typeof token === "string" && typeof label === "string") return { token, label };
      }
    } catch {
      /* unreadable: signed out */
    }
    return null;
  },
  write(value: Session | null): void {
    if (value) window.sessionStorage.setItem(KEY, JSON.stringify(value));
    else window.sessionStorage.removeItem(KEY);
  },
};
