/** The reply box's files: what was picked, what was refused and why, and each upload's progress. */
import { MAX_FILES_PER_MESSAGE, type FileVerdict } from "@/lib/file-check";
import { percent, type UploadProgress } from "@/lib/upload";

export interface PickedFile {
  key: string;
  file: File;
  contentType: string;
  kind: string;
  /** 0..100 while sending; null before */
  progress: number | null;
  state: "ready" | "sending" | "sent" | "failed";
  error?: string;
}

export interface FilesState {
  files: PickedFile[];
  refused: string[];
}

export type FilesAction =
  | { type: "add"; checked: { file: File; verdict: FileVerdict }[] }
  | { type: "remove"; key: string }
  | { type: "progress"; name: string; progress: UploadProgress | "done" | { error: string } }
  | { type: "sending" }
  | { type: "reset" }
  | { type: "dismiss" };

export const initialFiles: FilesState = { files: [], refused: [] };

/** Attachments allowed per reply: the API's 3 per message; larger files go one by one (presigned). */
export const MAX_FILES = MAX_FILES_PER_MESSAGE;

export function filesReducer(state: FilesState, action: FilesAction): FilesState {
  switch (action.type) {
    case "add": {
      const files = [...state.files];
      const refused: string[] = [];
      for (const { file, verdict } of action.checked) {
        if (!verdict.ok) {
          refused.push(verdict.reason);
        } else if (files.some((picked) => picked.file.name === file.name)) {
          refused.push(`"${file.name}" is already attached.`);
        } else if (files.length >= MAX_FILES) {
          refused.push(`"${file.name}" was not added: a reply carries at most ${MAX_FILES} files.`);
        } else {
          files.push({
            key: `${file.name}:${file.size}:${file.lastModified}`,
            file,
            contentType: verdict.contentType,
            kind: verdict.kind,
            progress: null,
            state: "ready",
          });
        }
      }
      return { files, refused };
    }
    case "remove":
      return { ...state, files: state.files.filter((picked) => picked.key !== action.key) };
    case "sending":
      return { refused: [], files: state.files.map((picked) => ({ ...picked, state: "sending", progress: 0 })) };
    case "progress":
      return {
        ...state,
        files: state.files.map((picked) => {
          if (picked.file.name !== action.name) return picked;
          if (action.progress === "done") return { ...picked, state: "sent", progress: 100 };
          if ("error" in action.progress) return { ...picked, state: "failed", error: action.progress.error };
          return { ...picked, progress: percent(action.progress) };
        }),
      };
    case "reset":
      return initialFiles;
    case "dismiss":
      return { ...state, refused: [] };
  }
}
