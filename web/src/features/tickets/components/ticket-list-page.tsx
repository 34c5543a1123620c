import { useEffect, useRef } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { Alert, EmptyState, Spinner } from "@/components/ui";
import { describeError } from "@/lib/api-client";
import { useTicketPages } from "../api";
import { type Filters, formatFilters, isFiltered, parseFilters } from "../filters";
import { FiltersForm } from "./filters-form";
import { TicketRow } from "./ticket-row";

/** The customer's ticket list, and (forSupport) the support team's cross-org queue. */
export function TicketListPage({ forSupport }: { forSupport: boolean }) {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const parsed = parseFilters(search);
  // the queue is ordered by response target unless asked otherwise (`sort=` in the URL means newest first)
  const filters: Filters =
    forSupport && !new URLSearchParams(search).has("sort") ? { ...parsed, sort: "response_due" } : parsed;
  const pages = useTicketPages(filters);
  const heading = useRef<HTMLHeadingElement>(null);
  const title = forSupport ? "Support queue" : "Your tickets";

  useEffect(() => {
    document.title = `${title} · Helpdesk`;
    heading.current?.focus({ preventScroll: true }); // a new page: screen readers start at its title
  }, [title]);

  function apply(next: Filters) {
    const query = formatFilters(next);
    const withOrder = forSupport && !next.sort ? `${query ? `${query}&` : "?"}sort=` : query;
    navigate(`${location}${withOrder}`);
  }

  const items = pages.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = isFiltered(filters);

  return (
    <section aria-labelledby="list-title" className="page">
      <div className="page__header">
        <h1 id="list-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {forSupport ? null : (
          <Link href="/tickets/new" className="button button--primary">
            New ticket
          </Link>
        )}
      </div>
      <FiltersForm key={search} filters={filters} onChange={apply} forSupport={forSupport} />
      {pages.isPending ? (
        <Spinner label="Loading tickets…" />
      ) : pages.isError && !pages.data ? (
        <Alert
          title={`Could not load the tickets: ${describeError(pages.error).title}`}
          action={
            <button type="button" className="button" onClick={() => void pages.refetch()}>
              Try again
            </button>
          }
        >
          {describeError(pages.error).detail}
        </Alert>
      ) : items.length === 0 ? (
        filtered ? (
          <EmptyState title="No ticket matches these filters.">
            <p>Try other words, or clear the filters.</p>
          </EmptyState>
        ) : (
          <EmptyState title={forSupport ? "The queue is empty." : "You have no tickets yet."}>
            {forSupport ? null : (
              <p>
                Something not working? <Link href="/tickets/new">File a ticket</Link> and our AI review helps you describe it.
              </p>
            )}
          </EmptyState>
        )
      ) : (
        <>
          <p className="visually-hidden" role="status">
            {items.length} tickets shown{pages.hasNextPage ? ", more available" : ""}
          </p>
          <ul className="ticket-list" aria-label={title}>
            {items.map((ticket) => (
              <TicketRow key={ticket.id} ticket={ticket} forSupport={forSupport} />
            ))}
          </ul>
          {pages.hasNextPage ? (
            <button
              type="button"
              className="button load-more"
              onClick={() => void pages.fetchNextPage()}
              disabled={pages.isFetchingNextPage}
            >
              {pages.isFetchingNextPage ? "Loading more…" : "Load more tickets"}
            </button>
          ) : null}
          {pages.isFetchNextPageError ? (
            <Alert title="Could not load more tickets.">Try the button again in a moment.</Alert>
          ) : null}
        </>
      )}
    </section>
  );
}
