// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { HostControl, Participant, SelfControl } from "../bindings";
import { applyUpdate, connectingMeeting, type MeetingState } from "../meeting_state";
import { createStore } from "../store";
import { type MeetingActions, mountMeeting } from "./meeting";

function person(id: number, name: string, extra: Partial<Participant> = {}): Participant {
  return { id, name, role: "participant", guest: false, external: false, muted: false, video: false, handRaised: false, sharing: false, recording: false, ...extra };
}

function mount(role: Participant["role"] = "host") {
  const root = document.createElement("div");
  document.body.append(root);
  const store = createStore<MeetingState>(
    applyUpdate(connectingMeeting(), {
      type: "joined",
      meetingId: 482193765,
      selfId: 1,
      encryption: "transport",
      participants: [person(1, "Ada", { role }), person(2, "Bo", { guest: true, handRaised: true }), person(3, "Cy", { external: true, recording: true })],
    }),
  );
  const selfControls: SelfControl[] = [];
  const hostControls: HostControl[] = [];
  const actions: MeetingActions = {
    selfControl: vi.fn(async (c: SelfControl) => (selfControls.push(c), null)),
    hostControl: vi.fn(async (c: HostControl) => (hostControls.push(c), null)),
    chat: vi.fn(async () => null),
    leave: vi.fn(async () => null),
    togglePanel: (panel) => store.update((s) => ({ ...s, panel: s.panel === panel ? "none" : panel })),
    close: vi.fn(),
  };
  const unmount = mountMeeting(root, store, actions);
  return { root, store, actions, selfControls, hostControls, unmount };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => document.body.replaceChildren());

describe("meeting screen", () => {
  it("draws a tile per participant with markers, self first", () => {
    const { root } = mount();
    const tiles = [...root.querySelectorAll<HTMLElement>(".tile")];
    expect(tiles.map((t) => t.dataset["participantId"])).toEqual(["1", "2", "3"]);
    expect(tiles[0]?.getAttribute("aria-label")).toBe("Ada (you), Host");
    expect(tiles[1]?.getAttribute("aria-label")).toBe("Bo, Hand raised, Guest");
    expect(tiles[2]?.querySelector(".marker.recording")?.textContent).toBe("Recording");
    expect(root.querySelector("#encryption")?.textContent).toMatch(/Encrypted in transit/);
  });

  it("labels every control and exposes shortcuts", () => {
    const { root } = mount();
    for (const b of root.querySelectorAll<HTMLButtonElement>(".controls button")) {
      expect(b.getAttribute("aria-label")).toMatch(/\S/);
    }
    expect(root.querySelector("#ctl-mute")?.getAttribute("aria-keyshortcuts")).toBe("Control+D");
  });

  it("mutes on Ctrl+D and talks while space is held", async () => {
    const { store, selfControls } = mount();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "d", ctrlKey: true }));
    expect(selfControls).toEqual([{ action: "mute", muted: true }]);
    store.update((s) => applyUpdate(s, { type: "participant", participant: person(1, "Ada", { role: "host", muted: true }) }));
    document.dispatchEvent(new KeyboardEvent("keydown", { key: " " }));
    document.dispatchEvent(new KeyboardEvent("keyup", { key: " " }));
    expect(selfControls.slice(1)).toEqual([
      { action: "mute", muted: false },
      { action: "mute", muted: true },
    ]);
    await flush();
  });

  it("gives hosts per-participant controls and asks before removing", async () => {
    const { root, hostControls } = mount();
    root.querySelector<HTMLButtonElement>("#ctl-participants")?.click();
    expect(root.querySelector<HTMLElement>("#participants-panel")?.hidden).toBe(false);
    root.querySelector<HTMLButtonElement>('button[data-action="mute"][data-participant-id="2"]')?.click();
    expect(hostControls).toEqual([{ action: "mute", participant: 2 }]);
    root.querySelector<HTMLButtonElement>('button[data-action="expel"][data-participant-id="3"]')?.click();
    expect(hostControls).toHaveLength(1);
    expect(root.querySelector('[role="alertdialog"]')?.textContent).toMatch(/Remove Cy/);
    root.querySelector<HTMLButtonElement>("#confirm-ok")?.click();
    await flush();
    expect(hostControls[1]).toEqual({ action: "expel", participant: 3 });
  });

  it("shows no host controls to participants, and no End for all", () => {
    const { root } = mount("participant");
    expect(root.querySelector('button[data-action="mute"]')).toBeNull();
    expect(root.querySelector<HTMLElement>("#ctl-end")?.hidden).toBe(true);
  });

  it("sends chat to everyone or privately and shows messages as text", async () => {
    const { root, store, actions } = mount();
    root.querySelector<HTMLButtonElement>("#ctl-chat")?.click();
    const input = root.querySelector<HTMLInputElement>("#chat-input");
    const to = root.querySelector<HTMLSelectElement>("#chat-to");
    if (input === null || to === null) throw new Error("no chat form");
    to.value = "2";
    input.value = "psst";
    root.querySelector("#chat-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect(actions.chat).toHaveBeenCalledWith(2, "psst");
    store.update((s) => applyUpdate(s, { type: "chat", id: 9, from: 3, fromName: "Cy", to: null, text: "<b>hi</b>", own: false }));
    const line = root.querySelector('#chat-log [data-chat-id="9"]');
    expect(line?.querySelector(".chat-text")?.textContent).toBe("<b>hi</b>");
    expect(line?.querySelector("b")).toBeNull();
    await flush();
  });

  it("shows why the meeting ended and offers the way home", () => {
    const { root, store, actions } = mount();
    store.update((s) => applyUpdate(s, { type: "ended", kind: "expelled", reason: "A host removed you from the meeting." }));
    expect(root.querySelector("#banner-text")?.textContent).toBe("A host removed you from the meeting.");
    root.querySelector<HTMLButtonElement>("#back-home")?.click();
    expect(actions.close).toHaveBeenCalled();
  });
});
