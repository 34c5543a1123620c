import { duplicateReplyBody, readFindings } from "./review-result";

describe("readFindings", () => {
  it("reads the review engine's result", () => {
    const findings = readFindings({
      engine: "builtin",
      summary: "Pods pending in prod-eu",
      suggested_category: "technical",
      category_confidence: 0.96,
      suggested_severity: "high",
      severity_confidence: 0.5,
      quality: { score: 70, issues: [{ code: "no_error_output", message: "No error output." }] },
      questions: ["When did it start?"],
      duplicates: [{ ticket_id: "T1", subject: "Pods stuck", status: "open", score: 0.91, evidence: ["insufficient cpu"] }],
    });
    expect(findings).toMatchObject({
      summary: "Pods pending in prod-eu",
      suggested_category: "technical",
      suggested_severity: "high",
      quality: { score: 70, issues: [{ code: "no_error_output", message: "No error output." }] },
      questions: ["When did it start?"],
      duplicates: [{ ticket_id: "T1", subject: "Pods stuck", status: "open", score: 0.91, evidence: ["insufficient cpu"] }],
    });
  });

  it("survives a result of another shape (another engine, a newer API)", () => {
    expect(readFindings(null)).toEqual({});
    const odd = readFindings({ suggested_category: "astrology", duplicates: [{ subject: "no id" }, 3], questions: [1, "Why?"] });
    expect(odd.suggested_category).toBeUndefined();
    expect(odd.duplicates).toEqual([]);
    expect(odd.questions).toEqual(["Why?"]);
  });
});

describe("duplicateReplyBody", () => {
  it("keeps the draft's subject as a bold first line", () => {
    expect(duplicateReplyBody("Pods pending", " It happens again. ")).toBe("**Pods pending**\n\nIt happens again.");
    expect(duplicateReplyBody("", "Text")).toBe("Text");
  });
});
