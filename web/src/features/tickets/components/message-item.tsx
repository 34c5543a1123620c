import { useMemo } from "react";
import { formatDateTime, formatRelative } from "@/lib/format";
import { renderMarkdown } from "@/lib/markdown";
import type { Message } from "@/types/api";
import { AttachmentList } from "./attachments";

function authorName(message: Message, me: string | undefined): string {
  const { kind, email, id } = message.author;
  if (kind === "ai") return "AI review";
  if (kind === "system") return "System";
  if (kind === "support") return email && id === me ? `${email} (you, support)` : "Support team";
  return email ? (id === me ? `${email} (you)` : email) : "Customer";
}

export function MessageItem({ message, ticketId, me }: { message: Message; ticketId: string; me: string | undefined }) {
  const html = useMemo(() => renderMarkdown(message.body), [message.body]);
  const kind = message.author.kind;
  const when = (
    <time dateTime={message.created_at} title={formatDateTime(message.created_at)}>
      {formatRelative(message.created_at)}
    </time>
  );
  if (kind === "system") {
    // a change of status, assignee, severity…: one line in the thread
    return (
      <li className={`event${message.internal ? " event--internal" : ""}`}>
        <span className="event__icon" aria-hidden="true">
          ●
        </span>
        <span className="visually-hidden">{message.internal ? "Internal system event: " : "System event: "}</span>
        {/* markdown is sanitised (markdown-it with HTML off, then DOMPurify) */}
        <span className="event__text markdown markdown--inline" dangerouslySetInnerHTML={{ __html: html }} />
        {message.internal ? <span className="internal-tag">Internal</span> : null}
        {when}
        <AttachmentList ticketId={ticketId} attachments={message.attachments ?? []} />
      </li>
    );
  }
  const kindLabel = { user: "Customer", support: "Support", ai: "AI", system: "System" }[kind];
  return (
    <li className={`message message--${kind}${message.internal ? " message--internal" : ""}`}>
      <article aria-label={`${message.internal ? "Internal note" : "Message"} from ${authorName(message, me)}`}>
        <header className="message__header">
          <span className={`avatar avatar--${kind}`} aria-hidden="true">
            {kind === "ai" ? "AI" : kind === "support" ? "S" : (message.author.email ?? "?").charAt(0).toUpperCase()}
          </span>
          <span className="message__author">{authorName(message, me)}</span>
          <span className={`kind kind--${kind}`}>{kindLabel}</span>
          {message.internal ? <span className="internal-tag">Internal note · only support sees this</span> : null}
          {when}
        </header>
        <div className="message__body markdown" dangerouslySetInnerHTML={{ __html: html }} />
        <AttachmentList ticketId={ticketId} attachments={message.attachments ?? []} />
      </article>
    </li>
  );
}
