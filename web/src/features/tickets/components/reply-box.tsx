import { type DragEvent, type SyntheticEvent, useEffect, useId, useReducer, useRef, useState } from "react";
import { Alert, ProgressBar } from "@/components/ui";
import { describeError } from "@/lib/api-client";
import { ALLOWED_TEXT, checkFile } from "@/lib/file-check";
import { formatBytes } from "@/lib/format";
import { useReply } from "../api";
import { filesReducer, initialFiles, MAX_FILES } from "../reply-state";

export function ReplyBox({ ticketId, forSupport }: { ticketId: string; forSupport: boolean }) {
  const id = useId();
  const [body, setBody] = useState("");
  const [internal, setInternal] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [files, dispatch] = useReducer(filesReducer, initialFiles);
  const [sent, setSent] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const reply = useReply(ticketId);

  // a file dropped beside the box must not make the browser leave the page to open it
  useEffect(() => {
    const keep = (event: globalThis.DragEvent) => {
      if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
    };
    window.addEventListener("dragover", keep);
    window.addEventListener("drop", keep);
    return () => {
      window.removeEventListener("dragover", keep);
      window.removeEventListener("drop", keep);
    };
  }, []);

  async function add(list: FileList | null) {
    if (!list?.length) return;
    const picked = Array.from(list);
    const checked = await Promise.all(picked.map(async (file) => ({ file, verdict: await checkFile(file) })));
    dispatch({ type: "add", checked });
    if (input.current) input.current.value = "";
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    void add(event.dataTransfer.files);
  }

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    if (!body.trim() && !files.files.length) return;
    setSent(null);
    dispatch({ type: "sending" });
    reply.mutate(
      {
        body,
        internal: forSupport && internal,
        files: files.files.map(({ file, contentType }) => ({ file, contentType })),
        onProgress: (name, progress) => dispatch({ type: "progress", name, progress }),
      },
      {
        onSuccess: () => {
          const what = internal && forSupport ? "Internal note added." : body.trim() ? "Reply sent." : "Files uploaded.";
          const checking = files.files.length ? " Attached files show once they have been checked." : "";
          setSent(what + checking);
          setBody("");
          setInternal(false);
          dispatch({ type: "reset" });
        },
      },
    );
  }

  const sending = reply.isPending;
  const noteMode = forSupport && internal;

  return (
    <form className={`reply${noteMode ? " reply--internal" : ""}`} onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="reply__title">
        {noteMode ? "Internal note" : "Reply"}
      </h2>
      {forSupport ? (
        <div className="field field--check">
          <input id={`${id}-internal`} type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} />
          <label htmlFor={`${id}-internal`}>Internal note (only the support team sees it)</label>
        </div>
      ) : null}
      <label htmlFor={`${id}-body`} className="visually-hidden">
        {noteMode ? "Internal note" : "Your reply"} (markdown)
      </label>
      <textarea
        id={`${id}-body`}
        value={body}
        onChange={(event) => setBody(event.target.value)}
        rows={5}
        maxLength={50000}
        placeholder={noteMode ? "A note for the support team…" : "Write your reply… Markdown works: **bold**, `code`, lists."}
        disabled={sending}
      />
      {/* dropping is a pointer shortcut: the keyboard way is the "choose files" button inside */}
      {/* eslint-disable-next-line jsx-a11y/no-static-element-interactions */}
      <div
        className={`dropzone${dragging ? " dropzone--active" : ""}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p id={`${id}-drop-help`}>
          Drop files here or{" "}
          <button type="button" className="button button--link" onClick={() => input.current?.click()} disabled={sending}>
            choose files
          </button>
          . Up to {MAX_FILES} files of 10 MB: {ALLOWED_TEXT}.
        </p>
        <input
          ref={input}
          id={`${id}-files`}
          type="file"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          aria-label="Attach files"
          aria-describedby={`${id}-drop-help`}
          onChange={(event) => void add(event.target.files)}
        />
      </div>
      {files.refused.length ? (
        <Alert
          title="Some files were not attached"
          action={
            <button type="button" className="button button--small" onClick={() => dispatch({ type: "dismiss" })}>
              Dismiss
            </button>
          }
        >
          <ul>
            {files.refused.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        </Alert>
      ) : null}
      {files.files.length ? (
        <ul className="picked" aria-label="Files to send">
          {files.files.map((picked) => (
            <li key={picked.key} className="picked__item">
              <span className="picked__name">{picked.file.name}</span>
              <span className="picked__meta">
                {picked.kind} · {formatBytes(picked.file.size)}
                {picked.file.size > 4 * 1024 * 1024 ? " · direct upload" : ""}
              </span>
              {picked.progress !== null ? (
                <ProgressBar value={picked.progress} label={`Uploading ${picked.file.name}`} />
              ) : (
                <button
                  type="button"
                  className="button button--small"
                  onClick={() => dispatch({ type: "remove", key: picked.key })}
                  aria-label={`Remove ${picked.file.name}`}
                >
                  Remove
                </button>
              )}
              {picked.error ? <span className="picked__error">{picked.error}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {reply.isError ? (
        <Alert title={`Not sent: ${describeError(reply.error).title}`}>{describeError(reply.error).detail}</Alert>
      ) : null}
      {sent ? <Alert tone="success" title={sent} /> : null}
      <div className="reply__actions">
        <button
          type="submit"
          className={`button ${noteMode ? "button--internal" : "button--primary"}`}
          disabled={sending || (!body.trim() && !files.files.length)}
        >
          {sending ? "Sending…" : noteMode ? "Add internal note" : body.trim() || !files.files.length ? "Send reply" : "Upload files"}
        </button>
      </div>
    </form>
  );
}
