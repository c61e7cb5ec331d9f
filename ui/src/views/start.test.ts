// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { createStore } from "../store";
import { linkWaitingNotice, mountStart, SSO_TEXT, type SsoLink, type StartActions, type StartState, validateSsoSlug } from "./start";

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
  it("shows a waiting link's notice and fills in the join box once, keeping later edits", () => {
    const { root, store } = mount();
    const notice = root.querySelector<HTMLElement>("#start-notice");
    expect(notice?.hidden).toBe(true);
    store.update((s) => ({ ...s, link: "4821937650", notice: linkWaitingNotice("4821937650") }));
    expect(notice?.hidden).toBe(false);
    expect(notice?.textContent).toBe(
      "Your link to meeting 482 193 7650 is ready: sign in to open it, or enter your name under “Join a meeting” to join as a guest.",
    );
    const id = input(root, "join-meeting-id");
    expect(id.value).toBe("482 193 7650");
    // The user edits the id; redrawing with the same link keeps the edit.
    id.value = "111 222 333";
    store.update((s) => ({ ...s, appInfo: { status: "loading" } }));
    expect(id.value).toBe("111 222 333");
    // A different link replaces it.
    store.update((s) => ({ ...s, link: "999888777" }));
    expect(id.value).toBe("999 888 777");
    store.update((s) => ({ ...s, link: null, notice: null }));
    expect(notice?.hidden).toBe(true);
  });

  it("labels every input", () => {
    const { root } = mount();
    const inputs = [...root.querySelectorAll("input")];
    expect(inputs.map((i) => i.id)).toEqual([
      "sign-in-email",
      "sign-in-password",
      "sso-slug",
      "sso-link",
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
        info: { name: "Confer", version: "0.1.0", tauriVersion: "2.12.5", os: "linux", compositing: "software" },
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
    expect(root.querySelector("#sso-status")?.textContent).toBe(SSO_TEXT.opening);
    expect(button?.disabled).toBe(true);
    expect(cancel?.hidden).toBe(false);
    result.resolve("your organisation's sign-in refused: no organisation matches this account");
    await settle();
    expect(root.querySelector("#sso-status")?.textContent).toMatch(/refused/);
    expect(root.querySelector("#sso-status")?.classList.contains("error")).toBe(true);
    expect(button?.disabled).toBe(false);
    expect(cancel?.hidden).toBe(true);
  });

  it("shows the sign-in link while waiting, whether or not the browser opened", async () => {
    const url = "https://meet.example.org/sso/acme/start?redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fsso%2Fdone&state=s";
    for (const browserOpened of [true, false]) {
      const result = deferred<string | null>();
      let show: ((link: SsoLink) => void) | undefined;
      const { root, unmount } = mount({
        signIn: () => Promise.resolve(null),
        join: () => Promise.resolve(null),
        signInSso: (_slug, showLink) => {
          show = showLink;
          return result.promise;
        },
      });
      const waiting = root.querySelector<HTMLElement>("#sso-waiting");
      expect(waiting?.hidden).toBe(true);
      input(root, "sso-slug").value = "acme";
      root.querySelector<HTMLFormElement>("#sign-in-sso")?.dispatchEvent(new Event("submit", { cancelable: true }));
      show?.({ url, browserOpened });
      const status = root.querySelector("#sso-status")?.textContent;
      expect(status).toBe(browserOpened ? SSO_TEXT.waiting : SSO_TEXT.noBrowser);
      if (browserOpened) expect(status).toBe("Waiting for your browser… If it didn't open, open this link:");
      expect(waiting?.hidden).toBe(false);
      const link = input(root, "sso-link");
      expect(link.value).toBe(url);
      expect(link.readOnly).toBe(true);
      // Labelled, reachable with Tab (a plain text field), and described by the status.
      expect(root.querySelector('label[for="sso-link"]')?.textContent).toBe(SSO_TEXT.linkLabel);
      expect(link.tabIndex).not.toBe(-1);
      expect(link.getAttribute("aria-describedby")).toBe("sso-status");
      expect(root.querySelector<HTMLButtonElement>("#sso-copy")?.textContent).toBe(SSO_TEXT.copy);
      // Still cancellable while the link shows.
      expect(root.querySelector<HTMLButtonElement>("#sso-cancel")?.hidden).toBe(false);
      result.resolve("no sign-in arrived from the browser within 300 s; start again");
      await settle();
      expect(waiting?.hidden).toBe(true);
      expect(link.value).toBe("");
      expect(root.querySelector("#sso-status")?.textContent).toMatch(/no sign-in arrived/);
      unmount();
    }
  });

  it("copies the sign-in link", async () => {
    const copied: string[] = [];
    Object.defineProperty(navigator, "clipboard", {
      configurable: true,
      value: { writeText: (text: string) => (copied.push(text), Promise.resolve()) },
    });
    const { root } = mount({
      signIn: () => Promise.resolve(null),
      join: () => Promise.resolve(null),
      signInSso: (_slug, showLink) => {
        showLink({ url: "https://meet.example.org/sso/acme/start?state=s", browserOpened: false });
        return new Promise(() => undefined);
      },
    });
    input(root, "sso-slug").value = "acme";
    root.querySelector<HTMLFormElement>("#sign-in-sso")?.dispatchEvent(new Event("submit", { cancelable: true }));
    root.querySelector<HTMLButtonElement>("#sso-copy")?.click();
    await settle();
    expect(copied).toEqual(["https://meet.example.org/sso/acme/start?state=s"]);
    expect(root.querySelector("#sso-copy-status")?.textContent).toBe(SSO_TEXT.copied);
  });

  it("opens the settings from the start screen", () => {
    let opened = 0;
    const { root } = mount({
      signIn: () => Promise.resolve(null),
      join: () => Promise.resolve(null),
      openSettings: () => {
        opened += 1;
      },
    });
    const button = root.querySelector<HTMLButtonElement>("#open-settings");
    expect(button?.hidden).toBe(false);
    expect(button?.getAttribute("aria-label")).toBe("Settings");
    expect(button?.type).toBe("button");
    button?.click();
    expect(opened).toBe(1);
  });

  it("hides the settings button when nothing can open them", () => {
    const { root } = mount();
    expect(root.querySelector<HTMLButtonElement>("#open-settings")?.hidden).toBe(true);
  });

  it("cancels the wait for the browser", async () => {
    const result = deferred<string | null>();
    let cancelled = 0;
    const { root } = mount({
      signIn: () => Promise.resolve(null),
      join: () => Promise.resolve(null),
      signInSso: (_slug, showLink) => {
        showLink({ url: "https://meet.example.org/sso/acme/start?state=s", browserOpened: true });
        return result.promise;
      },
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
    expect(root.querySelector<HTMLElement>("#sso-waiting")?.hidden).toBe(true);
    expect(input(root, "sso-link").value).toBe("");
  });
});
