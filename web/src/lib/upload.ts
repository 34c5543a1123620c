/**
 * Sending files with real progress: XMLHttpRequest (fetch reports no upload progress). Used for
 * multipart requests to the API and for the presigned S3 POST of large files.
 */

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadResult {
  status: number;
  body: string;
  contentType: string;
}

/** Progress as a whole percentage, never 100 before the server has answered. */
export function percent(progress: UploadProgress | null, done = false): number {
  if (done) return 100;
  if (!progress || progress.total <= 0) return 0;
  return Math.min(99, Math.floor((progress.loaded / progress.total) * 100));
}

export function sendWithProgress(
  url: string,
  body: FormData,
  options: { headers?: Record<string, string>; onProgress?: (progress: UploadProgress) => void; signal?: AbortSignal } = {},
): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [name, value] of Object.entries(options.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) options.onProgress?.({ loaded: event.loaded, total: event.total });
    };
    xhr.onload = () => {
      resolve({ status: xhr.status, body: xhr.responseText, contentType: xhr.getResponseHeader("Content-Type") ?? "" });
    };
    xhr.onerror = () => reject(new TypeError("The upload was interrupted (network error)."));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/** The fields of a presigned POST, then the file last, as S3 requires. */
export function presignedForm(fields: Record<string, string>, file: Blob, filename: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append("file", file, filename);
  return form;
}
