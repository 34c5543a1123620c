/** The new-ticket feature's server calls: a review of the draft, filing it, or adding it to a duplicate. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, idempotencyKey, unwrap } from "@/lib/api-client";
import type { Category, ReviewRequest, Severity } from "@/types/api";

export function useRequestReview() {
  return useMutation({
    mutationFn: (draft: ReviewRequest) =>
      unwrap(api().POST("/v1/tickets/review", { body: draft, params: { header: { "Idempotency-Key": idempotencyKey() } } })),
  });
}

/** The review, polled until the reviewer has run. */
export function useReview(reviewId: string | null) {
  return useQuery({
    queryKey: ["reviews", reviewId],
    queryFn: () => unwrap(api().GET("/v1/tickets/reviews/{review_id}", { params: { path: { review_id: reviewId ?? "" } } })),
    enabled: Boolean(reviewId),
    refetchInterval: (query) => (query.state.data?.status === "pending" || !query.state.data ? 500 : false),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export interface Filing {
  reviewId: string | null;
  subject?: string;
  body: string;
  category: Category;
  severity?: Severity;
  answers: Record<string, string>;
  properties: Record<string, string>;
}

export function useFileTicket() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (filing: Filing) => {
      const answers = Object.fromEntries(Object.entries(filing.answers).filter(([, answer]) => answer.trim()));
      const body = filing.reviewId
        ? {
            review_id: filing.reviewId,
            category: filing.category,
            ...(filing.severity ? { severity: filing.severity } : {}),
            ...(Object.keys(answers).length ? { answers } : {}),
            source: "portal" as const,
          }
        : {
            body: filing.body,
            category: filing.category,
            ...(filing.subject ? { subject: filing.subject } : {}),
            ...(filing.severity ? { severity: filing.severity } : {}),
            ...(Object.keys(filing.properties).length ? { properties: filing.properties } : {}),
            source: "portal" as const,
          };
      return unwrap(api().POST("/v1/tickets", { body, params: { header: { "Idempotency-Key": idempotencyKey() } } }));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["tickets"] }),
  });
}

export function useAddToTicket() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ ticketId, body }: { ticketId: string; body: string }) =>
      unwrap(
        api().POST("/v1/tickets/{ticket_id}/messages", {
          params: { path: { ticket_id: ticketId }, header: { "Idempotency-Key": idempotencyKey() } },
          body: { body },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["tickets"] }),
  });
}
