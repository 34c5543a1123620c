import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "@/app/app";
import { localProvider } from "@/lib/auth/local";
import { session } from "@/lib/auth/session";
import { loadConfig } from "@/lib/config";
import { createQueryClient } from "@/lib/query-client";
import "./styles.css";

async function start(): Promise<void> {
  const root = createRoot(document.getElementById("root") as HTMLElement);
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    root.render(
      <main className="main">
        <h1>The support center is not configured</h1>
        <p>{error instanceof Error ? error.message : String(error)}</p>
      </main>,
    );
    return;
  }
  let oidcSignIn = (returnTo: string): Promise<void> => Promise.reject(new Error(`OIDC sign-in is not configured (returning to ${returnTo}).`));
  if (config.auth === "oidc" && config.oidc) {
    // the OIDC client is only downloaded where it is used
    const { createOidcProvider } = await import("@/lib/auth/oidc");
    const oidc = createOidcProvider(config.oidc);
    session.use(oidc);
    oidcSignIn = (returnTo) => oidc.signIn(returnTo);
    if (window.location.pathname === "/callback") {
      try {
        const { session: signedIn, returnTo } = await oidc.completeSignIn();
        if (signedIn) session.set(signedIn);
        window.history.replaceState(null, "", returnTo);
      } catch {
        window.history.replaceState(null, "", "/signin");
      }
    }
  } else {
    session.use(localProvider);
  }
  await session.restore();
  root.render(
    <StrictMode>
      <QueryClientProvider client={createQueryClient()}>
        <App oidcSignIn={oidcSignIn} />
      </QueryClientProvider>
    </StrictMode>,
  );
}

void start();
