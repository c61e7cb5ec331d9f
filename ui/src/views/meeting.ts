/**
 * The meeting screen: a header with the meeting's encryption state and
 * security code (always visible) and the connection quality, banners for
 * joining / waiting / reconnecting / ended, the tiles in gallery or
 * speaker view, the controls bar (with reactions), and the chat and
 * participants side panels.
 *
 * Everything drawn comes from the {@link MeetingState} store; controls call
 * {@link MeetingActions} and the shell's answer arrives back as state.
 */

import type { ConnectionQuality, HostControl, Participant, SelfControl } from "../bindings";
import { h, s } from "../dom";
import { formatMeetingId } from "../meeting_id";
import { type ChatLine, isHost, isSpeaking, type Layout, type MeetingState, self } from "../meeting_state";
import { isTextField, SHORTCUTS, shortcutFor } from "../shortcuts";
import type { Store } from "../store";
import { askConfirm } from "./confirm";
import { ReactionLayer, REACTION_TEXT, reactionPopover } from "./reactions";
import { LayerChooser, layerFor, type VideoLayer } from "../video_layer";
import { arrange, gridFor, LAYOUT_TEXT, pager } from "./speaker_view";
import { icon, type IconName } from "./icons";
import { markers, roleLabel, tile } from "./tile";

/** Every new word the meeting screen shows, in one place for translation. */
export const MEETING_TEXT = {
  e2e: "End-to-end encrypted",
  transport: "Encrypted in transit",
  codeLabel: "Security code",
  codePending: "Security code: waiting for the group to form…",
  e2eDetail:
    "Only the people in this meeting can see and hear it; the server relays sealed media and chat. Compare the security code aloud: if everyone sees the same code, no one else is listening in. It changes when people join or leave.",
  transportDetail:
    "Standard meeting: connections to the meeting server are encrypted (TLS 1.3), and the server handles the media. For end-to-end encryption, schedule the meeting with it turned on.",
  about: "About this meeting's security",
  quality: { good: "Good connection", fair: "Fair connection", poor: "Poor connection" } satisfies Record<ConnectionQuality, string>,
  qualityUnknown: "Connection: measuring…",
  qualityDetail: (rtt: number | null, loss: number) =>
    `${rtt === null ? "Round trip not measured yet" : `Round trip ${rtt} ms`} · ${loss.toFixed(1)}% of packets lost`,
  reconnecting: "Connection lost. Reconnecting…",
  settings: "Settings",
  sending: "Sending…",
  delivered: "Delivered",
  e2eChat: "End-to-end encrypted",
  screenOf: (name: string) => `${name}'s screen`,
  screenWaiting: (name: string) => `Waiting for ${name}'s screen…`,
};

/** What the meeting screen does; each resolves to an error to show, or null. */
export interface MeetingActions {
  selfControl(control: SelfControl): Promise<string | null>;
  hostControl(control: HostControl): Promise<string | null>;
  chat(to: number | null, text: string): Promise<string | null>;
  leave(): Promise<string | null>;
  togglePanel(panel: "chat" | "participants"): void;
  /** Back to the home screen once the meeting is over. */
  close(): void;
  /** The canvas a participant's video is drawn on, if video is shown. */
  videoCanvas?(participant: number): HTMLCanvasElement;
  /** The canvas a participant's screen share is drawn on. */
  screenCanvas?(participant: number): HTMLCanvasElement;
  /** Receives a participant's camera at the layer that suits its tile. */
  videoLayer?(participant: number, layer: VideoLayer): void;
  /** Sends a reaction. */
  react?(emoji: string): Promise<string | null>;
  /** Starts sharing (the app asks what to share) or stops; without it
   * the share button sends the plain `share` self control. */
  share?(on: boolean): Promise<string | null>;
  /** Opens the settings dialog. */
  openSettings?(): void;
  /** Switches gallery / speaker view. */
  setLayout?(layout: Layout): void;
  /** Moves the gallery by `delta` pages. */
  movePage?(delta: number): void;
}

/** Groups a security code's digits in fours for reading aloud
 * ("042199301877" → "0421 9930 1877"); other text is kept as it is. */
export function groupCode(code: string): string {
  const digits = code.replace(/\s+/g, "");
  if (!/^\d+$/.test(digits)) return code;
  return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
}

function control(id: string, label: string, iconName: IconName, shortcut?: string): HTMLButtonElement {
  return h(
    "button",
    {
      type: "button",
      id,
      class: "control",
      "aria-label": label,
      "aria-keyshortcuts": shortcut,
      title: shortcut === undefined ? label : `${label} (${shortcut.replace("Control", "Ctrl")})`,
    },
    h("span", { class: "control-icon", "aria-hidden": "true" }, icon(iconName)),
    h("span", { class: "control-text" }, label),
  );
}

/** Swaps a control's icon (mute and video show their state). */
function setIcon(button: HTMLButtonElement, name: IconName): void {
  const holder = button.querySelector(".control-icon");
  if (holder !== null && holder.firstElementChild?.getAttribute("data-icon") !== name) holder.replaceChildren(icon(name));
}

/** A count on a control (unread chat, people), or none. The button's
 * accessible label carries the same number in words. */
function setBadge(button: HTMLButtonElement, count: number | null): void {
  let badge = button.querySelector<HTMLElement>(".badge");
  if (count === null) {
    badge?.remove();
    return;
  }
  if (badge === null) {
    badge = h("span", { class: "badge", "aria-hidden": "true" });
    button.querySelector(".control-icon")?.append(badge);
  }
  badge.textContent = String(count);
}

function setControl(button: HTMLButtonElement, label: string, pressed: boolean | null, text: string = label): void {
  button.setAttribute("aria-label", label);
  const words = button.querySelector(".control-text");
  if (words !== null) words.textContent = text;
  if (pressed === null) button.removeAttribute("aria-pressed");
  else button.setAttribute("aria-pressed", String(pressed));
}

/** A padlock drawn in SVG (no emoji: not every system font has one). */
function lockIcon(): SVGElement {
  return s(
    "svg",
    { class: "lock-icon", viewBox: "0 0 16 16", "aria-hidden": "true", focusable: "false" },
    s("path", { d: "M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z" }),
  );
}


/** Draws the meeting screen into `root`; returns a function that detaches it. */
export function mountMeeting(root: HTMLElement, store: Store<MeetingState>, actions: MeetingActions): () => void {
  const notices = h("div", { id: "notices", class: "notices", "aria-live": "polite" });
  const say = (error: string | null) => {
    if (error !== null) notices.replaceChildren(h("p", { class: "notice error" }, error));
  };

  // Header.
  const title = h("h1", { id: "meeting-title", class: "meeting-title" }, "Joining…");
  const encryption = h("button", { type: "button", id: "encryption", class: "encryption", "aria-expanded": "false", "aria-controls": "encryption-detail" });
  const encryptionDetail = h("div", { id: "encryption-detail", class: "encryption-detail", role: "note", hidden: true });
  encryption.addEventListener("click", () => {
    encryptionDetail.hidden = !encryptionDetail.hidden;
    encryption.setAttribute("aria-expanded", String(!encryptionDetail.hidden));
  });
  for (const el of [encryption, encryptionDetail] as HTMLElement[]) {
    el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !encryptionDetail.hidden) {
        e.stopPropagation();
        encryption.click();
        encryption.focus();
      }
    });
  }
  const connection = h("p", { id: "connection", class: "connection", tabindex: 0 }, h("span", { class: "quality-bars", "aria-hidden": "true" }, h("i"), h("i"), h("i")), h("span", { class: "quality-text" }));
  const count = h("p", { id: "participant-count", class: "count" });
  const header = h("header", { class: "meeting-bar" }, title, h("div", { class: "encryption-wrap" }, encryption, encryptionDetail), connection, count);

  // Banner.
  const bannerText = h("p", { id: "banner-text" });
  const backHome = h("button", { type: "button", class: "primary", id: "back-home" }, "Back to home");
  backHome.addEventListener("click", () => actions.close());
  const banner = h("div", { id: "banner", class: "banner", role: "alert" }, bannerText, backHome);

  // Gallery (and speaker view: same tiles, laid out by CSS).
  const gallery = h("section", { id: "gallery", class: "gallery", "aria-label": "Participants' video" });
  const tiles = new Map<number, HTMLElement>();
  const paging = pager((delta) => actions.movePage?.(delta));
  const announcer = h("p", { id: "reaction-announcer", class: "visually-hidden", "aria-live": "polite" });
  const reactionLayer = new ReactionLayer(store.get().reactions, announcer);

  // Chat panel.
  const chatLog = h("ol", { id: "chat-log", class: "chat-log", "aria-live": "polite", "aria-label": "Messages" });
  const chatTo = h("select", { id: "chat-to", "aria-label": "Send to" });
  const chatInput = h("input", { id: "chat-input", type: "text", maxlength: 4096, autocomplete: "off", "aria-label": "Message", placeholder: "Message" });
  const chatSend = h("button", { type: "submit", class: "primary", id: "chat-send" }, "Send");
  const chatForm = h("form", { id: "chat-form", class: "chat-form" }, chatTo, chatInput, chatSend);
  chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = chatInput.value.trim();
    if (text === "") return;
    const to = chatTo.value === "" ? null : Number(chatTo.value);
    chatInput.value = "";
    void actions.chat(to, text).then((error) => {
      if (error !== null) {
        chatInput.value = text;
        say(error);
      }
    });
  });
  const chatPanel = h(
    "aside",
    { id: "chat-panel", class: "side-panel", "aria-labelledby": "chat-title", hidden: true },
    h("h2", { id: "chat-title" }, "Chat"),
    chatLog,
    chatForm,
  );

  // Participants panel.
  const people = h("ul", { id: "participant-list", class: "participant-list" });
  const waitingList = h("ul", { id: "waiting-list", class: "participant-list" });
  const waitingSection = h("section", { id: "waiting-section", "aria-labelledby": "waiting-title", hidden: true }, h("h3", { id: "waiting-title" }, "Waiting to enter"), waitingList);
  const muteAll = h("button", { type: "button", class: "secondary", id: "mute-all" }, "Mute all");
  const lock = h("button", { type: "button", class: "secondary", id: "lock", "aria-pressed": "false" }, "Lock meeting");
  const hostTools = h("div", { class: "host-tools", hidden: true }, muteAll, lock);
  const peoplePanel = h(
    "aside",
    { id: "participants-panel", class: "side-panel", "aria-labelledby": "participants-title", hidden: true },
    h("h2", { id: "participants-title" }, "Participants"),
    hostTools,
    waitingSection,
    people,
  );
  let locked = false;
  const host = (c: HostControl) => void actions.hostControl(c).then(say);
  muteAll.addEventListener("click", () => {
    void askConfirm(root, "Mute everyone except hosts?", "Mute all").then((yes) => {
      if (yes) host({ action: "mute", participant: null });
    });
  });
  lock.addEventListener("click", () => {
    const want = !locked;
    void actions.hostControl({ action: "lock", locked: want }).then((error) => {
      if (error === null) {
        locked = want;
        lock.textContent = locked ? "Unlock meeting" : "Lock meeting";
        lock.setAttribute("aria-pressed", String(locked));
      } else say(error);
    });
  });

  // Controls bar.
  const mute = control("ctl-mute", "Mute", "mic", SHORTCUTS.toggle_mute);
  const video = control("ctl-video", "Start video", "videoOff", SHORTCUTS.toggle_video);
  const share = control("ctl-share", "Share screen", "share", SHORTCUTS.toggle_share);
  const chat = control("ctl-chat", "Chat", "chat", SHORTCUTS.toggle_chat);
  const participants = control("ctl-participants", "Participants", "people");
  const hand = control("ctl-hand", "Raise hand", "hand", SHORTCUTS.toggle_hand);
  const react = control("ctl-react", REACTION_TEXT.button, "react");
  const popover = reactionPopover(react, (emoji) => void actions.react?.(emoji).then(say));
  const layout = control("ctl-layout", LAYOUT_TEXT.speakerView, "speaker", SHORTCUTS.toggle_layout);
  const settings = control("ctl-settings", MEETING_TEXT.settings, "settings");
  const leave = control("ctl-leave", "Leave", "leave", SHORTCUTS.leave);
  leave.classList.add("leave");
  const end = control("ctl-end", "End for all", "end");
  end.classList.add("leave");
  react.hidden = actions.react === undefined;
  layout.hidden = actions.setLayout === undefined;
  settings.hidden = actions.openSettings === undefined;
  const bar = h(
    "nav",
    { class: "controls", "aria-label": "Meeting controls" },
    mute,
    video,
    share,
    h("div", { class: "reaction-anchor" }, react, popover),
    chat,
    participants,
    hand,
    layout,
    settings,
    leave,
    end,
  );

  const me = () => self(store.get());
  const toggleMute = (muted?: boolean) => {
    const m = me();
    if (m !== undefined) void actions.selfControl({ action: "mute", muted: muted ?? !m.muted }).then(say);
  };
  const toggleVideo = () => {
    const m = me();
    if (m !== undefined) void actions.selfControl({ action: "video", on: !m.video }).then(say);
  };
  const toggleShare = () => {
    const m = me();
    if (m === undefined) return;
    if (actions.share !== undefined) void actions.share(!m.sharing).then(say);
    else void actions.selfControl({ action: "share", on: !m.sharing }).then(say);
  };
  const toggleLayout = () => actions.setLayout?.(store.get().layout === "gallery" ? "speaker" : "gallery");
  const toggleHand = () => {
    const m = me();
    if (m !== undefined) void actions.selfControl({ action: "hand", raised: !m.handRaised }).then(say);
  };
  const doLeave = () => void actions.leave().then(say);
  mute.addEventListener("click", () => toggleMute());
  video.addEventListener("click", toggleVideo);
  share.addEventListener("click", toggleShare);
  hand.addEventListener("click", toggleHand);
  chat.addEventListener("click", () => actions.togglePanel("chat"));
  participants.addEventListener("click", () => actions.togglePanel("participants"));
  layout.addEventListener("click", toggleLayout);
  settings.addEventListener("click", () => actions.openSettings?.());
  leave.addEventListener("click", doLeave);
  end.addEventListener("click", () => {
    void askConfirm(root, "End the meeting for everyone?", "End for all").then((yes) => {
      if (yes) host({ action: "end" });
    });
  });

  // Keyboard shortcuts; space talks while held when muted.
  let talking = false;
  const onKeyDown = (e: KeyboardEvent) => {
    if (store.get().phase !== "joined") return;
    const action = shortcutFor({ ...e, key: e.key, inTextField: isTextField(e.target) });
    if (action === null) return;
    e.preventDefault();
    switch (action) {
      case "toggle_mute":
        return toggleMute();
      case "toggle_video":
        return toggleVideo();
      case "toggle_share":
        return toggleShare();
      case "toggle_hand":
        return toggleHand();
      case "toggle_chat":
        return actions.togglePanel("chat");
      case "toggle_layout":
        return toggleLayout();
      case "leave":
        return doLeave();
      case "push_to_talk":
        if (me()?.muted === true && !talking) {
          talking = true;
          toggleMute(false);
        }
    }
  };
  const onKeyUp = (e: KeyboardEvent) => {
    if (e.key === " " && talking) {
      talking = false;
      toggleMute(true);
    }
  };
  document.addEventListener("keydown", onKeyDown);
  document.addEventListener("keyup", onKeyUp);

  // Someone else's screen share, large above the gallery while it lasts.
  const screenCaption = h("p", { class: "screen-caption" });
  const screenWaiting = h("p", { class: "screen-waiting" });
  const screenStage = h("section", { id: "screen-stage", class: "screen-stage", hidden: "" }, screenWaiting, screenCaption);
  const galleryWrap = h("div", { class: "gallery-wrap" }, screenStage, gallery, paging.element);
  let shownScreen: number | null = null;
  const layers = new LayerChooser();

  const screen = h(
    "main",
    { class: "meeting", "aria-labelledby": "meeting-title" },
    header,
    banner,
    notices,
    h("div", { class: "stage" }, galleryWrap, chatPanel, peoplePanel),
    bar,
    announcer,
  );

  const personRow = (p: Participant, state: MeetingState): HTMLElement => {
    const isSelf = p.id === state.selfId;
    const role = roleLabel(p);
    const row = h(
      "li",
      { class: "person", "data-participant-id": String(p.id) },
      h("span", { class: "person-name" }, isSelf ? `${p.name} (you)` : p.name),
      role === null ? "" : h("span", { class: "tile-role" }, role),
      h("span", { class: "person-markers" }, markers(p).map(([, l]) => l).join(", ")),
    );
    if (isHost(state) && !isSelf && p.role !== "host") {
      const button = (action: string, label: string, run: () => void) => {
        const b = h("button", { type: "button", class: "small", "data-action": action, "data-participant-id": String(p.id), "aria-label": `${label}: ${p.name}` }, label);
        b.addEventListener("click", run);
        return b;
      };
      const tools = h("span", { class: "person-tools" });
      if (p.muted) tools.append(button("ask_unmute", "Ask to unmute", () => host({ action: "ask_unmute", participant: p.id })));
      else tools.append(button("mute", "Mute", () => host({ action: "mute", participant: p.id })));
      if (p.video) tools.append(button("stop_video", "Stop video", () => host({ action: "stop_video", participant: p.id })));
      tools.append(
        button("expel", "Remove", () => {
          void askConfirm(root, `Remove ${p.name} from the meeting? They cannot rejoin.`, "Remove").then((yes) => {
            if (yes) host({ action: "expel", participant: p.id });
          });
        }),
      );
      row.append(tools);
    }
    return row;
  };

  const chatLine = (c: ChatLine, state: MeetingState): HTMLElement => {
    const to = c.to === null ? null : state.participants.find((p) => p.id === c.to)?.name ?? "someone";
    const who = c.own ? "You" : c.fromName;
    const head = c.to === null ? who : `${who} → ${c.to === state.selfId ? "you" : to} (private)`;
    const meta = h("span", { class: "chat-meta" });
    if (c.e2e) meta.append(h("span", { class: "chat-e2e", title: MEETING_TEXT.e2eChat }, lockIcon(), h("span", { class: "visually-hidden" }, MEETING_TEXT.e2eChat)));
    if (c.own) meta.append(h("span", { class: `chat-delivery ${c.delivery}` }, c.delivery === "sending" ? MEETING_TEXT.sending : MEETING_TEXT.delivered));
    return h(
      "li",
      { class: `chat-line${c.own ? " own" : ""}${c.to === null ? "" : " private"}${c.delivery === "sending" ? " sending" : ""}`, "data-chat-id": String(c.id) },
      h("span", { class: "chat-from" }, head, meta),
      h("span", { class: "chat-text" }, c.text),
    );
  };

  const qualityBars = connection.querySelector(".quality-bars");
  const qualityText = connection.querySelector(".quality-text");
  const drawEncryption = (state: MeetingState): void => {
    const e2e = state.encryption === "end_to_end";
    const badge: Array<Node | string> = [lockIcon(), h("span", { class: "encryption-kind" }, e2e ? MEETING_TEXT.e2e : MEETING_TEXT.transport)];
    if (e2e && state.securityCode !== null) {
      badge.push(h("span", { id: "security-code", class: "security-code", "aria-label": `${MEETING_TEXT.codeLabel} ${groupCode(state.securityCode)}` }, groupCode(state.securityCode)));
    }
    encryption.replaceChildren(...badge);
    encryption.dataset["encryption"] = state.encryption;
    const detail = e2e ? MEETING_TEXT.e2eDetail : MEETING_TEXT.transportDetail;
    encryption.title = detail;
    encryption.setAttribute(
      "aria-label",
      `${e2e ? MEETING_TEXT.e2e : MEETING_TEXT.transport}${e2e && state.securityCode !== null ? `. ${MEETING_TEXT.codeLabel} ${groupCode(state.securityCode)}` : ""}. ${MEETING_TEXT.about}`,
    );
    encryptionDetail.replaceChildren(
      h("p", {}, detail),
      e2e ? h("p", { class: "code-line" }, state.securityCode === null ? MEETING_TEXT.codePending : `${MEETING_TEXT.codeLabel}: ${groupCode(state.securityCode)}`) : "",
    );
  };

  let last: MeetingState | null = null;
  const draw = (state: MeetingState): void => {
    const idText = state.meetingId === null ? "" : formatMeetingId(String(state.meetingId));
    title.textContent = state.phase === "joined" ? `Meeting ${idText}` : state.phase === "ended" ? "Meeting over" : "Joining…";

    // Encryption badge: what protects the meeting, and the code to compare
    // (redrawn only when they change, so the open explanation stays put).
    if (state.encryption !== last?.encryption || state.securityCode !== last.securityCode) drawEncryption(state);

    // Connection quality.
    const c = state.connection;
    connection.hidden = state.phase !== "joined";
    connection.dataset["quality"] = c?.quality ?? "unknown";
    const qualityWords = c === null ? MEETING_TEXT.qualityUnknown : MEETING_TEXT.quality[c.quality];
    const qualityDetail = c === null ? "" : MEETING_TEXT.qualityDetail(c.rttMs, c.lossPercent);
    if (qualityText !== null) qualityText.textContent = qualityWords;
    if (qualityBars instanceof HTMLElement) qualityBars.dataset["quality"] = c?.quality ?? "unknown";
    connection.title = qualityDetail;
    connection.setAttribute("aria-label", qualityDetail === "" ? qualityWords : `${qualityWords}: ${qualityDetail}`);
    count.textContent = state.phase === "joined" ? `${state.participants.length} in the meeting` : "";

    // Banner.
    let bannerMessage: string | null = null;
    if (state.phase === "connecting") bannerMessage = state.transport === null ? "Connecting…" : "Joining…";
    else if (state.phase === "waiting") bannerMessage = state.waitingReason ?? "Waiting to enter.";
    else if (state.phase === "ended") bannerMessage = state.ended?.reason ?? "The meeting is over.";
    else if (c?.reconnecting === true) bannerMessage = MEETING_TEXT.reconnecting;
    banner.hidden = bannerMessage === null;
    bannerText.textContent = bannerMessage ?? "";
    banner.dataset["kind"] = state.ended?.kind ?? (state.phase === "joined" && c?.reconnecting === true ? "reconnecting" : state.phase);
    backHome.hidden = state.phase !== "ended";

    // Notices (the latest host actions and refusals).
    if (state.notices !== last?.notices && state.notices.length > 0) {
      notices.replaceChildren(...state.notices.map((n) => h("p", { class: "notice", title: n }, n)));
    }

    // Screen share: the first other participant sharing.
    const sharer = state.phase === "joined" ? state.participants.find((p) => p.sharing && p.id !== state.selfId) : undefined;
    const sharerCanvas = sharer === undefined ? undefined : actions.screenCanvas?.(sharer.id);
    if (sharer === undefined || sharerCanvas === undefined) {
      screenStage.hidden = true;
      galleryWrap.classList.remove("with-screen");
      shownScreen = null;
    } else {
      screenStage.hidden = false;
      galleryWrap.classList.add("with-screen");
      screenStage.setAttribute("aria-label", MEETING_TEXT.screenOf(sharer.name));
      screenCaption.textContent = MEETING_TEXT.screenOf(sharer.name);
      screenWaiting.textContent = MEETING_TEXT.screenWaiting(sharer.name);
      if (shownScreen !== sharer.id || sharerCanvas.parentElement !== screenStage) {
        screenStage.querySelector("canvas")?.remove();
        screenStage.classList.toggle("has-video", !sharerCanvas.hidden);
        screenStage.prepend(sharerCanvas);
        shownScreen = sharer.id;
      }
    }

    // Tiles: the page's (gallery) or the speaker and the filmstrip.
    const { shown, main } = arrange(state);
    gallery.dataset["layout"] = state.layout;
    // Tiles are kept per participant and updated in place, and the gallery
    // is only reordered when its order changes: a video canvas that moves
    // in the document loses its picture in WebKitGTK until composited again.
    const elements = shown.map((p) => {
      const canvas = actions.videoCanvas?.(p.id);
      const speaking = isSpeaking(state, p.id);
      // Rebuild a tile's caption and markers only when what they show
      // changed: levels redraw ~10 times a second, and fresh nodes over a
      // composited video canvas can miss a frame in WebKitGTK.
      const signature = JSON.stringify([p, p.id === state.selfId, speaking, canvas?.hidden ?? true]);
      const known = tiles.get(p.id);
      let el: HTMLElement;
      if (known === undefined) {
        el = tile(p, p.id === state.selfId, canvas, false, speaking);
        el.dataset["signature"] = signature;
      } else {
        el = known;
        if (el.dataset["signature"] !== signature) {
          const fresh = tile(p, p.id === state.selfId, canvas, false, speaking);
          el.className = fresh.className;
          el.setAttribute("aria-label", fresh.getAttribute("aria-label") ?? "");
          // Keep the canvas and any reaction still floating.
          for (const child of [...el.childNodes]) {
            if (child !== canvas && !(child instanceof HTMLElement && child.classList.contains("reaction-float"))) child.remove();
          }
          el.append(...fresh.childNodes);
          el.dataset["signature"] = signature;
        }
      }
      tiles.set(p.id, el);
      el.classList.toggle("main", p.id === main);
      if (canvas !== undefined && canvas.parentElement !== el) el.prepend(canvas);
      return el;
    });
    for (const id of [...tiles.keys()]) if (!shown.some((p) => p.id === id)) tiles.delete(id);
    const same = elements.length === gallery.children.length && elements.every((el, i) => gallery.children[i] === el);
    if (!same) gallery.replaceChildren(...elements);
    gallery.dataset["count"] = String(shown.length);
    // Each camera at the layer its tile's size needs.
    if (actions.videoLayer !== undefined && state.phase === "joined") {
      layers.retain(state.participants.map((p) => p.id));
      for (const el of elements) {
        const id = Number(el.dataset["participantId"]);
        if (id === state.selfId || !Number.isFinite(id)) continue;
        const layer = layers.choose(id, layerFor(el.clientWidth, globalThis.devicePixelRatio || 1));
        if (layer !== null) actions.videoLayer(id, layer);
      }
    }
    const grid = gridFor(shown.length);
    gallery.style.setProperty("--cols", String(grid.cols));
    gallery.style.setProperty("--rows", String(grid.rows));
    paging.draw(state);
    reactionLayer.show(state.reactions, (id) => tiles.get(id));

    // Controls.
    const m = self(state);
    const joined = state.phase === "joined" && m !== undefined;
    for (const b of [mute, video, share, hand, react, leave]) b.disabled = !joined;
    if (!joined) popover.hidden = true;
    setControl(mute, m?.muted === true ? "Unmute" : "Mute", m?.muted ?? false);
    setIcon(mute, m?.muted === true ? "micOff" : "mic");
    setControl(video, m?.video === true ? "Stop video" : "Start video", m?.video ?? false);
    setIcon(video, m?.video === true ? "video" : "videoOff");
    setControl(share, m?.sharing === true ? "Stop sharing" : "Share screen", m?.sharing ?? false);
    setControl(hand, m?.handRaised === true ? "Lower hand" : "Raise hand", m?.handRaised ?? false);
    setControl(layout, state.layout === "gallery" ? LAYOUT_TEXT.speakerView : LAYOUT_TEXT.galleryView, null);
    setIcon(layout, state.layout === "gallery" ? "speaker" : "gallery");
    setControl(chat, state.unread > 0 ? `Chat (${state.unread} new)` : "Chat", state.panel === "chat", "Chat");
    setBadge(chat, state.unread > 0 ? state.unread : null);
    setControl(participants, `Participants (${state.participants.length})`, state.panel === "participants", "Participants");
    setBadge(participants, state.participants.length);
    const hostNow = joined && m.role === "host";
    end.hidden = !hostNow;
    leave.hidden = state.phase === "ended";

    // Side panels. Levels arrive ~10 times a second: redraw the lists only
    // when what they show changed, so typing and scrolling are not disturbed.
    chatPanel.hidden = state.panel !== "chat";
    peoplePanel.hidden = state.panel !== "participants";
    chatSend.disabled = state.phase !== "joined";
    const others = state.participants.filter((p) => p.id !== state.selfId);
    if (state.participants !== last?.participants || state.selfId !== last.selfId) {
      const choice = chatTo.value;
      chatTo.replaceChildren(
        h("option", { value: "" }, "Everyone"),
        ...others.map((p) => h("option", { value: String(p.id) }, `${p.name} (private)`)),
      );
      chatTo.value = others.some((p) => String(p.id) === choice) ? choice : "";
    }
    if (state.chat !== last?.chat || state.participants !== last.participants) {
      const atBottom = chatLog.scrollTop + chatLog.clientHeight >= chatLog.scrollHeight - 8;
      chatLog.replaceChildren(...state.chat.map((line) => chatLine(line, state)));
      if (atBottom) chatLog.scrollTop = chatLog.scrollHeight;
    }
    hostTools.hidden = !isHost(state);
    if (state.participants !== last?.participants || state.selfId !== last.selfId) {
      people.replaceChildren(...state.participants.map((p) => personRow(p, state)));
    }
    waitingSection.hidden = !isHost(state) || state.waiting.length === 0;
    if (state.waiting !== last?.waiting) {
      waitingList.replaceChildren(
        ...state.waiting.map((w) => {
          const admit = h("button", { type: "button", class: "small", "data-action": "admit", "aria-label": `Admit ${w.name}` }, "Admit");
          admit.addEventListener("click", () => host({ action: "admit", participant: w.id }));
          const deny = h("button", { type: "button", class: "small", "data-action": "deny", "aria-label": `Deny ${w.name}` }, "Deny");
          deny.addEventListener("click", () => host({ action: "deny", participant: w.id }));
          return h("li", { class: "person", "data-waiting-id": String(w.id) }, h("span", { class: "person-name" }, w.guest ? `${w.name} (guest)` : w.name), admit, deny);
        }),
      );
    }
    last = state;
  };
  draw(store.get());
  const unsubscribe = store.subscribe(draw);
  root.replaceChildren(screen);
  return () => {
    unsubscribe();
    document.removeEventListener("keydown", onKeyDown);
    document.removeEventListener("keyup", onKeyUp);
    screen.remove();
  };
}
