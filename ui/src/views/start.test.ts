// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { createStore } from "../store";
import { mountStart, type StartActions, type StartState, validateSsoSlug } from "./start";

function mount(actions?: StartActions) {
  const root = document.createElement("div");
  document.body.append(root);
  const store = createStore<StartState>({ appInfo: { status: "loading" } });
  const unmount = mountStart(root, store, actions);
  return { root, store, unmount };
}

/** A promise and the function that settles it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

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
      "sso-slug",
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

  it("checks the organisation name before signing in with it", () => {
    expect(validateSsoSlug("")).toMatch(/sign-in name/);
    expect(validateSsoSlug("../admin")).toMatch(/letters, digits and hyphens/);
    expect(validateSsoSlug("-acme")).toBeDefined();
    expect(validateSsoSlug(" Acme ")).toBeUndefined();
    expect(validateSsoSlug("acme-labs")).toBeUndefined();
    const { root } = mount();
    const form = root.querySelector<HTMLFormElement>("#sign-in-sso");
    input(root, "sso-slug").value = "a/b";
    form?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(input(root, "sso-slug").getAttribute("aria-invalid")).toBe("true");
    expect(root.querySelector("#sso-status")?.textContent).toBe("");
    input(root, "sso-slug").value = "acme";
    form?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(root.querySelector("#sso-status")?.textContent).toBe("Signing in needs the desktop app.");
  });

  it("waits for the browser while signing in with the organisation", async () => {
    const result = deferred<string | null>();
    const slugs: string[] = [];
    const { root } = mount({
      signIn: () => Promise.resolve(null),
      join: () => Promise.resolve(null),
      signInSso: (slug) => {
        slugs.push(slug);
        return result.promise;
      },
    });
    const form = root.querySelector<HTMLFormElement>("#sign-in-sso");
    const button = form?.querySelector<HTMLButtonElement>("button[type=submit]");
    const cancel = root.querySelector<HTMLButtonElement>("#sso-cancel");
    expect(button?.textContent).toBe("Sign in with your organisation");
    expect(cancel?.hidden).toBe(true);
    input(root, "sso-slug").value = " Acme ";
    form?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(slugs).toEqual(["acme"]);
    expect(root.querySelector("#sso-status")?.textContent).toMatch(/^Waiting for your browser…/);
    expect(button?.disabled).toBe(true);
    expect(cancel?.hidden).toBe(false);
    result.resolve("your organisation's sign-in refused: no organisation matches this account");
    await settle();
    expect(root.querySelector("#sso-status")?.textContent).toMatch(/refused/);
    expect(root.querySelector("#sso-status")?.classList.contains("error")).toBe(true);
    expect(button?.disabled).toBe(false);
    expect(cancel?.hidden).toBe(true);
  });

  it("cancels the wait for the browser", async () => {
    const result = deferred<string | null>();
    let cancelled = 0;
    const { root } = mount({
      signIn: () => Promise.resolve(null),
      join: () => Promise.resolve(null),
      signInSso: () => result.promise,
      cancelSignInSso: () => {
        cancelled += 1;
        // The shell answers the pending sign-in with an error.
        result.resolve("sign-in cancelled");
        return Promise.resolve();
      },
    });
    input(root, "sso-slug").value = "acme";
    root.querySelector<HTMLFormElement>("#sign-in-sso")?.dispatchEvent(new Event("submit", { cancelable: true }));
    root.querySelector<HTMLButtonElement>("#sso-cancel")?.click();
    expect(cancelled).toBe(1);
    await settle();
    expect(root.querySelector("#sso-status")?.textContent).toBe("Sign-in cancelled.");
    expect(root.querySelector<HTMLButtonElement>("#sso-cancel")?.hidden).toBe(true);
  });
});
