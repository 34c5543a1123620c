/** The caller (GET /v1/me): who is signed in, their org and roles. Cross-cutting, so it lives here. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { Member } from "@/types/api";
import { api, idempotencyKey, unwrap } from "./api-client";
import { config } from "./config";

export const meKey = ["me"] as const;

export function useMe() {
  return useQuery({ queryKey: meKey, queryFn: () => unwrap(api().GET("/v1/me")), staleTime: 5 * 60_000 });
}

/** Whether the caller is the support team (the role named by config.supportRole). */
export function isSupport(member: Member | undefined): boolean {
  return Boolean(member?.roles?.includes(config().supportRole));
}

export function useIsSupport(): boolean {
  return isSupport(useMe().data);
}

export function useSetNotifications() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (on: boolean) =>
      unwrap(
        api().PATCH("/v1/me", {
          body: { email_notifications: on },
          params: { header: { "Idempotency-Key": idempotencyKey() } },
        }),
      ),
    onSuccess: (member) => queryClient.setQueryData(meKey, member),
  });
}
