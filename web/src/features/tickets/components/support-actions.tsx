import { type SyntheticEvent, useId, useState } from "react";
import { Alert } from "@/components/ui";
import { describeError } from "@/lib/api-client";
import { severityLabel, statusLabel } from "@/lib/format";
import { SEVERITIES, type Conversation, type Severity, type Status, type TicketUpdate } from "@/types/api";
import { useUpdateTicket } from "../api";

/** What support may set (openapi.json's TicketUpdate); the rest the system sets (a support reply: waiting on the customer). */
type Settable = NonNullable<TicketUpdate["status"]>;
const SETTABLE: readonly Settable[] = ["triaging", "in_progress", "resolved"];
const settable = (status: Status): status is Settable => (SETTABLE as readonly Status[]).includes(status);

/** Support: status, assignee and severity of a ticket (PATCH with If-Match on the version shown). */
export function SupportActions({ ticket }: { ticket: Conversation }) {
  const id = useId();
  const update = useUpdateTicket(ticket.id);
  const [status, setStatus] = useState<Status>(ticket.status);
  const [severity, setSeverity] = useState<Severity>(ticket.severity);
  const [assignee, setAssignee] = useState(ticket.assignee ?? "");
  const [saved, setSaved] = useState(false);
  // a newer version of the ticket (someone's change, or ours): the fields show it
  const [shown, setShown] = useState(ticket.version);
  if (shown !== ticket.version) {
    setShown(ticket.version);
    setStatus(ticket.status);
    setSeverity(ticket.severity);
    setAssignee(ticket.assignee ?? "");
  }

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    const changes: TicketUpdate = {};
    if (status !== ticket.status && settable(status)) changes.status = status;
    if (severity !== ticket.severity) changes.severity = severity;
    if (assignee.trim() && assignee.trim() !== (ticket.assignee ?? "")) changes.assignee = assignee.trim();
    if (!Object.keys(changes).length) return;
    setSaved(false);
    update.mutate({ changes, version: ticket.version }, { onSuccess: () => setSaved(true) });
  }

  const statuses: readonly Status[] = settable(ticket.status) ? SETTABLE : [ticket.status, ...SETTABLE];
  const stale = update.error && "status" in update.error && update.error.status === 412;

  return (
    <form className="panel support-actions" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="panel__title">
        Support actions
      </h2>
      <div className="field">
        <label htmlFor={`${id}-status`}>Status</label>
        <select id={`${id}-status`} value={status} onChange={(event) => setStatus(event.target.value as Status)}>
          {statuses.map((value) => (
            <option key={value} value={value} disabled={!settable(value)}>
              {statusLabel(value, true)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-severity`}>Severity</label>
        <select id={`${id}-severity`} value={severity} onChange={(event) => setSeverity(event.target.value as Severity)}>
          {SEVERITIES.map((value) => (
            <option key={value} value={value}>
              {severityLabel(value)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-assignee`}>Assignee</label>
        <input
          id={`${id}-assignee`}
          type="email"
          value={assignee}
          onChange={(event) => setAssignee(event.target.value)}
          placeholder="agent@example.com"
          autoComplete="off"
          maxLength={254}
        />
      </div>
      <button type="submit" className="button button--primary" disabled={update.isPending}>
        {update.isPending ? "Saving…" : "Save changes"}
      </button>
      {saved && !update.isPending ? <Alert tone="success" title="Ticket updated." /> : null}
      {update.isError ? (
        <Alert title={stale ? "Someone changed this ticket meanwhile" : `Not saved: ${describeError(update.error).title}`}>
          {stale ? "The ticket has been reloaded: check it and save again." : describeError(update.error).detail}
        </Alert>
      ) : null}
    </form>
  );
}
