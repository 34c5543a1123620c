import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Alert, Spinner } from "@/components/ui";
import { fetchTenants, signInAs, type Tenant } from "@/lib/auth/local";
import { config } from "@/lib/config";

/** Sign-in: in AWS a button to the identity provider (OIDC code + PKCE); locally the demo tenants. */
export function SignInPage({ expired, onOidcSignIn }: { expired: boolean; onOidcSignIn: () => Promise<void> }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = "Sign in · Helpdesk";
    heading.current?.focus();
  }, []);
  return (
    <main id="main" className="signin">
      <div className="signin__card">
        <p className="brand brand--large" aria-hidden="true">
          <span className="brand__mark">H</span> Helpdesk
        </p>
        <h1 ref={heading} tabIndex={-1}>
          Sign in to the support center
        </h1>
        {expired ? (
          <Alert tone="warning" title="Your session has ended.">
            Sign in again to go on where you were.
          </Alert>
        ) : null}
        {config().auth === "oidc" ? <OidcSignIn onSignIn={onOidcSignIn} /> : <LocalTenants />}
      </div>
    </main>
  );
}

function OidcSignIn({ onSignIn }: { onSignIn: () => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <p>You sign in with your organisation's account.</p>
      <button
        type="button"
        className="button button--primary button--wide"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          onSignIn().catch((caught: unknown) => {
            setBusy(false);
            setError(caught instanceof Error ? caught.message : String(caught));
          });
        }}
      >
        {busy ? "Redirecting…" : "Sign in"}
      </button>
      {error ? <Alert title="Sign-in could not start">{error}</Alert> : null}
    </>
  );
}

function roleText(tenant: Tenant): string {
  if (tenant.roles.includes(config().supportRole)) return "support team (every organisation)";
  if (tenant.roles.includes("admin")) return `admin of ${tenant.org}`;
  return `member of ${tenant.org}`;
}

function LocalTenants() {
  const tenants = useQuery({ queryKey: ["local-tenants"], queryFn: () => fetchTenants(config().apiUrl), staleTime: 0 });
  if (tenants.isPending) return <Spinner label="Asking the local stack for its demo tenants…" />;
  if (tenants.isError) return <Alert title="No demo tenants">{tenants.error.message}</Alert>;
  return (
    <>
      <p>
        This is the <strong>local stack</strong>: choose a demo user. (In AWS this page sends you to your identity
        provider.)
      </p>
      <ul className="tenants" aria-label="Demo users">
        {tenants.data.map((tenant) => (
          <li key={tenant.key}>
            <button type="button" className="tenant" onClick={() => signInAs(tenant)}>
              <span className="tenant__email">Sign in as {tenant.email}</span>
              <span className="tenant__role">{roleText(tenant)}</span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
