import { useState } from "react";
import { Badge } from "@/components/ui";
import { describeError } from "@/lib/api-client";
import { formatBytes } from "@/lib/format";
import type { Attachment } from "@/types/api";
import { downloadAttachment } from "../api";

function typeLabel(contentType: string): string {
  const base = contentType.split(";")[0]?.trim() ?? contentType;
  const labels: Record<string, string> = {
    "text/plain": "Text",
    "application/json": "JSON",
    "application/yaml": "YAML",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/pdf": "PDF",
  };
  return labels[base] ?? base;
}

export function AttachmentList({ ticketId, attachments }: { ticketId: string; attachments: Attachment[] }) {
  if (!attachments.length) return null;
  return (
    <ul className="attachments" aria-label="Attachments">
      {attachments.map((attachment) => (
        <AttachmentItem key={attachment.id} ticketId={ticketId} attachment={attachment} />
      ))}
    </ul>
  );
}

function AttachmentItem({ ticketId, attachment }: { ticketId: string; attachment: Attachment }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function download() {
    setBusy(true);
    setError(null);
    try {
      await downloadAttachment(ticketId, attachment);
    } catch (caught) {
      setError(describeError(caught).detail);
    } finally {
      setBusy(false);
    }
  }
  return (
    <li className={`attachment attachment--${attachment.status}`}>
      <span className="attachment__name">{attachment.filename}</span>
      <span className="attachment__meta">
        {typeLabel(attachment.content_type)} · {formatBytes(attachment.size)}
      </span>
      {attachment.status === "available" ? (
        <button
          type="button"
          className="button button--small"
          onClick={() => void download()}
          disabled={busy}
          aria-label={`Download ${attachment.filename}`}
        >
          {busy ? "Downloading…" : "Download"}
        </button>
      ) : attachment.status === "pending_upload" ? (
        <Badge tone="pending">Checking the file…</Badge>
      ) : attachment.status === "rejected" ? (
        <Badge tone="rejected">Refused{attachment.rejection_reason ? `: ${attachment.rejection_reason}` : ""}</Badge>
      ) : (
        <Badge tone="muted">Upload expired</Badge>
      )}
      {error ? (
        <span className="attachment__error" role="alert">
          {error}
        </span>
      ) : null}
    </li>
  );
}
