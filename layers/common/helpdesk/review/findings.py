"""The `ai` message a review adds to a ticket: its findings, in markdown."""

from typing import Any


def findings_markdown(result: dict[str, Any]) -> str:
    """The `ai` message a review adds to the ticket: what it found, for the support team and the user."""
    lines = ["**AI review**", "", f"> {result.get('summary', '')}", ""]
    category, severity = result.get("suggested_category"), result.get("suggested_severity")
    if category:
        lines.append(f"- Suggested category: `{category}` ({result.get('category_confidence', 0):.0%} confident)")
    if severity:
        lines.append(f"- Suggested severity: `{severity}` ({result.get('severity_confidence', 0):.0%} confident)")
    quality = result.get("quality") or {}
    if quality:
        lines.append(f"- Quality: {quality.get('score', 0)}/100")
        lines += [f"  - {issue.get('message', issue.get('code', ''))}" for issue in quality.get("issues", [])]
    if result.get("questions"):
        lines += ["", "**Questions that would help**", *(f"- {question}" for question in result["questions"])]
    if result.get("duplicates"):
        lines += ["", "**Possibly related tickets**"]
        for duplicate in result["duplicates"]:
            evidence = "; ".join(f"“{phrase}”" for phrase in duplicate.get("evidence", [])[:3])
            lines.append(
                f"- {duplicate['ticket_id']} ({duplicate.get('status', '?')}, {duplicate.get('score', 0):.0%}): "
                f"{duplicate.get('subject', '')}" + (f" — {evidence}" if evidence else "")
            )
    return "\n".join(lines)
