import { parseConfig } from "./config";

describe("parseConfig", () => {
  it("reads the local stack's config: the API on this origin unless told", () => {
    expect(parseConfig({ auth: "local" }, "http://127.0.0.1:3000")).toEqual({
      apiUrl: "http://127.0.0.1:3000",
      auth: "local",
      supportRole: "support",
    });
  });

  it("reads the deployed config, with the OIDC defaults", () => {
    const config = parseConfig(
      { apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com/", auth: "oidc", supportRole: "helpdesk-support", oidc: { authority: "https://issuer", clientId: "c1" } },
      "https://site",
    );
    expect(config).toEqual({
      apiUrl: "https://abc.execute-api.eu-west-1.amazonaws.com",
      auth: "oidc",
      supportRole: "helpdesk-support",
      oidc: { authority: "https://issuer", clientId: "c1", scope: "openid email profile", apiToken: "id_token" },
    });
  });

  it("refuses an OIDC config without issuer or client", () => {
    expect(() => parseConfig({ auth: "oidc", oidc: { authority: "https://issuer" } }, "https://site")).toThrow(/clientId/);
    expect(() => parseConfig("nope", "https://site")).toThrow();
  });
});
