// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { createStore } from "../store";
import { mountStart, type StartState } from "./start";

function mount() {
  const root = document.createElement("div");
  document.body.append(root);
  const store = createStore<StartState>({ appInfo: { status: "loading" } });
  const unmount = mountStart(root, store);
  return { root, store, unmount };
}

function input(root: HTMLElement, id: string): HTMLInputElement {
  const el = root.querySelector<HTMLInputElement>(`#${id}`);
  if (el === null) throw new Error(`no #${id}`);
  return el;
}

afterEach(() => document.body.replaceChildren());

describe("start screen", () => {
  it("labels every input", () => {
    const { root } = mount();
    const inputs = [...root.querySelectorAll("input")];
    expect(inputs.map((i) => i.id)).toEqual([
      "sign-in-email",
      "sign-in-password",
      "join-meeting-id",
      "join-name",
    ]);
    for (const i of inputs) {
      expect(root.querySelector(`label[for="${i.id}"]`)?.textContent).toMatch(/\S/);
    }
    expect(root.querySelector("h1")?.textContent).toBe("Confer");
    const headings = [...root.querySelectorAll("h2")].map((el) => el.textContent);
    expect(headings).toEqual(["Sign in", "Join a meeting"]);
  });

  it("shows the version once the shell answers", () => {
    const { root, store } = mount();
    const version = root.querySelector("#app-version");
    expect(version?.textContent).toBe("Loading…");
    store.set({
      appInfo: {
        status: "ready",
        info: { name: "Confer", version: "0.1.0", tauriVersion: "2.12.5", os: "linux" },
      },
    });
    expect(version?.textContent).toBe("Confer 0.1.0");
  });

  it("groups the meeting id as it is typed", () => {
    const { root } = mount();
    const id = input(root, "join-meeting-id");
    id.value = "4821937650";
    id.dispatchEvent(new Event("input"));
    expect(id.value).toBe("482 193 7650");
  });

  it("marks bad fields and focuses the first one on submit", () => {
    const { root } = mount();
    const form = root.querySelector<HTMLFormElement>("#join");
    input(root, "join-meeting-id").value = "123";
    input(root, "join-name").value = "Ada";
    form?.dispatchEvent(new Event("submit", { cancelable: true }));
    const id = input(root, "join-meeting-id");
    expect(id.getAttribute("aria-invalid")).toBe("true");
    expect(root.querySelector("#join-meeting-id-error")?.textContent).toMatch(/9 to 11 digits/);
    expect(document.activeElement).toBe(id);
    expect(input(root, "join-name").hasAttribute("aria-invalid")).toBe(false);
  });
});
