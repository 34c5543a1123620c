import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useRef } from "react";
import { Redirect, Route, Switch, useLocation } from "wouter";
import { Alert, Spinner } from "@/components/ui";
import { TicketListPage } from "@/features/tickets/components/ticket-list-page";
import { describeError } from "@/lib/api-client";
import { isSupport, useMe } from "@/lib/me";
import { Layout } from "./layout";
import { useSession } from "./session";

// the first view (the list) is in the entry chunk; the others, and markdown with them, load on demand
const ConversationPage = lazy(() =>
  import("@/features/tickets/components/conversation-page").then((m) => ({ default: m.ConversationPage })),
);
const NewTicketPage = lazy(() => import("@/features/new-ticket/new-ticket-page").then((m) => ({ default: m.NewTicketPage })));
const SignInPage = lazy(() => import("@/features/auth/sign-in-page").then((m) => ({ default: m.SignInPage })));

export function App({ oidcSignIn }: { oidcSignIn: (returnTo: string) => Promise<void> }) {
  const { session, expired } = useSession();
  const queryClient = useQueryClient();
  const [location, navigate] = useLocation();
  const returnTo = useRef<string | null>(null);
  const token = session?.token ?? null;

  useEffect(() => {
    // signed out or expired: nothing cached for that user may show to the next (a renewal keeps the cache)
    if (!token) queryClient.clear();
    if (!token && location !== "/signin") {
      returnTo.current = location;
      navigate("/signin", { replace: true });
    }
    if (token && location === "/signin") {
      navigate(returnTo.current && returnTo.current !== "/signin" ? returnTo.current : "/", { replace: true });
      returnTo.current = null;
    }
  }, [token, location]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!token) {
    return (
      <Suspense fallback={<Spinner />}>
        <SignInPage expired={expired} onOidcSignIn={() => oidcSignIn(returnTo.current ?? "/")} />
      </Suspense>
    );
  }
  return <SignedIn label={session?.label ?? ""} />;
}

function SignedIn({ label }: { label: string }) {
  const me = useMe();
  if (me.isPending) return <Spinner label="Signing in…" />;
  if (me.isError) {
    return (
      <main id="main" className="main">
        <Alert title={`Cannot load your account: ${describeError(me.error).title}`}>{describeError(me.error).detail}</Alert>
      </main>
    );
  }
  const support = isSupport(me.data);
  return (
    <Layout forSupport={support} label={label}>
      <Suspense fallback={<Spinner />}>
        <Switch>
          <Route path="/">{support ? <Redirect to="/queue" replace /> : <Redirect to="/tickets" replace />}</Route>
          <Route path="/tickets">
            <TicketListPage forSupport={support} />
          </Route>
          <Route path="/queue">{support ? <TicketListPage forSupport /> : <Redirect to="/tickets" replace />}</Route>
          <Route path="/tickets/new">
            <NewTicketPage />
          </Route>
          <Route path="/tickets/:id">{(params) => <ConversationPage id={params.id} forSupport={support} />}</Route>
          <Route path="/signin">
            <Spinner />
          </Route>
          <Route>
            <section className="page">
              <h1>Page not found</h1>
              <p>
                <a href="/">Go to your tickets</a>
              </p>
            </section>
          </Route>
        </Switch>
      </Suspense>
    </Layout>
  );
}
