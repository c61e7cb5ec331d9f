// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MeetingSettings, ScheduledMeeting } from "../bindings";
import { createStore } from "../store";
import { type HomeActions, type HomeState, mountHome } from "./home";

const meeting: ScheduledMeeting = {
  meetingId: 482193765,
  topic: "Design review",
  hasPasscode: true,
  startTime: null,
  durationMinutes: null,
  waitingRoom: true,
  joinBeforeHost: true,
  e2e: true,
  inviteUrl: null,
};

function mount() {
  const root = document.createElement("div");
  document.body.append(root);
  const store = createStore<HomeState>({ email: "ada@example.com", remembered: true, meetings: [meeting], loading: false, listError: null });
  const scheduled: MeetingSettings[] = [];
  const actions: HomeActions = {
    refresh: vi.fn(),
    schedule: vi.fn(async (s: MeetingSettings) => (scheduled.push(s), null)),
    edit: vi.fn(async () => null),
    remove: vi.fn(async () => null),
    join: vi.fn(async () => null),
    signOut: vi.fn(),
    toggleTheme: vi.fn(),
    openSettings: vi.fn(),
  };
  mountHome(root, store, actions);
  return { root, store, actions, scheduled };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
afterEach(() => document.body.replaceChildren());

describe("home screen", () => {
  it("shows who is signed in: the name when known, and the email", () => {
    const { root, store } = mount();
    const name = root.querySelector<HTMLElement>("#account-name");
    expect(name?.hidden).toBe(true);
    expect(root.querySelector("#account-email")?.textContent).toBe("ada@example.com");
    store.update((s) => ({ ...s, displayName: "Ada Lovelace", remembered: false }));
    expect(name?.hidden).toBe(false);
    expect(name?.textContent).toBe("Ada Lovelace");
    expect(root.querySelector("#account-email")?.textContent).toBe("ada@example.com (until you quit)");
  });

  it("lists meetings with their security chips", () => {
    const { root } = mount();
    const row = root.querySelector('[data-meeting-id="482193765"]');
    expect(row?.querySelector(".meeting-topic")?.textContent).toBe("Design review");
    const chips = [...(row?.querySelectorAll(".chip") ?? [])].map((c) => c.textContent);
    expect(chips).toEqual(["End-to-end encrypted", "Passcode", "Waiting room"]);
  });

  it("schedules with the security settings ticked", async () => {
    const { root, scheduled } = mount();
    const topic = root.querySelector<HTMLInputElement>("#schedule-topic");
    const e2e = root.querySelector<HTMLInputElement>("#schedule-e2e");
    if (topic === null || e2e === null) throw new Error("no form");
    topic.value = "Standup";
    e2e.checked = true;
    root.querySelector("#schedule")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(scheduled[0]).toMatchObject({ topic: "Standup", e2e: true, passcode: null });
    expect(root.querySelector("#schedule-status")?.textContent).toBe("Scheduled.");
  });

  it("edits a meeting in the same form", async () => {
    const { root, actions } = mount();
    root.querySelector<HTMLButtonElement>(".edit-meeting")?.click();
    expect(root.querySelector("#schedule-title")?.textContent).toBe("Edit Design review");
    expect(root.querySelector<HTMLInputElement>("#schedule-waiting-room")?.checked).toBe(true);
    root.querySelector("#schedule")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(actions.edit).toHaveBeenCalledWith(482193765, expect.objectContaining({ topic: "Design review", passcode: null }));
  });

  it("deletes only after confirmation", async () => {
    const { root, actions } = mount();
    root.querySelector<HTMLButtonElement>(".delete-meeting")?.click();
    root.querySelector<HTMLButtonElement>("#confirm-cancel")?.click();
    await flush();
    expect(actions.remove).not.toHaveBeenCalled();
    root.querySelector<HTMLButtonElement>(".delete-meeting")?.click();
    root.querySelector<HTMLButtonElement>("#confirm-ok")?.click();
    await flush();
    expect(actions.remove).toHaveBeenCalledWith(482193765);
  });

  it("joins a meeting from its row", () => {
    const { root, actions } = mount();
    root.querySelector<HTMLButtonElement>(".join-meeting")?.click();
    expect(actions.join).toHaveBeenCalledWith("482193765", "");
  });

  it("opens settings from the top bar", () => {
    const { root, actions } = mount();
    const button = root.querySelector<HTMLButtonElement>("#open-settings");
    expect(button?.hidden).toBe(false);
    expect(button?.getAttribute("aria-label")).toBe("Settings");
    button?.click();
    expect(actions.openSettings).toHaveBeenCalled();
  });
});
