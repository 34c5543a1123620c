/**
 * Refuse a file before uploading it: by size, and by what its first bytes say it is, whatever its
 * name (an .exe renamed .txt is still "MZ"). The API decides again from the bytes (415); this check
 * only spares the upload and says why at once. Allowed: text and logs, JSON, YAML, PNG, JPEG, GIF,
 * WebP, PDF (SPEC §4).
 */

export const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Larger files go through the presigned S3 upload (a multipart request stops at ~5.5 MB in all). */
export const INLINE_LIMIT_BYTES = 4 * 1024 * 1024;
export const MAX_FILES_PER_MESSAGE = 3;
export const ALLOWED_TEXT = "text and logs, JSON, YAML, PNG, JPEG, GIF, WebP or PDF";

export type FileVerdict =
  | { ok: true; contentType: string; kind: string }
  | { ok: false; reason: string };

type Signature = [offset: number, bytes: number[] | string];
interface Rule {
  signature: Signature[];
  what: string;
  contentType?: string; // allowed when set
}

const ascii = (text: string): number[] => Array.from(text, (c) => c.charCodeAt(0));

const RULES: Rule[] = [
  { signature: [[0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]]], what: "PNG image", contentType: "image/png" },
  { signature: [[0, [0xff, 0xd8, 0xff]]], what: "JPEG image", contentType: "image/jpeg" },
  { signature: [[0, "GIF87a"]], what: "GIF image", contentType: "image/gif" },
  { signature: [[0, "GIF89a"]], what: "GIF image", contentType: "image/gif" },
  { signature: [[0, "RIFF"], [8, "WEBP"]], what: "WebP image", contentType: "image/webp" },
  { signature: [[0, "%PDF-"]], what: "PDF document", contentType: "application/pdf" },
  { signature: [[0, [0x7f, 0x45, 0x4c, 0x46]]], what: "a Linux executable (ELF)" },
  { signature: [[0, "MZ"]], what: "a Windows executable (MZ/PE)" },
  { signature: [[0, [0xfe, 0xed, 0xfa, 0xce]]], what: "a macOS executable (Mach-O)" },
  { signature: [[0, [0xfe, 0xed, 0xfa, 0xcf]]], what: "a macOS executable (Mach-O)" },
  { signature: [[0, [0xce, 0xfa, 0xed, 0xfe]]], what: "a macOS executable (Mach-O)" },
  { signature: [[0, [0xcf, 0xfa, 0xed, 0xfe]]], what: "a macOS executable (Mach-O)" },
  { signature: [[0, [0xca, 0xfe, 0xba, 0xbe]]], what: "a macOS universal binary or Java class" },
  { signature: [[0, "#!"]], what: "a script (it starts with #!)" },
  { signature: [[0, [0x50, 0x4b, 0x03, 0x04]]], what: "a ZIP archive (or DOCX, XLSX, JAR, APK)" },
  { signature: [[0, [0x50, 0x4b, 0x05, 0x06]]], what: "a ZIP archive" },
  { signature: [[0, [0x50, 0x4b, 0x07, 0x08]]], what: "a ZIP archive" },
  { signature: [[0, [0x1f, 0x8b]]], what: "a gzip archive" },
  { signature: [[0, "BZh"]], what: "a bzip2 archive" },
  { signature: [[0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]]], what: "an xz archive" },
  { signature: [[0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]]], what: "a 7-Zip archive" },
  { signature: [[0, "Rar!"]], what: "a RAR archive" },
  { signature: [[257, "ustar"]], what: "a tar archive" },
  { signature: [[0, [0x28, 0xb5, 0x2f, 0xfd]]], what: "a Zstandard archive" },
  { signature: [[0, "MSCF"]], what: "a cabinet archive" },
  { signature: [[0, "!<arch>\n"]], what: "an ar archive (or .deb)" },
  { signature: [[0, [0xd0, 0xcf, 0x11, 0xe0]]], what: "an old Office document or MSI installer" },
  { signature: [[0, [0x00, 0x61, 0x73, 0x6d]]], what: "a WebAssembly module" },
  { signature: [[0, "{\\rtf"]], what: "an RTF document" },
  { signature: [[0, "%!PS"]], what: "a PostScript program" },
];

function matches(head: Uint8Array, [offset, expected]: Signature): boolean {
  const bytes = typeof expected === "string" ? ascii(expected) : expected;
  if (head.length < offset + bytes.length) return false;
  return bytes.every((byte, index) => head[offset + index] === byte);
}

const MARKUP = /^(?:<\?xml[^>]*>\s*)?(?:<!--[\s\S]*?-->\s*)*(?:<!doctype\s+(html|svg)\b|<(?:[\w.-]+:)?(svg|html|head|body|script|iframe)[\s/>])/i;

function looksLikeText(head: Uint8Array): string | null {
  if (head.includes(0)) return null;
  let text: string;
  try {
    // a character cut by the window is not bad UTF-8: decode in streaming mode
    text = new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
  } catch {
    return null;
  }
  let controls = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if ((code < 32 && ![8, 9, 10, 11, 12, 13, 27].includes(code)) || code === 127) controls += 1;
  }
  return controls * 100 > text.length ? null : text.replace(/^\ufeff/, "");
}

/** The verdict on a file's first bytes (`head`, 8 KiB is plenty) and its name. */
export function judgeBytes(head: Uint8Array, filename: string, size: number): FileVerdict {
  const name = filename || "this file";
  if (size > MAX_FILE_BYTES) {
    return { ok: false, reason: `"${name}" is too large (${(size / 1048576).toFixed(1)} MB): files can be up to 10 MB.` };
  }
  if (size === 0) return { ok: false, reason: `"${name}" is empty.` };
  for (const rule of RULES) {
    if (rule.signature.every((signature) => matches(head, signature))) {
      if (rule.contentType) return { ok: true, contentType: rule.contentType, kind: rule.what };
      return {
        ok: false,
        reason: `"${name}" was refused: it is ${rule.what}, whatever its name says. Attach ${ALLOWED_TEXT}.`,
      };
    }
  }
  const text = looksLikeText(head);
  if (text === null) {
    return { ok: false, reason: `"${name}" was refused: it is a binary file of unknown type. Attach ${ALLOWED_TEXT}.` };
  }
  const markup = MARKUP.exec(text.trimStart().slice(0, 512));
  if (markup) {
    const what = (markup[1] ?? markup[2] ?? "").toLowerCase() === "svg" ? "an SVG image" : "an HTML document";
    return { ok: false, reason: `"${name}" was refused: it is ${what}, which can carry scripts. Attach ${ALLOWED_TEXT}.` };
  }
  const lower = name.toLowerCase();
  if (lower.endsWith(".json")) return { ok: true, contentType: "application/json", kind: "JSON document" };
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) {
    return { ok: true, contentType: "application/yaml", kind: "YAML document" };
  }
  return { ok: true, contentType: "text/plain", kind: "Plain text" };
}

export async function checkFile(file: File): Promise<FileVerdict> {
  if (file.size > MAX_FILE_BYTES || file.size === 0) return judgeBytes(new Uint8Array(), file.name, file.size);
  const head = new Uint8Array(await file.slice(0, 8192).arrayBuffer());
  return judgeBytes(head, file.name, file.size);
}
