import { formatBytes, formatPercent, formatRelative, responseDue, statusLabel, waitingOnLabel } from "./format";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1023, "1023 B"],
    [1536, "1.5 KB"],
    [10 * 1024, "10 KB"],
    [4_600_000, "4.4 MB"],
    [10 * 1024 * 1024, "10 MB"],
  ])("%d bytes is %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe("labels", () => {
  it("tells the customer a waiting ticket waits for them, and support that it waits on the customer", () => {
    expect(statusLabel("waiting_customer")).toBe("Waiting for you");
    expect(statusLabel("waiting_customer", true)).toBe("Waiting on customer");
    expect(waitingOnLabel("user")).toBe("Waiting on you");
    expect(waitingOnLabel("us")).toBe("Waiting on support");
    expect(waitingOnLabel(null)).toBe("Nobody owes a reply");
  });

  it("shows a confidence as a whole percentage, clamped", () => {
    expect(formatPercent(0.874)).toBe("87%");
    expect(formatPercent(1.2)).toBe("100%");
  });
});

describe("formatRelative", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");
  it("says how long ago, or how long until", () => {
    expect(formatRelative("2026-12-06T11:57:00Z", now)).toBe("3 minutes ago");
    expect(formatRelative("2026-12-06T14:00:00Z", now)).toBe("in 2 hours");
    expect(formatRelative("2026-12-04T12:00:00Z", now)).toBe("2 days ago");
    expect(formatRelative("not a date", now)).toBe("");
  });
});

describe("responseDue", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");
  it("is nothing when the API gives no target (older API, or nothing owed)", () => {
    expect(responseDue({ waiting_on: "us" }, now).state).toBe("none");
    expect(responseDue({ waiting_on: "user", response_due_at: "2026-12-06T13:00:00Z" }, now).state).toBe("none");
  });
  it("counts down to the target, 'soon' within the hour", () => {
    expect(responseDue({ waiting_on: "us", response_due_at: "2026-12-06T16:00:00Z" }, now)).toEqual({
      state: "due",
      text: "Support responds in 4 hours",
    });
    expect(responseDue({ waiting_on: "us", response_due_at: "2026-12-06T12:30:00Z" }, now).state).toBe("soon");
  });
  it("is breached when the API says so, or when the target has passed", () => {
    expect(responseDue({ waiting_on: "us", response_breached: true, response_due_at: "2026-12-06T10:00:00Z" }, now)).toEqual({
      state: "breached",
      text: "Response overdue since 2 hours",
    });
    expect(responseDue({ waiting_on: "us", response_due_at: "2026-12-06T11:00:00Z" }, now).state).toBe("breached");
  });
});
