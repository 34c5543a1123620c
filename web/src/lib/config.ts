/** Runtime configuration, fetched from /config.json before the app renders (never baked into the bundle). */

export interface OidcSettings {
  /** the issuer URL (discovery at <authority>/.well-known/openid-configuration) */
  authority: string;
  clientId: string;
  scope: string;
  /** which token the API's JWT authorizer expects: the ID token (Cognito: aud = client id) or the access token */
  apiToken: "id_token" | "access_token";
  /** optional `audience` authorization parameter (Auth0-style issuers) */
  audience?: string;
}

export interface AppConfig {
  apiUrl: string;
  auth: "local" | "oidc";
  oidc?: OidcSettings;
  /** the role name that makes a caller the support team (template parameter SupportRoleName) */
  supportRole: string;
}

export function parseConfig(raw: unknown, origin: string): AppConfig {
  if (typeof raw !== "object" || raw === null) throw new Error("config.json is not an object");
  const value = raw as Record<string, unknown>;
  const auth = value.auth === "oidc" ? "oidc" : "local";
  const apiUrl = typeof value.apiUrl === "string" && value.apiUrl ? value.apiUrl.replace(/\/+$/, "") : origin;
  const supportRole = typeof value.supportRole === "string" && value.supportRole ? value.supportRole : "support";
  if (auth === "local") return { apiUrl, auth, supportRole };
  const oidc = value.oidc as Partial<OidcSettings> | undefined;
  if (!oidc?.authority || !oidc.clientId) throw new Error("config.json: oidc.authority and oidc.clientId are required");
  return {
    apiUrl,
    auth,
    supportRole,
    oidc: {
      authority: oidc.authority,
      clientId: oidc.clientId,
      scope: oidc.scope ?? "openid email profile",
      apiToken: oidc.apiToken === "access_token" ? "access_token" : "id_token",
      ...(oidc.audience ? { audience: oidc.audience } : {}),
    },
  };
}

let current: AppConfig | null = null;

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch("/config.json", { cache: "no-cache" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  current = parseConfig(await response.json(), window.location.origin);
  return current;
}

export function config(): AppConfig {
  if (!current) throw new Error("config not loaded");
  return current;
}

export function setConfigForTests(value: AppConfig): void {
  current = value;
}
