/** How values are shown: labels, sizes, times. Pure functions (unit tested). */
import type { AuthorKind, Category, Severity, Status, WaitingOn } from "@/types/api";

const STATUS_LABELS: Record<Status, string> = {
  pending_review: "In review",
  open: "Open",
  triaging: "Triaging",
  in_progress: "In progress",
  waiting_customer: "Waiting for you",
  resolved: "Resolved",
  closed: "Closed",
};

const CATEGORY_LABELS: Record<Category, string> = {
  technical: "Technical",
  bug: "Bug",
  feature_request: "Feature request",
  account: "Account",
  billing: "Billing",
  general: "General",
  other: "Other",
};

export function statusLabel(status: Status, forSupport = false): string {
  if (forSupport && status === "waiting_customer") return "Waiting on customer";
  return STATUS_LABELS[status];
}

export function categoryLabel(category: Category): string {
  return CATEGORY_LABELS[category];
}

export function severityLabel(severity: Severity): string {
  return severity.charAt(0).toUpperCase() + severity.slice(1);
}

export function waitingOnLabel(waitingOn: WaitingOn | null | undefined, forSupport = false): string {
  if (waitingOn === "us") return forSupport ? "Waiting on support" : "Waiting on support";
  if (waitingOn === "user") return forSupport ? "Waiting on customer" : "Waiting on you";
  return "Nobody owes a reply";
}

export function authorLabel(kind: AuthorKind): string {
  return { user: "Customer", support: "Support", ai: "AI review", system: "System" }[kind];
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit] ?? "GB"}`;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
  ["week", 4.345],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

/** "3 minutes ago", "in 2 hours". */
export function formatRelative(iso: string, now: number = Date.now()): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return "";
  let value = (time - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return "";
}

const absolute = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export function formatDateTime(iso: string): string {
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : absolute.format(time);
}

export type DueState = "none" | "due" | "soon" | "breached";

/** Where a ticket stands against its response target. */
export function responseDue(
  ticket: { response_due_at?: string | null; response_breached?: boolean; waiting_on?: WaitingOn | null },
  now: number = Date.now(),
): { state: DueState; text: string } {
  const due = ticket.response_due_at ? Date.parse(ticket.response_due_at) : Number.NaN;
  if (ticket.response_breached) {
    return {
      state: "breached",
      text: Number.isNaN(due) ? "Response overdue" : `Response overdue since ${formatRelative(ticket.response_due_at ?? "", now).replace(/ ago$/, "")}`,
    };
  }
  if (Number.isNaN(due) || ticket.waiting_on !== "us") return { state: "none", text: "" };
  if (due <= now) return { state: "breached", text: "Response overdue" };
  const soon = due - now < 60 * 60 * 1000;
  return { state: soon ? "soon" : "due", text: `Support responds ${formatRelative(ticket.response_due_at ?? "", now)}` };
}
