import { useEffect, useId, useRef, useState } from "react";
import { Alert } from "@/components/ui";
import { describeError } from "@/lib/api-client";
import { session } from "@/lib/auth/session";
import { isSupport, useMe, useSetNotifications } from "@/lib/me";

/** The account menu: who you are, the email-notification setting (PATCH /v1/me), sign out. */
export function AccountMenu({ fallbackLabel }: { fallbackLabel: string }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [optimistic, setOptimistic] = useState<boolean | null>(null);
  const me = useMe();
  const setNotifications = useSetNotifications();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    function onKey(event: KeyboardEvent) {
      if (event.key === "Escape") {
        setOpen(false);
        button.current?.focus();
      }
    }
    function onClick(event: MouseEvent) {
      if (root.current && !root.current.contains(event.target as Node)) setOpen(false);
    }
    document.addEventListener("keydown", onKey);
    document.addEventListener("mousedown", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("mousedown", onClick);
    };
  }, [open]);

  const member = me.data;
  const label = member?.email ?? fallbackLabel;
  return (
    <div className="account" ref={root}>
      <button
        ref={button}
        type="button"
        className="account__button"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        onClick={() => setOpen(!open)}
      >
        <span className="account__avatar" aria-hidden="true">
          {label.charAt(0).toUpperCase()}
        </span>
        <span className="account__label">{label}</span>
        <span className="visually-hidden"> — account menu</span>
      </button>
      {open ? (
        <div id={`${id}-panel`} className="account__panel" role="region" aria-label="Account">
          <p className="account__who">
            <strong>{label}</strong>
            <br />
            {member ? (isSupport(member) ? "Support team" : `Organisation ${member.org_id}`) : null}
          </p>
          {member ? (
            <div className="field field--check">
              <input
                id={`${id}-notify`}
                type="checkbox"
                role="switch"
                checked={optimistic ?? member.email_notifications ?? true}
                aria-describedby={`${id}-notify-help`}
                onChange={(event) => {
                  // the switch moves at once; back to what the API holds if it refuses
                  const on = event.target.checked;
                  setOptimistic(on);
                  setNotifications.mutate(on, { onSettled: () => setOptimistic(null) });
                }}
              />
              <label htmlFor={`${id}-notify`}>Email notifications</label>
              <p id={`${id}-notify-help`} className="hint">
                Mail when support replies to your organisation's tickets.
              </p>
            </div>
          ) : null}
          {setNotifications.isError ? <Alert title="Not saved">{describeError(setNotifications.error).detail}</Alert> : null}
          <button type="button" className="button button--wide" onClick={() => void session.signOut()}>
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
}
