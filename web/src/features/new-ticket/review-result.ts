/** The review's free-form `result` object read defensively into ReviewFindings. */
import { CATEGORIES, SEVERITIES, type Category, type Duplicate, type ReviewFindings, type Severity } from "@/types/api";

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;
const str = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

export function readFindings(result: unknown): ReviewFindings {
  if (!isRecord(result)) return {};
  const findings: ReviewFindings = {};
  const summary = str(result.summary);
  if (summary) findings.summary = summary;
  const category = str(result.suggested_category);
  if (category && (CATEGORIES as readonly string[]).includes(category)) findings.suggested_category = category as Category;
  const severity = str(result.suggested_severity);
  if (severity && (SEVERITIES as readonly string[]).includes(severity)) findings.suggested_severity = severity as Severity;
  const categoryConfidence = num(result.category_confidence);
  if (categoryConfidence !== undefined) findings.category_confidence = categoryConfidence;
  const severityConfidence = num(result.severity_confidence);
  if (severityConfidence !== undefined) findings.severity_confidence = severityConfidence;
  if (isRecord(result.quality)) {
    const issues = Array.isArray(result.quality.issues)
      ? result.quality.issues
          .filter(isRecord)
          .map((issue) => ({ code: str(issue.code) ?? "", message: str(issue.message) ?? "" }))
          .filter((issue) => issue.message)
      : [];
    findings.quality = { issues };
    const score = num(result.quality.score);
    if (score !== undefined) findings.quality.score = score;
  }
  findings.questions = Array.isArray(result.questions) ? result.questions.filter((q): q is string => typeof q === "string") : [];
  findings.duplicates = Array.isArray(result.duplicates)
    ? result.duplicates.filter(isRecord).flatMap((d): Duplicate[] => {
        const id = str(d.ticket_id);
        if (!id) return [];
        return [
          {
            ticket_id: id,
            subject: str(d.subject) ?? id,
            status: str(d.status) ?? "",
            score: num(d.score) ?? 0,
            evidence: Array.isArray(d.evidence) ? d.evidence.filter((e): e is string => typeof e === "string") : [],
          },
        ];
      })
    : [];
  if (isRecord(result.cluster_context)) findings.cluster_context = result.cluster_context;
  return findings;
}

/** The reply added to a duplicate instead of filing: the draft's text, with the subject as a heading. */
export function duplicateReplyBody(subject: string, body: string): string {
  const text = body.trim();
  return subject.trim() ? `**${subject.trim()}**\n\n${text}` : text;
}
