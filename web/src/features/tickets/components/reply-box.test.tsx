import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { setConfigForTests } from "@/lib/config";
import { ReplyBox } from "./reply-box";

function renderBox(forSupport = false) {
  setConfigForTests({ apiUrl: "http://api.test", auth: "local", supportRole: "support" });
  const client = new QueryClient();
  return render(
    <QueryClientProvider client={client}>
      <ReplyBox ticketId="T1" forSupport={forSupport} />
    </QueryClientProvider>,
  );
}

describe("ReplyBox", () => {
  it("refuses an executable named .txt before any upload, with the reason", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    renderBox();
    const exe = new File([new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0])], "setup.txt", { type: "text/plain" });
    await userEvent.upload(screen.getByLabelText("Attach files"), exe);
    expect(await screen.findByRole("alert")).toHaveTextContent(/"setup\.txt" was refused: it is a Windows executable/);
    expect(screen.queryByRole("list", { name: "Files to send" })).toBeNull();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("lists an allowed file with its type and size, and says large ones go direct", async () => {
    renderBox();
    const log = new File(["ERROR pod crashed\n".repeat(300_000)], "app.log");
    await userEvent.upload(screen.getByLabelText("Attach files"), log);
    const files = await screen.findByRole("list", { name: "Files to send" });
    expect(files).toHaveTextContent("app.log");
    expect(files).toHaveTextContent("Plain text · 5.1 MB · direct upload");
    expect(screen.getByRole("button", { name: "Upload files" })).toBeEnabled();
  });

  it("offers support an internal note, clearly marked", async () => {
    renderBox(true);
    await userEvent.click(screen.getByLabelText("Internal note (only the support team sees it)"));
    expect(screen.getByRole("heading", { name: "Internal note" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Add internal note" })).toBeDisabled();
  });

  it("takes files dropped on the box, judging them the same way", async () => {
    renderBox();
    const zone = screen.getByText(/Drop files here/).closest("div") as HTMLElement;
    const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])], "shot.png");
    const zip = new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 20, 0])], "logs.txt");
    fireEvent.drop(zone, { dataTransfer: { files: [png, zip], types: ["Files"] } });
    expect(await screen.findByRole("list", { name: "Files to send" })).toHaveTextContent("shot.pngPNG image");
    expect(screen.getByRole("alert")).toHaveTextContent(/"logs\.txt" was refused: it is a ZIP archive/);
  });
});
