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
