/** The tickets feature's server state: list pages, one conversation, and the writes on a ticket. */
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { ApiError, api, apiFetch, authHeaders, errorFrom, idempotencyKey, unwrap } from "@/lib/api-client";
import { config } from "@/lib/config";
import { sendWithProgress, presignedForm, type UploadProgress } from "@/lib/upload";
import type {
  Attachment,
  Conversation,
  ListQuery,
  TicketPage,
  TicketUpdate,
  UploadGrant,
  UploadedAttachments,
} from "@/types/api";
import { type Filters, toQuery } from "./filters";

export const ticketKeys = {
  all: ["tickets"] as const,
  list: (filters: Filters) => ["tickets", "list", filters] as const,
  detail: (id: string) => ["tickets", "detail", id] as const,
};

async function fetchPage(query: ListQuery): Promise<TicketPage> {
  return unwrap(api().GET("/v1/tickets", { params: { query } }));
}

export function useTicketPages(filters: Filters) {
  return useInfiniteQuery({
    queryKey: ticketKeys.list(filters),
    queryFn: ({ pageParam }) => fetchPage({ ...toQuery(filters), ...(pageParam ? { cursor: pageParam } : {}) }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

/** GET /v1/tickets/{id}, conditional on the ETag it last gave (304: what we hold is current). */
const etags = new Map<string, { etag: string; body: Conversation }>();

/** Support's ETag covers internal notes as well, so a 304 never hides one from the team. */
export async function fetchConversation(id: string): Promise<Conversation> {
  const known = etags.get(id);
  const response = await apiFetch(`/v1/tickets/${encodeURIComponent(id)}`, {
    headers: known ? { "If-None-Match": known.etag } : {},
    cache: "no-store",
  });
  if (response.status === 304 && known) return known.body;
  if (!response.ok) throw await errorFrom(response);
  const body = (await response.json()) as Conversation;
  const etag = response.headers.get("ETag");
  if (etag) etags.set(id, { etag, body });
  return body;
}

export function hasPendingAttachments(ticket: Conversation | undefined): boolean {
  const all = [...(ticket?.attachments ?? []), ...(ticket?.messages ?? []).flatMap((m) => m.attachments ?? [])];
  return all.some((attachment) => attachment.status === "pending_upload");
}

export function useConversation(id: string) {
  return useQuery({
    queryKey: ticketKeys.detail(id),
    queryFn: () => fetchConversation(id),
    // poll: fast while an upload is being checked, slowly otherwise (a 304 costs next to nothing)
    refetchInterval: (query) => (hasPendingAttachments(query.state.data) ? 1000 : 15_000),
  });
}

function refresh(queryClient: QueryClient, id: string): Promise<void> {
  etags.delete(id); // after our own write, the whole ticket again
  return Promise.all([
    queryClient.invalidateQueries({ queryKey: ticketKeys.detail(id) }),
    queryClient.invalidateQueries({ queryKey: ["tickets", "list"] }),
  ]).then(() => undefined);
}

export function useCloseTicket(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () =>
      unwrap(
        api().POST("/v1/tickets/{ticket_id}/close", {
          params: { path: { ticket_id: id }, header: { "Idempotency-Key": idempotencyKey() } },
        }),
      ),
    onSettled: () => refresh(queryClient, id),
  });
}

export function useUpdateTicket(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ changes, version }: { changes: TicketUpdate; version: number }) =>
      unwrap(
        api().PATCH("/v1/tickets/{ticket_id}", {
          body: changes,
          params: {
            path: { ticket_id: id },
            header: { "Idempotency-Key": idempotencyKey(), "If-Match": `"${version}"` },
          },
        }),
      ),
    onSettled: () => refresh(queryClient, id),
  });
}

// ------------------------------------------------------------------------------ replies and files

export interface OutgoingFile {
  file: File;
  contentType: string;
}

export type FileProgress = (name: string, progress: UploadProgress | "done" | { error: string }) => void;

async function postMultipart(
  path: string,
  payload: unknown,
  files: OutgoingFile[],
  onProgress: (progress: UploadProgress) => void,
): Promise<unknown> {
  const form = new FormData();
  if (payload !== undefined) form.append("payload", JSON.stringify(payload));
  for (const { file, contentType } of files) form.append("attachments", new Blob([file], { type: contentType }), file.name);
  const result = await sendWithProgress(`${config().apiUrl}${path}`, form, {
    headers: { ...(await authHeaders()), "Idempotency-Key": idempotencyKey() },
    onProgress,
  });
  let body: unknown = null;
  try {
    body = result.body ? JSON.parse(result.body) : null;
  } catch {
    /* not JSON */
  }
  if (result.status < 200 || result.status >= 300) {
    const problem = body && typeof body === "object" ? (body as Record<string, string>) : null;
    throw new ApiError(result.status, problem && "message" in problem ? { detail: problem.message } : problem);
  }
  return body;
}

/** A large file: ask for a presigned POST, then send it straight to S3 with progress. */
async function uploadPresigned(ticketId: string, { file, contentType }: OutgoingFile, onProgress: (p: UploadProgress) => void) {
  const grant = (await unwrap(
    api().POST("/v1/tickets/{ticket_id}/attachments", {
      params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": idempotencyKey() } },
      body: { filename: file.name, content_type: contentType, size: file.size },
    }),
  )) as UploadGrant;
  const result = await sendWithProgress(grant.upload_url, presignedForm(grant.fields, file, file.name), { onProgress });
  if (result.status < 200 || result.status >= 300) {
    const reason = /<Message>([^<]*)<\/Message>/.exec(result.body)?.[1];
    throw new ApiError(result.status, { title: "Upload refused", detail: reason ?? `The storage answered HTTP ${result.status}.` });
  }
  return grant.attachment_id;
}

export async function sendReply(
  ticketId: string,
  { body, internal, files }: { body: string; internal: boolean; files: OutgoingFile[] },
  onProgress: FileProgress,
): Promise<{ attachments: Attachment[] }> {
  const inline = files.filter((f) => f.file.size <= 4 * 1024 * 1024);
  const large = files.filter((f) => f.file.size > 4 * 1024 * 1024);
  let inlineTotal = 0;
  const batch: OutgoingFile[] = [];
  const overflow: OutgoingFile[] = [];
  for (const item of inline) {
    // one multipart request stays under API Gateway's limit; the rest go the presigned way
    if (inlineTotal + item.file.size <= 5 * 1024 * 1024) {
      batch.push(item);
      inlineTotal += item.file.size;
    } else overflow.push(item);
  }
  const progressAll = (progress: UploadProgress) => {
    for (const item of batch) onProgress(item.file.name, progress);
  };
  const path = `/v1/tickets/${encodeURIComponent(ticketId)}`;
  const attachments: Attachment[] = [];
  if (body.trim()) {
    const payload = internal ? { body, internal: true } : { body };
    if (batch.length) {
      const message = (await postMultipart(`${path}/messages`, payload, batch, progressAll)) as { attachments?: Attachment[] };
      attachments.push(...(message.attachments ?? []));
    } else {
      await unwrap(
        api().POST("/v1/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: payload,
        }),
      );
    }
  } else if (batch.length) {
    const stored = (await postMultipart(`${path}/attachments`, undefined, batch, progressAll)) as UploadedAttachments;
    attachments.push(...stored.attachments);
  }
  for (const item of batch) onProgress(item.file.name, "done");
  for (const item of [...overflow, ...large]) {
    try {
      await uploadPresigned(ticketId, item, (progress) => onProgress(item.file.name, progress));
      onProgress(item.file.name, "done");
    } catch (error) {
      onProgress(item.file.name, { error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }
  return { attachments };
}

export function useReply(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ body, internal, files, onProgress }: Parameters<typeof sendReply>[1] & { onProgress: FileProgress }) =>
      sendReply(id, { body, internal, files }, onProgress),
    onSettled: () => refresh(queryClient, id),
  });
}

/** Downloads: the API answers 302 to a short-lived URL; the file is fetched and saved under its name. */
export async function downloadAttachment(ticketId: string, attachment: Attachment): Promise<void> {
  const response = await apiFetch(
    `/v1/tickets/${encodeURIComponent(ticketId)}/attachments/${encodeURIComponent(attachment.id)}`,
  );
  if (!response.ok) throw await errorFrom(response);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = attachment.filename;
  link.rel = "noopener";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
