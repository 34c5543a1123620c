import { judgeBytes, MAX_FILE_BYTES } from "./file-check";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? Array.from(new TextEncoder().encode(part)) : part)));

function verdict(head: Uint8Array, name: string, size = head.length) {
  return judgeBytes(head, name, size);
}

describe("judgeBytes: what the first bytes say, whatever the name", () => {
  it("refuses a Windows executable renamed .txt, and says so", () => {
    const result = verdict(bytes("MZ", [0x90, 0, 3, 0, 0, 0]), "setup.txt");
    expect(result).toEqual({
      ok: false,
      reason: expect.stringMatching(/^"setup\.txt" was refused: it is a Windows executable \(MZ\/PE\), whatever its name says\./) as string,
    });
  });

  it.each([
    ["an ELF binary", bytes([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), "tool.log", /Linux executable/],
    ["a Mach-O binary", bytes([0xcf, 0xfa, 0xed, 0xfe, 7, 0]), "app.txt", /Mach-O/],
    ["a shell script", bytes("#!/bin/sh\nrm -rf /\n"), "notes.txt", /script/],
    ["a zip", bytes([0x50, 0x4b, 0x03, 0x04, 20, 0]), "logs.json", /ZIP/],
    ["a gzip", bytes([0x1f, 0x8b, 8, 0]), "app.log", /gzip/],
    ["a 7z", bytes([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]), "a.txt", /7-Zip/],
    ["a rar", bytes("Rar!", [0x1a, 0x07, 0]), "a.txt", /RAR/],
    ["an SVG", bytes('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'), "chart.txt", /SVG/],
    ["an HTML page", bytes("  <!DOCTYPE html><html><body>hi</body></html>"), "page.log", /HTML/],
    ["binary junk", bytes([1, 2, 3, 4, 5, 6, 7, 0, 0, 0]), "data.txt", /binary/],
  ])("refuses %s", (_what, head, name, reason) => {
    const result = verdict(head, name);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it.each([
    ["PNG", bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), "shot.png", "image/png"],
    ["JPEG", bytes([0xff, 0xd8, 0xff, 0xe0]), "photo.jpg", "image/jpeg"],
    ["GIF", bytes("GIF89a..."), "anim.gif", "image/gif"],
    ["WebP", bytes("RIFF", [0, 0, 0, 0], "WEBPVP8 "), "img.webp", "image/webp"],
    ["PDF", bytes("%PDF-1.7\n"), "report.pdf", "application/pdf"],
    ["a log", bytes("2026-12-06 ERROR pod crashed\n\u001b[31mred\u001b[0m\n"), "app.log", "text/plain"],
    ["JSON", bytes('{"a": 1}'), "data.json", "application/json"],
    ["YAML", bytes("apiVersion: v1\nkind: Pod\n"), "pod.yaml", "application/yaml"],
  ])("allows %s", (_what, head, name, contentType) => {
    expect(verdict(head, name)).toMatchObject({ ok: true, contentType });
  });

  it("refuses a file over 10 MB and an empty one before reading them", () => {
    expect(verdict(new Uint8Array(), "big.log", MAX_FILE_BYTES + 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/too large/) as string });
    expect(verdict(new Uint8Array(), "empty.log", 0)).toMatchObject({ ok: false, reason: expect.stringMatching(/empty/) as string });
  });

  it("does not mistake a UTF-8 character cut by the 8 KiB window for binary", () => {
    const text = "é".repeat(4096);
    const head = new TextEncoder().encode(text).slice(0, 8191);
    expect(verdict(head, "fr.log", 20000)).toMatchObject({ ok: true, contentType: "text/plain" });
  });
});
