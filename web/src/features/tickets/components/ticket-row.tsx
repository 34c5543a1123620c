import { Link } from "wouter";
import { CategoryTag, SeverityBadge, StatusBadge } from "@/components/badges";
import { Badge } from "@/components/ui";
import { formatDateTime, formatRelative, responseDue, waitingOnLabel } from "@/lib/format";
import type { Ticket } from "@/types/api";

export function TicketRow({ ticket, forSupport }: { ticket: Ticket; forSupport: boolean }) {
  const due = responseDue(ticket);
  const cluster = ticket.properties?.cluster_name ?? ticket.properties?.cluster_id;
  return (
    <li className={`ticket-row${due.state === "breached" ? " ticket-row--breached" : ""}`}>
      <div className="ticket-row__main">
        <h2 className="ticket-row__subject">
          <Link href={`/tickets/${ticket.id}`}>{ticket.subject}</Link>
        </h2>
        <p className="ticket-row__summary">{ticket.summary}</p>
        <p className="ticket-row__meta">
          <span>#{ticket.id.slice(-8).toLowerCase()}</span>
          {forSupport ? <span>Org {ticket.org_id}</span> : null}
          <CategoryTag category={ticket.category} />
          {cluster ? (
            <span>
              <span className="visually-hidden">Cluster: </span>
              <span aria-hidden="true">⎈ </span>
              {cluster}
            </span>
          ) : null}
          <span title={formatDateTime(ticket.last_activity_at)}>Updated {formatRelative(ticket.last_activity_at)}</span>
        </p>
      </div>
      <div className="ticket-row__side">
        <StatusBadge status={ticket.status} forSupport={forSupport} />
        <SeverityBadge severity={ticket.severity} />
        {ticket.status !== "waiting_customer" ? (
          <span className={`waiting waiting--${ticket.waiting_on ?? "none"}`}>{waitingOnLabel(ticket.waiting_on, forSupport)}</span>
        ) : null}
        {due.state !== "none" ? (
          due.state === "breached" ? (
            <Badge tone="breached">{due.text}</Badge>
          ) : (
            <span className={`due due--${due.state}`}>{due.text}</span>
          )
        ) : null}
      </div>
    </li>
  );
}
