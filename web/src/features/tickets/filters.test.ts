import type { Ticket, TicketPage } from "@/types/api";
import { orderByResponseTarget } from "./api";
import { formatFilters, isFiltered, parseFilters, toQuery } from "./filters";

describe("filters in the URL", () => {
  it("round-trips every filter", () => {
    const search = "?status=open&status=in_progress&category=bug&severity=high&cluster_id=prod-eu&q=pods+pending&org_id=acme&sort=response_due&breached=true";
    const filters = parseFilters(search);
    expect(filters).toEqual({
      status: ["open", "in_progress"],
      category: "bug",
      severity: "high",
      cluster_id: "prod-eu",
      q: "pods pending",
      org_id: "acme",
      sort: "response_due",
      breached: true,
    });
    expect(parseFilters(formatFilters(filters))).toEqual(filters);
  });

  it("ignores values the API would refuse", () => {
    expect(parseFilters("?status=bogus&category=nope&severity=&q=%20%20")).toEqual({ status: [] });
    expect(isFiltered(parseFilters(""))).toBe(false);
  });

  it("asks the API for a page of 25 with the filters as query parameters", () => {
    expect(toQuery(parseFilters("?status=open&q=x"))).toEqual({ limit: 25, status: ["open"], q: "x" });
  });
});

describe("the queue's order while the API cannot sort", () => {
  const ticket = (id: string, due: string | null, breached = false) =>
    ({ id, response_due_at: due, response_breached: breached }) as unknown as Ticket;
  const page: TicketPage = {
    next_cursor: null,
    items: [ticket("later", "2026-12-06T18:00:00Z"), ticket("none", null), ticket("late", "2026-12-06T09:00:00Z", true), ticket("soon", "2026-12-06T13:00:00Z")],
  };

  it("puts breached tickets first, then the earliest target, then those with none", () => {
    expect(orderByResponseTarget(page, { sort: "response_due" }).items.map((t) => t.id)).toEqual(["late", "soon", "later", "none"]);
  });

  it("keeps only breached tickets when asked", () => {
    expect(orderByResponseTarget(page, { breached: true }).items.map((t) => t.id)).toEqual(["late"]);
  });
});
