import { renderMarkdown } from "./markdown";

describe("renderMarkdown", () => {
  it("renders markdown", () => {
    expect(renderMarkdown("**bold** and `code`")).toContain("<strong>bold</strong> and <code>code</code>");
  });

  it("never lets HTML through: raw tags are text, not elements", () => {
    const html = renderMarkdown('<script>alert(1)</script><img src=x onerror="alert(2)">');
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain("&lt;script&gt;");
  });

  it("drops javascript: links and opens others in a new tab without an opener", () => {
    expect(renderMarkdown("[x](javascript:alert(1))")).not.toMatch(/href="javascript/i);
    expect(renderMarkdown("<a href=\"javascript:alert(1)\">x</a>")).not.toMatch(/<a/);
    const link = renderMarkdown("see https://status.example.com");
    expect(link).toContain('href="https://status.example.com"');
    expect(link).toContain('rel="noopener noreferrer nofollow"');
    expect(link).toContain('target="_blank"');
  });

  it("shows no remote image, only its alt text", () => {
    const html = renderMarkdown("![tracking pixel](https://evil.example.com/p.gif)");
    expect(html).not.toContain("<img");
    expect(html).toContain("tracking pixel");
  });
});
