import { percent, presignedForm, sendWithProgress } from "./upload";

describe("percent", () => {
  it("is 0 before anything is known, never 100 before the server answered, 100 when done", () => {
    expect(percent(null)).toBe(0);
    expect(percent({ loaded: 0, total: 0 })).toBe(0);
    expect(percent({ loaded: 512, total: 1024 })).toBe(50);
    expect(percent({ loaded: 1024, total: 1024 })).toBe(99);
    expect(percent({ loaded: 1024, total: 1024 }, true)).toBe(100);
  });
});

describe("presignedForm", () => {
  it("puts the policy fields first and the file last, as S3 requires", () => {
    const form = presignedForm({ key: "tickets/t/a", policy: "p", "x-amz-signature": "s" }, new Blob(["x"]), "a.log");
    expect([...form.keys()]).toEqual(["key", "policy", "x-amz-signature", "file"]);
  });
});

/** An XMLHttpRequest stand-in that replays upload progress events, then answers. */
class FakeXhr {
  static last: FakeXhr | null = null;
  upload: { onprogress: ((event: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  responseText = "";
  headers: Record<string, string> = {};
  url = "";
  constructor() {
    FakeXhr.last = this;
  }
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader() {
    return "application/json";
  }
  send() {
    for (const loaded of [0, 2_000_000, 4_600_000]) {
      this.upload.onprogress?.({ lengthComputable: true, loaded, total: 4_600_000 } as ProgressEvent);
    }
    this.status = 201;
    this.responseText = '{"ok":true}';
    this.onload?.();
  }
  abort() {
    this.onabort?.();
  }
}

describe("sendWithProgress", () => {
  it("reports each progress event, sends the headers, resolves with the answer", async () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const seen: number[] = [];
    const result = await sendWithProgress("http://api/v1/x", new FormData(), {
      headers: { Authorization: "Bearer t" },
      onProgress: (progress) => seen.push(percent(progress)),
    });
    expect(seen).toEqual([0, 43, 99]);
    expect(result).toEqual({ status: 201, body: '{"ok":true}', contentType: "application/json" });
    expect(FakeXhr.last?.headers).toEqual({ Authorization: "Bearer t" });
    vi.unstubAllGlobals();
  });
});
