import { useSyncExternalStore } from "react";
import { session } from "@/lib/auth/session";

export function useSession() {
  return useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.snapshot(),
  );
}
