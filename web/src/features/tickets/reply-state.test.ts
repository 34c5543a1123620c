import { filesReducer, initialFiles, type FilesState } from "./reply-state";

const file = (name: string, size = 10) => new File(["x".repeat(size)], name, { lastModified: 1 });
const ok = { ok: true as const, contentType: "text/plain", kind: "Plain text" };

function add(state: FilesState, ...names: string[]): FilesState {
  return filesReducer(state, { type: "add", checked: names.map((name) => ({ file: file(name), verdict: ok })) });
}

describe("the reply box's files", () => {
  it("keeps allowed files and lists the refused ones with their reason", () => {
    const state = filesReducer(initialFiles, {
      type: "add",
      checked: [
        { file: file("a.log"), verdict: ok },
        { file: file("setup.txt"), verdict: { ok: false, reason: '"setup.txt" was refused: it is a Windows executable' } },
      ],
    });
    expect(state.files.map((f) => f.file.name)).toEqual(["a.log"]);
    expect(state.refused).toEqual(['"setup.txt" was refused: it is a Windows executable']);
  });

  it("takes at most three files, and a name once", () => {
    const state = add(add(initialFiles, "a.log", "b.log"), "a.log", "c.log", "d.log");
    expect(state.files.map((f) => f.file.name)).toEqual(["a.log", "b.log", "c.log"]);
    expect(state.refused).toEqual(['"a.log" is already attached.', '"d.log" was not added: a reply carries at most 3 files.']);
  });

  it("follows each upload: 0% when sending starts, progress per file, done, or its error", () => {
    let state = filesReducer(add(initialFiles, "a.log", "big.log"), { type: "sending" });
    expect(state.files.map((f) => [f.state, f.progress])).toEqual([
      ["sending", 0],
      ["sending", 0],
    ]);
    state = filesReducer(state, { type: "progress", name: "big.log", progress: { loaded: 3, total: 4 } });
    state = filesReducer(state, { type: "progress", name: "a.log", progress: "done" });
    expect(state.files.map((f) => [f.file.name, f.state, f.progress])).toEqual([
      ["a.log", "sent", 100],
      ["big.log", "sending", 75],
    ]);
    state = filesReducer(state, { type: "progress", name: "big.log", progress: { error: "Upload refused" } });
    expect(state.files[1]).toMatchObject({ state: "failed", error: "Upload refused" });
  });

  it("removes a file, and forgets everything after a reply was sent", () => {
    const state = add(initialFiles, "a.log", "b.log");
    const key = state.files[0]?.key ?? "";
    expect(filesReducer(state, { type: "remove", key }).files.map((f) => f.file.name)).toEqual(["b.log"]);
    expect(filesReducer(state, { type: "reset" })).toEqual(initialFiles);
  });
});
