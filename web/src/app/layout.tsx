import type { ReactNode } from "react";
import { Link, useRoute } from "wouter";
import { AccountMenu } from "@/features/auth/account-menu";

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [active] = useRoute(href);
  return (
    <Link href={href} className="nav__link" aria-current={active ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function Layout({ children, forSupport, label }: { children: ReactNode; forSupport: boolean; label: string }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar__inner">
          <Link href="/" className="brand">
            <span className="brand__mark" aria-hidden="true">
              H
            </span>
            Helpdesk<span className="brand__sub">support center</span>
          </Link>
          <nav aria-label="Main" className="nav">
            {forSupport ? <NavLink href="/queue">Queue</NavLink> : null}
            <NavLink href="/tickets">{forSupport ? "All tickets" : "Tickets"}</NavLink>
            {forSupport ? null : <NavLink href="/tickets/new">New ticket</NavLink>}
          </nav>
          <AccountMenu fallbackLabel={label} />
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
