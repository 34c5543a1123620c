/** The list's filters, kept in the URL's query string (shareable, back/forward work). */
import { CATEGORIES, SEVERITIES, STATUSES, type Category, type ListQuery, type Severity, type Status } from "@/types/api";

export interface Filters {
  status: Status[];
  category?: Category;
  severity?: Severity;
  cluster_id?: string;
  q?: string;
  org_id?: string;
  sort?: "response_due";
  breached?: boolean;
}

export const PAGE_SIZE = 25;

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return value !== null && (values as readonly string[]).includes(value) ? (value as T) : undefined;
}

function text(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, 200) : undefined;
}

export function parseFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  const status = params
    .getAll("status")
    .flatMap((value) => value.split(","))
    .map((value) => oneOf(STATUSES, value))
    .filter((value): value is Status => value !== undefined);
  const filters: Filters = { status: [...new Set(status)] };
  const category = oneOf(CATEGORIES, params.get("category"));
  const severity = oneOf(SEVERITIES, params.get("severity"));
  const cluster = text(params.get("cluster_id"));
  const q = text(params.get("q"));
  const org = text(params.get("org_id"));
  if (category) filters.category = category;
  if (severity) filters.severity = severity;
  if (cluster) filters.cluster_id = cluster;
  if (q) filters.q = q;
  if (org) filters.org_id = org;
  if (params.get("sort") === "response_due") filters.sort = "response_due";
  if (params.get("breached") === "true") filters.breached = true;
  return filters;
}

export function formatFilters(filters: Filters): string {
  const params = new URLSearchParams();
  for (const status of filters.status) params.append("status", status);
  for (const name of ["category", "severity", "cluster_id", "q", "org_id", "sort"] as const) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  if (filters.breached) params.set("breached", "true");
  const text = params.toString();
  return text ? `?${text}` : "";
}

export function toQuery(filters: Filters): ListQuery {
  const query: ListQuery = { limit: PAGE_SIZE };
  if (filters.status.length) query.status = filters.status;
  if (filters.category) query.category = filters.category;
  if (filters.severity) query.severity = filters.severity;
  if (filters.cluster_id) query.cluster_id = filters.cluster_id;
  if (filters.q) query.q = filters.q;
  if (filters.org_id) query.org_id = filters.org_id;
  if (filters.sort) query.sort = filters.sort;
  if (filters.breached) query.breached = "true";
  return query;
}

export function isFiltered(filters: Filters): boolean {
  return Boolean(
    filters.status.length ||
      filters.category ||
      filters.severity ||
      filters.cluster_id ||
      filters.q ||
      filters.org_id ||
      filters.breached,
  );
}
