import { useEffect, useRef, useState } from "react";
import { Link } from "wouter";
import { CategoryTag, SeverityBadge, StatusBadge } from "@/components/badges";
import { Alert, Badge, ConfirmDialog, Spinner } from "@/components/ui";
import { ApiError, describeError } from "@/lib/api-client";
import { formatDateTime, formatRelative, responseDue, waitingOnLabel } from "@/lib/format";
import { useMe } from "@/lib/me";
import type { Conversation } from "@/types/api";
import { useCloseTicket, useConversation } from "../api";
import { AttachmentList } from "./attachments";
import { MessageItem } from "./message-item";
import { ReplyBox } from "./reply-box";
import { SupportActions } from "./support-actions";

export function ConversationPage({ id, forSupport }: { id: string; forSupport: boolean }) {
  const conversation = useConversation(id);
  const heading = useRef<HTMLHeadingElement>(null);
  const ticket = conversation.data;

  useEffect(() => {
    if (ticket) document.title = `${ticket.subject} · Helpdesk`;
  }, [ticket]);
  useEffect(() => {
    heading.current?.focus();
  }, [id, Boolean(ticket)]); // eslint-disable-line react-hooks/exhaustive-deps

  if (conversation.isPending) return <Spinner label="Loading the conversation…" />;
  if (conversation.isError) {
    const missing = conversation.error instanceof ApiError && conversation.error.status === 404;
    return (
      <section className="page">
        <h1 ref={heading} tabIndex={-1}>
          {missing ? "Ticket not found" : "Could not load the ticket"}
        </h1>
        <Alert title={missing ? "There is no such ticket, or it is not yours to see." : describeError(conversation.error).title}>
          {missing ? null : describeError(conversation.error).detail}
        </Alert>
        <p>
          <Link href="/tickets">Back to the tickets</Link>
        </p>
      </section>
    );
  }
  if (!ticket) return null;
  return <ConversationView ticket={ticket} forSupport={forSupport} headingRef={heading} />;
}

function ConversationView({
  ticket,
  forSupport,
  headingRef,
}: {
  ticket: Conversation;
  forSupport: boolean;
  headingRef: React.RefObject<HTMLHeadingElement | null>;
}) {
  const me = useMe().data;
  const close = useCloseTicket(ticket.id);
  const [confirming, setConfirming] = useState(false);
  const closed = ticket.status === "closed";
  const due = responseDue(ticket);
  // customers never get internal notes from the API; hiding them here too costs nothing
  const messages = forSupport ? ticket.messages ?? [] : (ticket.messages ?? []).filter((message) => !message.internal);
  const ticketFiles = (ticket.attachments ?? []).filter((attachment) => !attachment.message_id);
  const cluster = ticket.properties?.cluster_name ?? ticket.properties?.cluster_id;

  return (
    <section className="page conversation" aria-labelledby="ticket-title">
      <p className="breadcrumb">
        <Link href={forSupport ? "/queue" : "/tickets"}>{forSupport ? "← Support queue" : "← Your tickets"}</Link>
      </p>
      <header className="ticket-header">
        <h1 id="ticket-title" ref={headingRef} tabIndex={-1}>
          {ticket.subject}
        </h1>
        <div className="ticket-header__badges">
          <StatusBadge status={ticket.status} forSupport={forSupport} />
          <SeverityBadge severity={ticket.severity} />
          <CategoryTag category={ticket.category} />
          {ticket.status !== "waiting_customer" ? (
            <span className={`waiting waiting--${ticket.waiting_on ?? "none"}`}>{waitingOnLabel(ticket.waiting_on, forSupport)}</span>
          ) : null}
        </div>
        {due.state !== "none" ? (
          <p className={`response-target response-target--${due.state}`}>
            {due.state === "breached" ? <Badge tone="breached">Response target missed</Badge> : null}{" "}
            {due.text}
            {ticket.response_due_at ? <> (target {formatDateTime(ticket.response_due_at)})</> : null}
          </p>
        ) : null}
        <dl className="facts">
          <div>
            <dt>Ticket</dt>
            <dd>{ticket.id}</dd>
          </div>
          <div>
            <dt>Opened</dt>
            <dd>
              <time dateTime={ticket.created_at} title={formatDateTime(ticket.created_at)}>
                {formatRelative(ticket.created_at)}
              </time>{" "}
              by {ticket.created_by.email ?? ticket.created_by.id}
            </dd>
          </div>
          {forSupport ? (
            <div>
              <dt>Organisation</dt>
              <dd>{ticket.org_id}</dd>
            </div>
          ) : null}
          {cluster ? (
            <div>
              <dt>Cluster</dt>
              <dd>{cluster}</dd>
            </div>
          ) : null}
          {ticket.assignee ? (
            <div>
              <dt>Assignee</dt>
              <dd>{ticket.assignee}</dd>
            </div>
          ) : null}
        </dl>
        {ticket.summary ? (
          <p className="ticket-header__summary">
            <strong>Summary:</strong> {ticket.summary}
          </p>
        ) : null}
      </header>

      <div className="conversation__layout">
        <div className="conversation__thread">
          <h2 className="visually-hidden">Conversation</h2>
          <ol className="thread">
            {messages.map((message) => (
              <MessageItem key={message.id} message={message} ticketId={ticket.id} me={me?.id} />
            ))}
          </ol>
          {ticketFiles.length ? (
            <section aria-labelledby="ticket-files" className="panel">
              <h2 id="ticket-files" className="panel__title">
                Files on this ticket
              </h2>
              <AttachmentList ticketId={ticket.id} attachments={ticketFiles} />
            </section>
          ) : null}
          {closed ? (
            <Alert tone="info" title="This ticket is closed.">
              Replies are no longer possible. <Link href="/tickets/new">File a new ticket</Link> if the problem comes back.
            </Alert>
          ) : (
            <ReplyBox ticketId={ticket.id} forSupport={forSupport} />
          )}
        </div>
        <aside className="conversation__side" aria-label="Ticket actions">
          {forSupport && !closed ? <SupportActions ticket={ticket} /> : null}
          {!closed ? (
            <div className="panel">
              <h2 className="panel__title">Done?</h2>
              <p>Closing is final: the ticket cannot be reopened.</p>
              <button type="button" className="button button--danger" onClick={() => setConfirming(true)}>
                Close ticket
              </button>
              {close.isError ? <Alert title="Not closed">{describeError(close.error).detail}</Alert> : null}
            </div>
          ) : null}
        </aside>
      </div>
      <ConfirmDialog
        open={confirming}
        title="Close this ticket?"
        confirmLabel="Close ticket"
        busy={close.isPending}
        onCancel={() => setConfirming(false)}
        onConfirm={() => close.mutate(undefined, { onSettled: () => setConfirming(false) })}
      >
        <p>
          “{ticket.subject}” will be closed for good: nobody can reply to it afterwards. File a new ticket if you need
          help again.
        </p>
      </ConfirmDialog>
    </section>
  );
}
