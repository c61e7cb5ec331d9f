// @vitest-environment happy-dom
import type { Channel } from "@tauri-apps/api/core";
import { afterEach, describe, expect, it } from "vitest";
import type { AppSettings, AuthState, LaunchLink, MeetingUpdate } from "./bindings";
import { startApp } from "./app";
import type { Shell } from "./ipc";

const signedOut: AuthState = { serverUrl: "https://127.0.0.1:8443", email: null, displayName: null, remembered: false };

const settings: AppSettings = {
  microphone: null,
  camera: "pattern",
  speaker: null,
  noiseSuppression: true,
  echoCancellation: true,
  autoGain: true,
  videoQuality: "medium",
  joinMuted: true,
  joinVideoOff: false,
};

/** The device and settings commands of a working shell. */
const devices = {
  media_devices: () => ({
    microphones: [
      { id: "tone", name: "Test tone", isDefault: false },
      { id: "usb", name: "USB mic", isDefault: true },
    ],
    cameras: [{ id: "pattern", name: "Test pattern", isDefault: false }],
    speakers: [{ id: "none", name: "No sound", isDefault: false }],
  }),
  get_settings: () => settings,
  save_settings: (args: Record<string, unknown> | undefined) => args?.["settings"],
  start_preview: () => null,
  stop_preview: () => null,
  test_speaker: () => null,
};

function fakeShell(answers: Record<string, (args: Record<string, unknown> | undefined) => unknown>) {
  const calls: Array<[string, Record<string, unknown> | undefined]> = [];
  let emit: (u: MeetingUpdate) => void = () => {};
  let emitLevel: (p: { level: number }) => void = () => {};
  let emitLaunchLink: () => void = () => {};
  const shell: Shell = {
    isTauri: () => true,
    invoke: async <T>(command: string, args?: Record<string, unknown>) => {
      calls.push([command, args]);
      const answer = answers[command];
      if (answer === undefined) throw { kind: "internal", message: `no ${command}` };
      return answer(args) as T;
    },
    channel: <T>() => ({ id: 1 }) as unknown as Channel<T>,
    listen: async <T>(event: string, handler: (payload: T) => void) => {
      if (event === "preview-level") emitLevel = handler as (p: { level: number }) => void;
      else if (event === "launch-link") emitLaunchLink = () => handler(null as T);
      else emit = handler as (u: MeetingUpdate) => void;
      return () => {};
    },
  };
  return {
    shell,
    calls,
    emit: (u: MeetingUpdate) => emit(u),
    emitPreviewLevel: (level: number) => emitLevel({ level }),
    emitLaunchLink: () => emitLaunchLink(),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

/** Fills in and submits the start screen's sign-in form as ada@example.com. */
function signInWithForm(root: HTMLElement): void {
  const email = root.querySelector<HTMLInputElement>("#sign-in-email");
  const password = root.querySelector<HTMLInputElement>("#sign-in-password");
  if (email === null || password === null) throw new Error("no sign-in form");
  email.value = "ada@example.com";
  password.value = "pw";
  root.querySelector("#sign-in")?.dispatchEvent(new Event("submit", { cancelable: true }));
}
afterEach(() => document.body.replaceChildren());

describe("app", () => {
  it("signs in, lists meetings, joins one and follows its events", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      sign_in: () => ({ ...signedOut, email: "ada@example.com", displayName: "Ada Lovelace", remembered: true }),
      list_meetings: () => [],
      join_meeting: () => null,
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    expect(app.screen()).toBe("start");

    signInWithForm(root);
    await flush();
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#account-email")?.textContent).toBe("ada@example.com");
    expect(root.querySelector("#account-name")?.textContent).toBe("Ada Lovelace");

    const box = root.querySelector<HTMLInputElement>("#home-join-meeting");
    if (box === null) throw new Error("no join box");
    box.value = "482 193 765";
    root.querySelector("#home-join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    // The pre-join screen comes first, over home, with the saved defaults.
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#prejoin")).not.toBeNull();
    await flush();
    expect(root.querySelector<HTMLInputElement>("#prejoin-muted")?.checked).toBe(true);
    expect(root.querySelector<HTMLSelectElement>("#prejoin-camera")?.value).toBe("pattern");
    expect(fake.calls.find(([c]) => c === "start_preview")?.[1]).toMatchObject({ camera: "pattern", microphone: null });
    fake.emitPreviewLevel(0.25);
    expect(root.querySelector("#prejoin-level")?.getAttribute("aria-valuenow")).toBe("0");
    root.querySelector<HTMLInputElement>("#prejoin-muted")?.click();
    fake.emitPreviewLevel(0.25);
    expect(root.querySelector("#prejoin-level")?.getAttribute("aria-valuenow")).toBe("50");
    root.querySelector<HTMLInputElement>("#prejoin-video-off")?.click();
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    expect(app.screen()).toBe("meeting");
    expect(root.querySelector("#prejoin")).toBeNull();
    expect(fake.calls.filter(([c]) => c === "stop_preview").length).toBeGreaterThan(0);
    expect(fake.calls.find(([c]) => c === "join_meeting")?.[1]).toMatchObject({
      request: { meeting: "482 193 765", displayName: null, passcode: null, muted: false, videoOff: true },
    });
    fake.emit({ type: "joined", meetingId: 482193765, selfId: 1, encryption: "transport", participants: [] });
    expect(app.meeting.get().phase).toBe("joined");
  });

  it("shows a refused join in plain words and stays on the screen", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      join_meeting: () => Promise.reject({ kind: "refused", message: "no such meeting" }),
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    const id = root.querySelector<HTMLInputElement>("#join-meeting-id");
    const name = root.querySelector<HTMLInputElement>("#join-name");
    if (id === null || name === null) throw new Error("no join form");
    id.value = "482193765";
    name.value = "Guest";
    root.querySelector("#join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    // No devices or preview in this shell: the screen says so and still joins.
    expect(root.querySelector("#prejoin-error")?.textContent).toMatch(/\S/);
    root.querySelector<HTMLButtonElement>("#prejoin-join")?.click();
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    expect(app.screen()).toBe("start");
    expect(root.querySelector("#prejoin")).toBeNull();
    expect(root.querySelector("#join-status")?.textContent).toBe("No such meeting.");
    expect(id.value).toBe("482193765");
  });

  it("cancels the pre-join screen, stopping the preview, and joins nothing", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    const id = root.querySelector<HTMLInputElement>("#join-meeting-id");
    const name = root.querySelector<HTMLInputElement>("#join-name");
    if (id === null || name === null) throw new Error("no join form");
    id.value = "482193765";
    name.value = "Guest";
    root.querySelector("#join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    root.querySelector("#prejoin")?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await flush();
    expect(root.querySelector("#prejoin")).toBeNull();
    expect(fake.calls.map(([c]) => c)).toContain("stop_preview");
    expect(fake.calls.map(([c]) => c)).not.toContain("join_meeting");
    expect(root.querySelector("#join-status")?.textContent).toBe("");
  });

  it("saves a device picked before joining and restarts the preview with it", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    const id = root.querySelector<HTMLInputElement>("#join-meeting-id");
    const name = root.querySelector<HTMLInputElement>("#join-name");
    if (id === null || name === null) throw new Error("no join form");
    id.value = "482193765";
    name.value = "Guest";
    root.querySelector("#join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    const mic = root.querySelector<HTMLSelectElement>("#prejoin-microphone");
    if (mic === null) throw new Error("no microphone picker");
    expect([...mic.options].map((o) => o.textContent)).toEqual(["System default", "Test tone", "USB mic (default)"]);
    mic.value = "tone";
    mic.dispatchEvent(new Event("change"));
    await flush();
    expect(fake.calls.find(([c]) => c === "save_settings")?.[1]).toMatchObject({ settings: { microphone: "tone", camera: "pattern" } });
    expect(fake.calls.filter(([c]) => c === "start_preview").at(-1)?.[1]).toMatchObject({ microphone: "tone" });
    root.querySelector<HTMLButtonElement>("#prejoin-test-speaker")?.click();
    await flush();
    expect(fake.calls.find(([c]) => c === "test_speaker")?.[1]).toEqual({ speaker: null });
  });

  it("in a meeting: picks what to share, sends reactions, shows chat as sending, opens settings", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = fakeShell({
      app_info: () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" }),
      auth_state: () => signedOut,
      join_meeting: () => null,
      share_sources: () => [{ id: "screen:0", name: "Screen 1", kind: "screen", thumbnail: null }],
      start_share: () => null,
      react: () => null,
      send_chat: () => Promise.reject({ kind: "not_in_meeting", message: "not in a meeting" }),
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    const id = root.querySelector<HTMLInputElement>("#join-meeting-id");
    const name = root.querySelector<HTMLInputElement>("#join-name");
    if (id === null || name === null) throw new Error("no join form");
    id.value = "482193765";
    name.value = "Guest";
    root.querySelector("#join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    expect(app.screen()).toBe("meeting");
    fake.emit({
      type: "joined",
      meetingId: 482193765,
      selfId: 1,
      encryption: "end_to_end",
      participants: [{ id: 1, name: "Guest", role: "participant", guest: true, external: false, muted: false, video: false, handRaised: false, sharing: false, recording: false }],
    });

    root.querySelector<HTMLButtonElement>("#ctl-share")?.click();
    await flush();
    const source = root.querySelector<HTMLButtonElement>('.share-source[data-source-id="screen:0"]');
    expect(source?.getAttribute("aria-label")).toBe("Share screen: Screen 1");
    source?.click();
    await flush();
    expect(fake.calls.find(([c]) => c === "start_share")?.[1]).toEqual({ sourceId: "screen:0" });
    expect(root.querySelector("#share-picker")).toBeNull();

    root.querySelector<HTMLButtonElement>("#ctl-react")?.click();
    root.querySelector<HTMLButtonElement>('[data-emoji="👏"]')?.click();
    await flush();
    expect(fake.calls.find(([c]) => c === "react")?.[1]).toEqual({ emoji: "👏" });

    root.querySelector<HTMLButtonElement>("#ctl-chat")?.click();
    const input = root.querySelector<HTMLInputElement>("#chat-input");
    if (input === null) throw new Error("no chat input");
    input.value = "hello";
    root.querySelector("#chat-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(app.meeting.get().chat.map((c) => c.delivery)).toEqual(["sending"]);
    await flush();
    // The send failed: the line goes, the text comes back, the error shows.
    expect(app.meeting.get().chat).toEqual([]);
    expect(input.value).toBe("hello");
    expect(root.querySelector("#notices")?.textContent).toBe("Not in a meeting.");

    root.querySelector<HTMLButtonElement>("#ctl-settings")?.click();
    await flush();
    expect(root.querySelector<HTMLSelectElement>("#settings-camera")?.value).toBe("pattern");
    root.querySelector("#settings-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(fake.calls.filter(([c]) => c === "save_settings")).toHaveLength(1);
    expect(root.querySelector("#settings-dialog")).toBeNull();
  });
});

describe("confer://join links the app is opened with", () => {
  const appInfo = () => ({ name: "Confer", version: "0.1.0", tauriVersion: "2", os: "linux" });
  const signedInAuth: AuthState = { ...signedOut, email: "ada@example.com", remembered: true };

  /** A shell whose `take_launch_link` hands out `links` one by one, then null. */
  function linkShell(auth: AuthState, links: LaunchLink[]) {
    const queue = [...links];
    return fakeShell({
      app_info: appInfo,
      auth_state: () => auth,
      sign_in: () => signedInAuth,
      list_meetings: () => [],
      take_launch_link: () => queue.shift() ?? null,
      ...devices,
    });
  }

  const taken = (fake: ReturnType<typeof fakeShell>) => fake.calls.filter(([c]) => c === "take_launch_link").length;

  /** Starts the app with `auth` and `links` waiting, and lets it settle. */
  async function startWithLinks(auth: AuthState, links: LaunchLink[]) {
    const root = document.createElement("div");
    document.body.append(root);
    const fake = linkShell(auth, links);
    const app = startApp(root, fake.shell);
    await app.ready;
    await flush();
    return { root, fake, app };
  }

  it("opens the pre-join screen for the linked meeting once signed in", async () => {
    const { root, fake, app } = await startWithLinks(signedInAuth, [{ kind: "meeting", meeting: "482193765" }]);
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#prejoin .tagline")?.textContent).toBe("Meeting 482 193 765");
    expect(root.querySelector<HTMLElement>("#home-notice")?.hidden).toBe(true);
    // Joining from it sends the linked meeting, as the join box would.
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(fake.calls.find(([c]) => c === "join_meeting")?.[1]).toMatchObject({ request: { meeting: "482193765" } });
  });

  it("says a link that came before sign-in is waiting, and opens it once signed in", async () => {
    const { root, fake, app } = await startWithLinks(signedOut, [{ kind: "meeting", meeting: "4821937650" }]);
    expect(app.screen()).toBe("start");
    expect(taken(fake)).toBe(1);
    expect(root.querySelector("#prejoin")).toBeNull();
    // The start screen says so, and the guest join box holds the meeting.
    const notice = root.querySelector<HTMLElement>("#start-notice");
    expect(notice?.hidden).toBe(false);
    expect(notice?.textContent).toContain("meeting 482 193 7650 is ready: sign in to open it");
    expect(root.querySelector<HTMLInputElement>("#join-meeting-id")?.value).toBe("482 193 7650");

    signInWithForm(root);
    await flush();
    await flush();
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#prejoin .tagline")?.textContent).toBe("Meeting 482 193 7650");
    expect(app.start.get().link).toBeNull();
  });

  it("keeps a link until the keyring has said who is signed in", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    let answer: (auth: AuthState) => void = () => {};
    const fake = fakeShell({
      app_info: appInfo,
      auth_state: () => new Promise<AuthState>((resolve) => (answer = resolve)),
      list_meetings: () => [],
      take_launch_link: () => ({ kind: "meeting", meeting: "482193765" }),
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await flush();
    // A link announced while the keyring is still answering stays in the shell.
    fake.emitLaunchLink();
    await flush();
    expect(taken(fake)).toBe(0);
    answer(signedInAuth);
    await app.ready;
    await flush();
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#prejoin .tagline")?.textContent).toBe("Meeting 482 193 765");
  });

  it("uses up a waiting link when the user joins it as a guest", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const links: LaunchLink[] = [{ kind: "meeting", meeting: "4821937650" }];
    const fake = fakeShell({
      app_info: appInfo,
      auth_state: () => signedOut,
      take_launch_link: () => links.shift() ?? null,
      join_meeting: () => null,
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    await flush();
    const name = root.querySelector<HTMLInputElement>("#join-name");
    if (name === null) throw new Error("no join form");
    name.value = "Grace";
    root.querySelector("#join")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    root.querySelector("#prejoin-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    await flush();
    expect(fake.calls.find(([c]) => c === "join_meeting")?.[1]).toMatchObject({
      request: { meeting: "482 193 7650", displayName: "Grace" },
    });
    expect(app.screen()).toBe("meeting");
    expect(app.start.get().link).toBeNull();
    expect(app.start.get().notice).toBeNull();
  });

  it("says on the start screen that a link names no meeting", async () => {
    const message = "that link does not open a Confer meeting";
    const { root, app } = await startWithLinks(signedOut, [{ kind: "invalid", message }]);
    expect(app.screen()).toBe("start");
    expect(root.querySelector("#start-notice")?.textContent).toBe("That link does not open a Confer meeting.");
    expect(root.querySelector<HTMLInputElement>("#join-meeting-id")?.value).toBe("");
  });

  it("says a link names no meeting and stays on the home screen", async () => {
    const message = "that link does not open a Confer meeting";
    const { root, fake, app } = await startWithLinks(signedInAuth, [{ kind: "invalid", message }]);
    expect(app.screen()).toBe("home");
    expect(root.querySelector("#prejoin")).toBeNull();
    const notice = root.querySelector<HTMLElement>("#home-notice");
    expect(notice?.hidden).toBe(false);
    expect(notice?.textContent).toBe("That link does not open a Confer meeting.");
    expect(fake.calls.map(([c]) => c)).not.toContain("start_preview");
  });

  it("takes a link handed to the running app when the shell announces it", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const links: LaunchLink[] = [];
    const fake = fakeShell({
      app_info: appInfo,
      auth_state: () => signedInAuth,
      list_meetings: () => [],
      take_launch_link: () => links.shift() ?? null,
      ...devices,
    });
    const app = startApp(root, fake.shell);
    await app.ready;
    await flush();
    expect(taken(fake)).toBe(1);
    expect(root.querySelector("#prejoin")).toBeNull();
    links.push({ kind: "meeting", meeting: "482193765" });
    fake.emitLaunchLink();
    await flush();
    expect(taken(fake)).toBe(2);
    expect(root.querySelector("#prejoin .tagline")?.textContent).toBe("Meeting 482 193 765");
  });
});
