// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { HostControl, Participant, SelfControl } from "../bindings";
import { addPendingChat, applyUpdate, connectingMeeting, type MeetingState, setLayout, setPage } from "../meeting_state";
import { createStore } from "../store";
import { groupCode, type MeetingActions, mountMeeting } from "./meeting";

function person(id: number, name: string, extra: Partial<Participant> = {}): Participant {
  return { id, name, role: "participant", guest: false, external: false, muted: false, video: false, handRaised: false, sharing: false, recording: false, ...extra };
}

function mount(role: Participant["role"] = "host", encryption: "transport" | "end_to_end" = "transport", extra: Participant[] = []) {
  const root = document.createElement("div");
  document.body.append(root);
  const store = createStore<MeetingState>(
    applyUpdate(connectingMeeting(), {
      type: "joined",
      meetingId: 482193765,
      selfId: 1,
      encryption,
      participants: [person(1, "Ada", { role }), person(2, "Bo", { guest: true, handRaised: true }), person(3, "Cy", { external: true, recording: true }), ...extra],
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
    react: vi.fn(async () => null),
    share: vi.fn(async () => null),
    openSettings: vi.fn(),
    setLayout: (layout) => store.update((s) => setLayout(s, layout)),
    movePage: (delta) => store.update((s) => setPage(s, s.page + delta)),
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
    store.update((s) => applyUpdate(s, { type: "chat", id: 9, from: 3, fromName: "Cy", to: null, text: "<b>hi</b>", own: false, e2e: false }));
    expect(root.querySelector('#chat-log [data-chat-id="9"] .chat-e2e')).toBeNull();
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

  it("shows the E2E badge with the grouped security code and explains it", () => {
    const { root, store } = mount("host", "end_to_end");
    const badge = root.querySelector<HTMLButtonElement>("#encryption");
    expect(badge?.textContent).toMatch(/End-to-end encrypted/);
    expect(root.querySelector("#security-code")).toBeNull();
    store.update((s) => applyUpdate(s, { type: "status", securityCode: "042199301877", keyEpochs: 1, rttMs: 35, lossPercent: 0, quality: "good", reconnecting: false }));
    expect(root.querySelector("#security-code")?.textContent).toBe("0421 9930 1877");
    expect(badge?.getAttribute("aria-label")).toMatch(/Security code 0421 9930 1877/);
    expect(badge?.title).toMatch(/Compare the security code aloud/);
    const detail = root.querySelector<HTMLElement>("#encryption-detail");
    expect(detail?.hidden).toBe(true);
    badge?.click();
    expect(detail?.hidden).toBe(false);
    expect(badge?.getAttribute("aria-expanded")).toBe("true");
    expect(detail?.textContent).toMatch(/0421 9930 1877/);
  });

  it("says what a standard meeting is", () => {
    const { root } = mount();
    expect(root.querySelector("#encryption")?.textContent).toBe("Encrypted in transit");
    expect(root.querySelector<HTMLElement>("#encryption")?.title).toMatch(/Standard meeting/);
  });

  it("shows connection quality with details, and a banner while reconnecting", () => {
    const { root, store } = mount();
    const connection = root.querySelector<HTMLElement>("#connection");
    expect(connection?.textContent).toMatch(/measuring/);
    store.update((s) => applyUpdate(s, { type: "status", securityCode: null, keyEpochs: 0, rttMs: 180, lossPercent: 6.25, quality: "poor", reconnecting: false }));
    expect(connection?.dataset["quality"]).toBe("poor");
    expect(connection?.textContent).toBe("Poor connection");
    expect(connection?.getAttribute("aria-label")).toBe("Poor connection: Round trip 180 ms · 6.3% of packets lost");
    expect(root.querySelector<HTMLElement>("#banner")?.hidden).toBe(true);
    store.update((s) => applyUpdate(s, { type: "status", securityCode: null, keyEpochs: 0, rttMs: null, lossPercent: 100, quality: "poor", reconnecting: true }));
    expect(root.querySelector<HTMLElement>("#banner")?.hidden).toBe(false);
    expect(root.querySelector("#banner-text")?.textContent).toBe("Connection lost. Reconnecting…");
    expect(root.querySelector<HTMLElement>("#banner")?.dataset["kind"]).toBe("reconnecting");
  });

  it("highlights whoever speaks and shows them large in speaker view", () => {
    const { root, store } = mount();
    store.update((s) => applyUpdate(s, { type: "levels", levels: [{ id: 3, level: 0.3 }], activeSpeaker: 3 }));
    const cy = root.querySelector<HTMLElement>('.tile[data-participant-id="3"]');
    expect(cy?.classList.contains("speaking")).toBe(true);
    expect(cy?.getAttribute("aria-label")).toMatch(/Speaking/);
    expect(cy?.querySelector(".speaking-bars")).not.toBeNull();
    expect(root.querySelector(".tile.main")).toBeNull();
    const before = [...root.querySelectorAll(".tile")];
    root.querySelector<HTMLButtonElement>("#ctl-layout")?.click();
    expect(root.querySelector<HTMLElement>("#gallery")?.dataset["layout"]).toBe("speaker");
    expect(root.querySelector(".tile.main")?.getAttribute("data-participant-id")).toBe("3");
    // Same tile elements in the same order: CSS moves the large one.
    expect([...root.querySelectorAll(".tile")]).toEqual(before);
    expect(root.querySelector("#ctl-layout")?.getAttribute("aria-label")).toBe("Gallery view");
    store.update((s) => applyUpdate(s, { type: "levels", levels: [{ id: 2, level: 0.3 }], activeSpeaker: 2 }));
    expect(root.querySelector(".tile.main")?.getAttribute("data-participant-id")).toBe("2");
    expect(cy?.classList.contains("speaking")).toBe(false);
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "g", ctrlKey: true, shiftKey: true }));
    expect(root.querySelector<HTMLElement>("#gallery")?.dataset["layout"]).toBe("gallery");
  });

  it("pages a large gallery 25 tiles at a time", () => {
    const extra = Array.from({ length: 30 }, (_, i) => person(10 + i, `P${i}`));
    const { root } = mount("host", "transport", extra);
    expect(root.querySelectorAll("#gallery .tile")).toHaveLength(25);
    expect(root.querySelector<HTMLElement>("#pager")?.hidden).toBe(false);
    expect(root.querySelector("#page-label")?.textContent).toBe("Page 1 of 2");
    expect(root.querySelector<HTMLButtonElement>("#page-prev")?.disabled).toBe(true);
    root.querySelector<HTMLButtonElement>("#page-next")?.click();
    expect(root.querySelectorAll("#gallery .tile")).toHaveLength(8);
    expect(root.querySelector("#page-label")?.textContent).toBe("Page 2 of 2");
    expect(root.querySelector<HTMLButtonElement>("#page-next")?.disabled).toBe(true);
  });

  it("sends reactions from the popover and floats them over the sender's tile", async () => {
    const { root, store, actions } = mount();
    const react = root.querySelector<HTMLButtonElement>("#ctl-react");
    const popover = root.querySelector<HTMLElement>("#reaction-popover");
    expect(react?.getAttribute("aria-label")).toBe("React");
    expect(popover?.hidden).toBe(true);
    react?.click();
    expect(popover?.hidden).toBe(false);
    expect(react?.getAttribute("aria-expanded")).toBe("true");
    const choices = [...(popover?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
    expect(choices.map((b) => b.dataset["emoji"])).toEqual(["👍", "👏", "😂", "😮", "❤️", "🎉", "✋"]);
    for (const b of choices) expect(b.getAttribute("aria-label")).toMatch(/^React with /);
    choices[5]?.click();
    expect(actions.react).toHaveBeenCalledWith("🎉");
    expect(popover?.hidden).toBe(true);
    store.update((s) => applyUpdate(s, { type: "reaction", from: 2, fromName: "Bo", emoji: "👍" }));
    const float = root.querySelector('.tile[data-participant-id="2"] .reaction-float');
    expect(float?.textContent).toBe("👍");
    expect(root.querySelector("#reaction-announcer")?.textContent).toBe("Bo reacted: Thumbs up");
    // A redraw (levels arrive often) keeps the floating reaction.
    store.update((s) => applyUpdate(s, { type: "levels", levels: [], activeSpeaker: null }));
    expect(root.querySelector('.tile[data-participant-id="2"] .reaction-float')).not.toBeNull();
    await flush();
  });

  it("marks our messages sending then delivered, and E2E messages as such", () => {
    const { root, store } = mount("host", "end_to_end");
    store.update((s) => addPendingChat(s, null, "hello"));
    const pending = root.querySelector("#chat-log .chat-line.own");
    expect(pending?.querySelector(".chat-delivery")?.textContent).toBe("Sending…");
    expect(pending?.querySelector(".chat-e2e")?.textContent).toBe("End-to-end encrypted");
    store.update((s) => applyUpdate(s, { type: "chat", id: 4, from: 1, fromName: "Ada", to: null, text: "hello", own: true, e2e: true }));
    const lines = root.querySelectorAll("#chat-log .chat-line");
    expect(lines).toHaveLength(1);
    expect(lines[0]?.getAttribute("data-chat-id")).toBe("4");
    expect(lines[0]?.querySelector(".chat-delivery")?.textContent).toBe("Delivered");
  });

  it("asks the app to share or stop sharing, and opens settings", () => {
    const { root, store, actions } = mount();
    root.querySelector<HTMLButtonElement>("#ctl-share")?.click();
    expect(actions.share).toHaveBeenCalledWith(true);
    store.update((s) => applyUpdate(s, { type: "participant", participant: person(1, "Ada", { role: "host", sharing: true }) }));
    expect(root.querySelector("#ctl-share")?.getAttribute("aria-label")).toBe("Stop sharing");
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "s", ctrlKey: true, shiftKey: true }));
    expect(actions.share).toHaveBeenLastCalledWith(false);
    root.querySelector<HTMLButtonElement>("#ctl-settings")?.click();
    expect(actions.openSettings).toHaveBeenCalled();
  });
});

describe("camera layers", () => {
  it("asks each other participant's camera once at the layer its tile needs", () => {
    const { store, actions } = mount("participant");
    document.body.replaceChildren();
    const asked: [number, string][] = [];
    const root = document.createElement("div");
    document.body.append(root);
    mountMeeting(root, store, { ...actions, videoLayer: (id, layer) => asked.push([id, layer]) });
    // Not laid out here (happy-dom): the default size.
    expect(asked).toEqual([
      [2, "medium"],
      [3, "medium"],
    ]);
    store.update((s) => ({ ...s, panel: "chat" }));
    expect(asked.length).toBe(2);
    // Participant 3 leaves and the server hands the id out again: the
    // newcomer's camera is asked for, not taken as already chosen.
    const three = store.get().participants.find((p) => p.id === 3);
    expect(three).toBeDefined();
    store.update((s) => ({ ...s, participants: s.participants.filter((p) => p.id !== 3) }));
    store.update((s) => ({ ...s, participants: [...s.participants, { ...three!, name: "Newcomer" }] }));
    expect(asked).toEqual([
      [2, "medium"],
      [3, "medium"],
      [3, "medium"],
    ]);
  });
});

describe("screen share", () => {
  it("shows another participant's screen large, waiting until its first picture", () => {
    const { root, store, actions } = mount("participant", "transport", [person(4, "Di", { sharing: true })]);
    // mount() built the screen before screenCanvas existed: remount with it.
    document.body.replaceChildren();
    const canvases = new Map<number, HTMLCanvasElement>();
    const screenCanvas = (id: number) => {
      let c = canvases.get(id);
      if (c === undefined) {
        c = document.createElement("canvas");
        c.className = "video";
        c.hidden = true;
        canvases.set(id, c);
      }
      return c;
    };
    const root2 = document.createElement("div");
    document.body.append(root2);
    mountMeeting(root2, store, { ...actions, screenCanvas });
    const stage = root2.querySelector<HTMLElement>("#screen-stage");
    expect(stage?.hidden).toBe(false);
    expect(stage?.getAttribute("aria-label")).toBe("Di's screen");
    expect(stage?.querySelector("canvas")).toBe(canvases.get(4));
    expect(stage?.querySelector(".screen-waiting")?.textContent).toBe("Waiting for Di's screen…");
    expect(root2.querySelector(".gallery-wrap")?.classList.contains("with-screen")).toBe(true);
    // The share ends: the stage goes, the gallery is whole again.
    store.update((s) => ({ ...s, participants: s.participants.map((p) => ({ ...p, sharing: false })) }));
    expect(stage?.hidden).toBe(true);
    expect(root2.querySelector(".gallery-wrap")?.classList.contains("with-screen")).toBe(false);
    expect(root.isConnected).toBe(false);
  });

  it("does not show our own share back to us", () => {
    const { store, actions } = mount("host");
    document.body.replaceChildren();
    store.update((s) => ({ ...s, participants: s.participants.map((p) => (p.id === 1 ? { ...p, sharing: true } : p)) }));
    const root = document.createElement("div");
    document.body.append(root);
    mountMeeting(root, store, { ...actions, screenCanvas: () => document.createElement("canvas") });
    expect(root.querySelector<HTMLElement>("#screen-stage")?.hidden).toBe(true);
  });
});

describe("groupCode", () => {
  it("groups digits in fours and leaves other text alone", () => {
    expect(groupCode("042199301877")).toBe("0421 9930 1877");
    expect(groupCode("0421 9930 1877")).toBe("0421 9930 1877");
    expect(groupCode("ab-12")).toBe("ab-12");
  });
});
