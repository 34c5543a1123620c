import { categoryLabel, severityLabel, statusLabel } from "@/lib/format";
import type { Category, Severity, Status } from "@/types/api";
import { Badge } from "./ui";

export function StatusBadge({ status, forSupport = false }: { status: Status; forSupport?: boolean }) {
  return <Badge tone={`status-${status}`}>{statusLabel(status, forSupport)}</Badge>;
}

export function SeverityBadge({ severity }: { severity: Severity }) {
  return (
    <Badge tone={`severity-${severity}`} title="Severity">
      <span className="visually-hidden">Severity: </span>
      {severityLabel(severity)}
    </Badge>
  );
}

export function CategoryTag({ category }: { category: Category }) {
  return (
    <span className="tag">
      <span className="visually-hidden">Category: </span>
      {categoryLabel(category)}
    </span>
  );
}
