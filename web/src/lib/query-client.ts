import { QueryClient } from "@tanstack/react-query";
import { ApiError } from "./api-client";

/** The one cache of server state. A 4xx is an answer, not a glitch: only network errors and 5xx are retried. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status < 500),
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}
