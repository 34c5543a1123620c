import { type SyntheticEvent, useId, useState } from "react";
import { categoryLabel, severityLabel, statusLabel } from "@/lib/format";
import { CATEGORIES, SEVERITIES, STATUSES, type Category, type Severity, type Status } from "@/types/api";
import { type Filters, isFiltered } from "../filters";

/** Search and filters. Applied on submit (and at once for the selects), so typing does not refetch per key. */
export function FiltersForm({
  filters,
  onChange,
  forSupport,
}: {
  filters: Filters;
  onChange: (next: Filters) => void;
  forSupport: boolean;
}) {
  const id = useId();
  const [q, setQ] = useState(filters.q ?? "");
  const [cluster, setCluster] = useState(filters.cluster_id ?? "");
  const [org, setOrg] = useState(filters.org_id ?? "");
  // on a phone the filters start folded (unless some are set), so the tickets come first
  const [open, setOpen] = useState(
    () => isFiltered(filters) || typeof window.matchMedia !== "function" || !window.matchMedia("(max-width: 40rem)").matches,
  );

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    const { q: _q, cluster_id: _cluster, org_id: _org, ...rest } = filters;
    const next: Filters = { ...rest };
    if (q.trim()) next.q = q.trim();
    if (cluster.trim()) next.cluster_id = cluster.trim();
    if (org.trim()) next.org_id = org.trim();
    onChange(next);
  }

  function set<K extends keyof Filters>(name: K, value: Filters[K] | undefined) {
    const next: Filters = { ...filters, [name]: value };
    if (value === undefined || value === "" || value === false) {
      onChange(Object.fromEntries(Object.entries(next).filter(([key]) => key !== name)) as unknown as Filters);
    } else onChange(next);
  }

  const status = filters.status.length === 1 ? filters.status[0] : filters.status.length ? "many" : "";

  return (
    <form className="filters" role="search" aria-label="Search and filter tickets" onSubmit={submit}>
      <div className="filters__search">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          type="search"
          value={q}
          onChange={(event) => setQ(event.target.value)}
          placeholder="Words in the subject, messages or summary"
          maxLength={200}
        />
        <button type="submit" className="button button--primary">
          Search
        </button>
      </div>
      <details
        className="filters__more"
        open={open}
        onToggle={(event) => setOpen((event.target as HTMLDetailsElement).open)}
      >
        <summary>Filters</summary>
      <div className="filters__row">
        <div className="field">
          <label htmlFor={`${id}-status`}>Status</label>
          <select
            id={`${id}-status`}
            value={status}
            onChange={(event) => {
              const value = event.target.value;
              if (value !== "many") onChange({ ...filters, status: value ? [value as Status] : [] });
            }}
          >
            <option value="">Any status</option>
            {status === "many" ? <option value="many">{filters.status.map((s) => statusLabel(s, forSupport)).join(", ")}</option> : null}
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {statusLabel(value, forSupport)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-category`}>Category</label>
          <select
            id={`${id}-category`}
            value={filters.category ?? ""}
            onChange={(event) => set("category", (event.target.value || undefined) as Category | undefined)}
          >
            <option value="">Any category</option>
            {CATEGORIES.map((value) => (
              <option key={value} value={value}>
                {categoryLabel(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-severity`}>Severity</label>
          <select
            id={`${id}-severity`}
            value={filters.severity ?? ""}
            onChange={(event) => set("severity", (event.target.value || undefined) as Severity | undefined)}
          >
            <option value="">Any severity</option>
            {SEVERITIES.map((value) => (
              <option key={value} value={value}>
                {severityLabel(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-cluster`}>Cluster ID</label>
          <input
            id={`${id}-cluster`}
            value={cluster}
            onChange={(event) => setCluster(event.target.value)}
            onBlur={(event) => {
              if (event.target.value.trim() !== (filters.cluster_id ?? "")) submit(event);
            }}
            maxLength={128}
            autoComplete="off"
          />
        </div>
        {forSupport ? (
          <>
            <div className="field">
              <label htmlFor={`${id}-org`}>Organisation</label>
              <input
                id={`${id}-org`}
                value={org}
                onChange={(event) => setOrg(event.target.value)}
                onBlur={(event) => {
                  if (event.target.value.trim() !== (filters.org_id ?? "")) submit(event);
                }}
                maxLength={128}
                autoComplete="off"
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-sort`}>Order</label>
              <select
                id={`${id}-sort`}
                value={filters.sort ?? ""}
                onChange={(event) => set("sort", event.target.value === "response_due" ? "response_due" : undefined)}
              >
                <option value="response_due">Most urgent first</option>
                <option value="">Newest first</option>
              </select>
            </div>
            <div className="field field--check">
              <input
                id={`${id}-breached`}
                type="checkbox"
                checked={Boolean(filters.breached)}
                onChange={(event) => set("breached", event.target.checked || undefined)}
              />
              <label htmlFor={`${id}-breached`}>Breached only</label>
            </div>
          </>
        ) : null}
        {isFiltered(filters) ? (
          <button
            type="button"
            className="button button--link"
            onClick={() => {
              setQ("");
              setCluster("");
              setOrg("");
              onChange({ status: [], ...(filters.sort ? { sort: filters.sort } : {}) });
            }}
          >
            Clear filters
          </button>
        ) : null}
      </div>
      </details>
    </form>
  );
}
