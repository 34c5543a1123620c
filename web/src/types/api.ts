/**
 * The API's types, from the generated `openapi.gen.ts` (`npm run gen:api` reads ../openapi.json).
 * Nothing here restates a schema: only names for the generated ones, plus fields the API is gaining
 * (optional until openapi.json declares them, so the app works against either version).
 */
import type { components, paths } from "./openapi.gen";

export type { paths };
type Schemas = components["schemas"];

/** Fields arriving in parallel on main; `Partial` so their absence type-checks and renders nothing. */
interface ResponseTarget {
  /** When support owes the next response (ISO time), null when nothing is owed. */
  response_due_at?: string | null;
  response_breached?: boolean;
}

export type Ticket = Schemas["Ticket"] & ResponseTarget;
export type Conversation = Schemas["Conversation"] & ResponseTarget;
export type Message = Schemas["Message"];
export type Attachment = Schemas["Attachment"];
export type AuthorKind = Schemas["AuthorKind"];
export type Status = Schemas["Status"];
export type Category = Schemas["Category"];
export type Severity = Schemas["Severity"];
export type WaitingOn = Schemas["WaitingOn"];
export type Member = Schemas["Member"];
export type Review = Schemas["Review"];
export type TicketPage = Omit<Schemas["TicketPage"], "items"> & { items: Ticket[] };
export type TicketDraft = Schemas["TicketDraft"];
export type TicketUpdate = Schemas["TicketUpdate"];
export type ReviewRequest = Schemas["ReviewRequest"];
export type UploadGrant = Schemas["UploadGrant"];
export type UploadedAttachments = Schemas["UploadedAttachments"];
export type Problem = Schemas["Problem"];
export type ListQuery = NonNullable<paths["/v1/tickets"]["get"]["parameters"]["query"]>;

/**
 * The review's findings. openapi.json types `result` as a free-form object, so its shape is the
 * review engine's (layers/common/helpdesk/review/engine.py ReviewResult); every field is read
 * defensively (see features/new-ticket/review-result.ts).
 */
export interface ReviewFindings {
  summary?: string;
  suggested_category?: Category;
  category_confidence?: number;
  suggested_severity?: Severity;
  severity_confidence?: number;
  quality?: { score?: number; issues?: { code: string; message: string }[] };
  questions?: string[];
  duplicates?: Duplicate[];
  cluster_context?: Record<string, unknown> | null;
}

export interface Duplicate {
  ticket_id: string;
  subject: string;
  status: string;
  score: number;
  evidence: string[];
}

export const STATUSES: readonly Status[] = [
  "pending_review",
  "open",
  "triaging",
  "in_progress",
  "waiting_customer",
  "resolved",
  "closed",
];
export const CATEGORIES: readonly Category[] = [
  "technical",
  "bug",
  "feature_request",
  "account",
  "billing",
  "general",
  "other",
];
export const SEVERITIES: readonly Severity[] = ["low", "medium", "high", "critical"];
