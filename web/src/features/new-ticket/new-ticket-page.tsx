import { type SyntheticEvent, useEffect, useId, useRef, useState } from "react";
import { Link, useLocation } from "wouter";
import { StatusBadge } from "@/components/badges";
import { Alert, Spinner } from "@/components/ui";
import { describeError } from "@/lib/api-client";
import { categoryLabel, formatPercent, severityLabel } from "@/lib/format";
import { CATEGORIES, SEVERITIES, STATUSES, type Category, type ReviewFindings, type Severity, type Status } from "@/types/api";
import { type Filing, useAddToTicket, useFileTicket, useRequestReview, useReview } from "./api";
import { duplicateReplyBody, readFindings } from "./review-result";

interface Draft {
  subject: string;
  body: string;
  category: Category | "";
  cluster: string;
}

const EMPTY: Draft = { subject: "", body: "", category: "", cluster: "" };

/** File a ticket through the AI review: write, review (accept or change its suggestions, answer its questions, or add to a duplicate), file. */
export function NewTicketPage() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [reviewId, setReviewId] = useState<string | null>(null);
  const requestReview = useRequestReview();
  const heading = useRef<HTMLHeadingElement>(null);
  const id = useId();

  useEffect(() => {
    document.title = "New ticket · Helpdesk";
    heading.current?.focus();
  }, []);

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    requestReview.mutate(
      {
        body: draft.body,
        ...(draft.subject.trim() ? { subject: draft.subject.trim() } : {}),
        ...(draft.category ? { category: draft.category } : {}),
        ...(draft.cluster.trim() ? { properties: { cluster_id: draft.cluster.trim() } } : {}),
      },
      { onSuccess: (accepted) => setReviewId((accepted as { review_id: string }).review_id) },
    );
  }

  return (
    <section className="page new-ticket" aria-labelledby="new-title">
      <p className="breadcrumb">
        <Link href="/tickets">← Your tickets</Link>
      </p>
      <h1 id="new-title" ref={heading} tabIndex={-1}>
        New ticket
      </h1>
      <ol className="steps" aria-label="Steps">
        <li aria-current={reviewId ? undefined : "step"}>1. Describe the problem</li>
        <li aria-current={reviewId ? "step" : undefined}>2. Review and file</li>
      </ol>
      {reviewId ? (
        <ReviewStep draft={draft} reviewId={reviewId} onEdit={() => setReviewId(null)} />
      ) : (
        <form className="panel form" onSubmit={submit} aria-describedby={`${id}-help`}>
          <p id={`${id}-help`} className="hint">
            Our AI review reads your draft first: it suggests a category and severity, asks for what is missing and
            finds tickets you may already have about the same problem.
          </p>
          <div className="field">
            <label htmlFor={`${id}-subject`}>
              Subject <span className="optional">(optional)</span>
            </label>
            <input
              id={`${id}-subject`}
              value={draft.subject}
              maxLength={200}
              onChange={(event) => setDraft({ ...draft, subject: event.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-body`}>Description</label>
            <textarea
              id={`${id}-body`}
              value={draft.body}
              required
              minLength={1}
              maxLength={50000}
              rows={8}
              aria-describedby={`${id}-body-help`}
              onChange={(event) => setDraft({ ...draft, body: event.target.value })}
            />
            <p id={`${id}-body-help`} className="hint">
              What happened, since when, what you expected, and any error output. Markdown works.
            </p>
          </div>
          <div className="form__row">
            <div className="field">
              <label htmlFor={`${id}-category`}>Category</label>
              <select
                id={`${id}-category`}
                value={draft.category}
                onChange={(event) => setDraft({ ...draft, category: event.target.value as Category | "" })}
              >
                <option value="">Let the review suggest one</option>
                {CATEGORIES.map((value) => (
                  <option key={value} value={value}>
                    {categoryLabel(value)}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-cluster`}>
                Cluster ID <span className="optional">(optional)</span>
              </label>
              <input
                id={`${id}-cluster`}
                value={draft.cluster}
                maxLength={128}
                autoComplete="off"
                onChange={(event) => setDraft({ ...draft, cluster: event.target.value })}
              />
            </div>
          </div>
          {requestReview.isError ? (
            <Alert title={`The review could not start: ${describeError(requestReview.error).title}`}>
              {describeError(requestReview.error).detail}
            </Alert>
          ) : null}
          <button type="submit" className="button button--primary" disabled={requestReview.isPending || !draft.body.trim()}>
            {requestReview.isPending ? "Sending…" : "Review my ticket"}
          </button>
        </form>
      )}
    </section>
  );
}

function ReviewStep({ draft, reviewId, onEdit }: { draft: Draft; reviewId: string; onEdit: () => void }) {
  const review = useReview(reviewId);
  if (review.isError) {
    return (
      <Alert
        title="The review could not be read"
        action={
          <button type="button" className="button" onClick={onEdit}>
            Back to the draft
          </button>
        }
      >
        {describeError(review.error).detail}
      </Alert>
    );
  }
  if (!review.data || review.data.status === "pending") return <Spinner label="The AI review is reading your draft…" />;
  return (
    <ReviewForm
      draft={draft}
      reviewId={reviewId}
      failed={review.data.status === "failed"}
      findings={readFindings(review.data.result)}
      onEdit={onEdit}
    />
  );
}

function ReviewForm({
  draft,
  reviewId,
  failed,
  findings,
  onEdit,
}: {
  draft: Draft;
  reviewId: string;
  failed: boolean;
  findings: ReviewFindings;
  onEdit: () => void;
}) {
  const id = useId();
  const file = useFileTicket();
  const addTo = useAddToTicket();
  const [, navigate] = useLocation();
  // the review's suggestions are the starting choices; the user may change them
  const [category, setCategory] = useState<Category | "">(draft.category || findings.suggested_category || "");
  const [severity, setSeverity] = useState<Severity | "">(findings.suggested_severity ?? "");
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const title = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    title.current?.focus();
  }, []);

  const filing: Filing = {
    reviewId: failed ? null : reviewId,
    body: draft.body,
    category: category || "general",
    answers,
    properties: draft.cluster.trim() ? { cluster_id: draft.cluster.trim() } : {},
    ...(draft.subject.trim() ? { subject: draft.subject.trim() } : {}),
    ...(severity ? { severity } : {}),
  };

  function submit(event: SyntheticEvent) {
    event.preventDefault();
    file.mutate(filing, { onSuccess: (ticket) => navigate(`/tickets/${(ticket as { id: string }).id}`) });
  }

  const quality = findings.quality;
  const duplicates = findings.duplicates ?? [];
  const questions = findings.questions ?? [];

  return (
    <form className="review" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} ref={title} tabIndex={-1}>
        {failed ? "The review did not finish" : "What the review found"}
      </h2>
      {failed ? (
        <Alert tone="warning" title="You can still file the ticket.">
          Choose its category; the support team reviews it instead.
        </Alert>
      ) : (
        <div className="panel">
          {findings.summary ? (
            <p className="review__summary">
              <strong>Summary:</strong> {findings.summary}
            </p>
          ) : null}
          {quality ? (
            <div className="review__quality">
              {quality.score !== undefined ? (
                <p>
                  Quality of the description: <strong>{quality.score}/100</strong>
                </p>
              ) : null}
              {quality.issues?.length ? (
                <>
                  <h3>Could be better</h3>
                  <ul className="issues">
                    {quality.issues.map((issue) => (
                      <li key={issue.code + issue.message}>{issue.message}</li>
                    ))}
                  </ul>
                </>
              ) : (
                <p>No issues found with the description.</p>
              )}
            </div>
          ) : null}
        </div>
      )}

      {duplicates.length ? (
        <section className="panel duplicates" aria-labelledby={`${id}-dups`}>
          <h3 id={`${id}-dups`}>You may already have a ticket about this</h3>
          <ul>
            {duplicates.map((duplicate) => (
              <li key={duplicate.ticket_id} className="duplicate">
                <div className="duplicate__head">
                  <Link href={`/tickets/${duplicate.ticket_id}`} className="duplicate__subject">
                    {duplicate.subject}
                  </Link>
                  {(STATUSES as readonly string[]).includes(duplicate.status) ? (
                    <StatusBadge status={duplicate.status as Status} />
                  ) : null}
                  <span className="duplicate__score">{formatPercent(duplicate.score)} match</span>
                </div>
                {duplicate.evidence.length ? (
                  <p className="duplicate__evidence">
                    Matching: {duplicate.evidence.map((phrase) => <mark key={phrase}>{phrase}</mark>)}
                  </p>
                ) : null}
                {duplicate.status !== "closed" ? (
                  <button
                    type="button"
                    className="button"
                    disabled={addTo.isPending}
                    onClick={() =>
                      addTo.mutate(
                        { ticketId: duplicate.ticket_id, body: duplicateReplyBody(draft.subject, draft.body) },
                        { onSuccess: () => navigate(`/tickets/${duplicate.ticket_id}`) },
                      )
                    }
                  >
                    Add my text to this ticket instead
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
          {addTo.isError ? <Alert title="Not added">{describeError(addTo.error).detail}</Alert> : null}
        </section>
      ) : null}

      <section className="panel" aria-labelledby={`${id}-choices`}>
        <h3 id={`${id}-choices`}>Category and severity</h3>
        <div className="form__row">
          <div className="field">
            <label htmlFor={`${id}-category`}>Category</label>
            <select
              id={`${id}-category`}
              value={category}
              required
              aria-describedby={`${id}-category-hint`}
              onChange={(event) => {
                setCategory(event.target.value as Category);
              }}
            >
              <option value="" disabled>
                Choose a category
              </option>
              {CATEGORIES.map((value) => (
                <option key={value} value={value}>
                  {categoryLabel(value)}
                </option>
              ))}
            </select>
            {findings.suggested_category ? (
              <p id={`${id}-category-hint`} className="hint">
                Suggested: {categoryLabel(findings.suggested_category)}
                {findings.category_confidence !== undefined ? ` (${formatPercent(findings.category_confidence)} sure)` : ""}
              </p>
            ) : null}
          </div>
          <div className="field">
            <label htmlFor={`${id}-severity`}>Severity</label>
            <select
              id={`${id}-severity`}
              value={severity}
              aria-describedby={`${id}-severity-hint`}
              onChange={(event) => {
                setSeverity(event.target.value as Severity | "");
              }}
            >
              <option value="">Let support decide</option>
              {SEVERITIES.map((value) => (
                <option key={value} value={value}>
                  {severityLabel(value)}
                </option>
              ))}
            </select>
            {findings.suggested_severity ? (
              <p id={`${id}-severity-hint`} className="hint">
                Suggested: {severityLabel(findings.suggested_severity)}
                {findings.severity_confidence !== undefined ? ` (${formatPercent(findings.severity_confidence)} sure)` : ""}
              </p>
            ) : null}
          </div>
        </div>
      </section>

      {questions.length ? (
        <section className="panel" aria-labelledby={`${id}-questions`}>
          <h3 id={`${id}-questions`}>Questions from the review</h3>
          <p className="hint">Answers are added to your description. Leave blank what you do not know.</p>
          {questions.slice(0, 10).map((question, index) => (
            <div className="field" key={question}>
              <label htmlFor={`${id}-q${index}`}>{question}</label>
              <textarea
                id={`${id}-q${index}`}
                rows={2}
                maxLength={50000}
                value={answers[question] ?? ""}
                onChange={(event) => setAnswers({ ...answers, [question]: event.target.value })}
              />
            </div>
          ))}
        </section>
      ) : null}

      {file.isError ? (
        <Alert title={`Not filed: ${describeError(file.error).title}`}>{describeError(file.error).detail}</Alert>
      ) : null}
      <div className="review__actions">
        <button type="button" className="button" onClick={onEdit}>
          Edit the draft
        </button>
        <button type="submit" className="button button--primary" disabled={file.isPending || !category}>
          {file.isPending ? "Filing…" : "File ticket"}
        </button>
      </div>
    </form>
  );
}
