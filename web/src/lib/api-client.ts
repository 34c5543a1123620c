/**
 * The one way to the API: openapi-fetch typed by the generated `paths`, the bearer token added to
 * every request, problem+json turned into ApiError, a 401 ending the session.
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { paths, Problem } from "@/types/api";
import { session } from "./auth/session";
import { config } from "./config";

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly fieldErrors: Record<string, string>[];

  constructor(status: number, problem: Partial<Problem> | null, fallback = "The request failed.") {
    const title = problem?.title ?? httpTitle(status);
    const detail = problem?.detail ?? fallback;
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.fieldErrors = problem?.errors ?? [];
  }
}

function httpTitle(status: number): string {
  const titles: Record<number, string> = {
    400: "Bad request",
    401: "Signed out",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    412: "Changed meanwhile",
    413: "Too large",
    415: "File type not allowed",
    422: "Invalid input",
    429: "Too many requests",
  };
  return titles[status] ?? (status >= 500 ? "The service had a problem" : `HTTP ${status}`);
}

/** An ApiError from a response that failed, reading its problem+json body if it has one. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let problem: Partial<Problem> | null = null;
  try {
    const body: unknown = await response.clone().json();
    if (body && typeof body === "object") {
      const value = body as Record<string, unknown>;
      // API Gateway's own errors are {"message": "..."}
      problem = typeof value.message === "string" && !("detail" in value) ? { detail: value.message } : value;
    }
  } catch {
    /* no JSON body */
  }
  return new ApiError(response.status, problem);
}

export function describeError(error: unknown): { title: string; detail: string } {
  if (error instanceof ApiError) {
    const fields = error.fieldErrors
      .map((field) => Object.values(field).join(": "))
      .filter(Boolean)
      .join("; ");
    return { title: error.title, detail: fields ? `${error.detail} (${fields})` : error.detail };
  }
  if (error instanceof TypeError) {
    return { title: "Cannot reach the service", detail: "Check your connection and try again." };
  }
  return { title: "Something went wrong", detail: error instanceof Error ? error.message : String(error) };
}

export async function authHeaders(): Promise<Record<string, string>> {
  const token = await session.token();
  if (!token) throw new ApiError(401, { detail: "Your session has ended. Sign in again." });
  return { Authorization: `Bearer ${token}` };
}

const auth: Middleware = {
  async onRequest({ request }) {
    const headers = await authHeaders();
    for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) session.expire();
    return response;
  },
};

let client: ReturnType<typeof createClient<paths>> | null = null;

export function api(): ReturnType<typeof createClient<paths>> {
  if (!client) {
    client = createClient<paths>({ baseUrl: config().apiUrl });
    client.use(auth);
  }
  return client;
}

/** The data of an openapi-fetch result, or its error thrown as ApiError. */
export async function unwrap<T>(result: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await result;
  if (error !== undefined || !response.ok) throw await errorFrom(response);
  return data as T;
}

/** A raw fetch to the API with the token (multipart bodies, conditional GETs). */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(await authHeaders())) headers.set(name, value);
  const response = await fetch(`${config().apiUrl}${path}`, { ...init, headers });
  if (response.status === 401) session.expire();
  return response;
}

export function idempotencyKey(): string {
  return crypto.randomUUID();
}
