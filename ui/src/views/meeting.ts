/**
 * The meeting screen: a header with the meeting's encryption state (always
 * visible), banners for joining / waiting / ended, the gallery of tiles,
 * the controls bar, and the chat and participants side panels.
 *
 * Everything drawn comes from the {@link MeetingState} store; controls call
 * {@link MeetingActions} and the shell's answer arrives back as state.
 */

import type { HostControl, Participant, SelfControl } from "../bindings";
import { h, s } from "../dom";
import { formatMeetingId } from "../meeting_id";
import { isHost, type MeetingState, self } from "../meeting_state";
import { isTextField, SHORTCUTS, shortcutFor } from "../shortcuts";
import type { Store } from "../store";
import { askConfirm } from "./confirm";
import { markers, roleLabel, tile } from "./tile";

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
}

function control(id: string, label: string, shortcut?: string): HTMLButtonElement {
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
    h("span", { class: "control-icon", "aria-hidden": "true" }),
    h("span", { class: "control-text" }, label),
  );
}

/** A padlock drawn in SVG (no emoji: not every system font has one). */
function lockIcon(): SVGElement {
  return s(
    "svg",
    { class: "lock-icon", viewBox: "0 0 16 16", "aria-hidden": "true", focusable: "false" },
    s("path", { d: "M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z" }),
  );
}

function setControl(button: HTMLButtonElement, label: string, pressed: boolean | null): void {
  button.setAttribute("aria-label", label);
  const text = button.querySelector(".control-text");
  if (text !== null) text.textContent = label;
  if (pressed === null) button.removeAttribute("aria-pressed");
  else button.setAttribute("aria-pressed", String(pressed));
}

/** Draws the meeting screen into `root`; returns a function that detaches it. */
export function mountMeeting(root: HTMLElement, store: Store<MeetingState>, actions: MeetingActions): () => void {
  const notices = h("div", { id: "notices", class: "notices", "aria-live": "polite" });
  const say = (error: string | null) => {
    if (error !== null) notices.replaceChildren(h("p", { class: "notice error" }, error));
  };

  // Header.
  const title = h("h1", { id: "meeting-title", class: "meeting-title" }, "Joining…");
  const encryption = h("p", { id: "encryption", class: "encryption", role: "status" });
  const count = h("p", { id: "participant-count", class: "count" });
  const header = h("header", { class: "meeting-bar" }, title, encryption, count);

  // Banner.
  const bannerText = h("p", { id: "banner-text" });
  const backHome = h("button", { type: "button", class: "primary", id: "back-home" }, "Back to home");
  backHome.addEventListener("click", () => actions.close());
  const banner = h("div", { id: "banner", class: "banner", role: "alert" }, bannerText, backHome);

  // Gallery.
  const gallery = h("section", { id: "gallery", class: "gallery", "aria-label": "Participants' video" });
  const tiles = new Map<number, HTMLElement>();

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
  const mute = control("ctl-mute", "Mute", SHORTCUTS.toggle_mute);
  const video = control("ctl-video", "Start video", SHORTCUTS.toggle_video);
  const share = control("ctl-share", "Share screen", SHORTCUTS.toggle_share);
  const chat = control("ctl-chat", "Chat", SHORTCUTS.toggle_chat);
  const participants = control("ctl-participants", "Participants");
  const hand = control("ctl-hand", "Raise hand", SHORTCUTS.toggle_hand);
  const leave = control("ctl-leave", "Leave", SHORTCUTS.leave);
  leave.classList.add("leave");
  const end = control("ctl-end", "End for all");
  end.classList.add("leave");
  const bar = h("nav", { class: "controls", "aria-label": "Meeting controls" }, mute, video, share, chat, participants, hand, leave, end);

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
    if (m !== undefined) void actions.selfControl({ action: "share", on: !m.sharing }).then(say);
  };
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

  const screen = h(
    "main",
    { class: "meeting", "aria-labelledby": "meeting-title" },
    header,
    banner,
    notices,
    h("div", { class: "stage" }, gallery, chatPanel, peoplePanel),
    bar,
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

  const draw = (state: MeetingState): void => {
    const idText = state.meetingId === null ? "" : formatMeetingId(String(state.meetingId));
    title.textContent = state.phase === "joined" ? `Meeting ${idText}` : state.phase === "ended" ? "Meeting over" : "Joining…";
    encryption.replaceChildren(
      lockIcon(),
      state.encryption === "end_to_end" ? "End-to-end encrypted meeting" : "Encrypted in transit (TLS 1.3)",
    );
    encryption.dataset["encryption"] = state.encryption;
    count.textContent = state.phase === "joined" ? `${state.participants.length} in the meeting` : "";

    // Banner.
    let bannerMessage: string | null = null;
    if (state.phase === "connecting") bannerMessage = state.transport === null ? "Connecting…" : "Joining…";
    else if (state.phase === "waiting") bannerMessage = state.waitingReason ?? "Waiting to enter.";
    else if (state.phase === "ended") bannerMessage = state.ended?.reason ?? "The meeting is over.";
    banner.hidden = bannerMessage === null;
    bannerText.textContent = bannerMessage ?? "";
    banner.dataset["kind"] = state.ended?.kind ?? state.phase;
    backHome.hidden = state.phase !== "ended";

    // Notices (the latest host actions and refusals).
    if (state.notices.length > 0) {
      notices.replaceChildren(...state.notices.map((n) => h("p", { class: "notice" }, n)));
    }

    // Gallery: up to 25 tiles, ourselves first.
    const mine = state.participants.filter((p) => p.id === state.selfId);
    const others = state.participants.filter((p) => p.id !== state.selfId);
    const shown = [...mine, ...others].slice(0, 25);
    // Tiles are kept per participant and updated in place, and the gallery
    // is only reordered when its order changes: a video canvas that moves
    // in the document loses its picture in WebKitGTK until composited again.
    const elements = shown.map((p) => {
      const canvas = actions.videoCanvas?.(p.id);
      const fresh = tile(p, p.id === state.selfId, canvas, false);
      const el = tiles.get(p.id) ?? fresh;
      tiles.set(p.id, el);
      if (el !== fresh) {
        el.className = fresh.className;
        el.setAttribute("aria-label", fresh.getAttribute("aria-label") ?? "");
        for (const child of [...el.childNodes]) if (child !== canvas) child.remove();
        el.append(...fresh.childNodes);
      }
      if (canvas !== undefined && canvas.parentElement !== el) el.prepend(canvas);
      return el;
    });
    for (const id of [...tiles.keys()]) if (!shown.some((p) => p.id === id)) tiles.delete(id);
    const same = elements.length === gallery.children.length && elements.every((el, i) => gallery.children[i] === el);
    if (!same) gallery.replaceChildren(...elements);
    gallery.dataset["count"] = String(shown.length);

    // Controls.
    const m = self(state);
    const joined = state.phase === "joined" && m !== undefined;
    for (const b of [mute, video, share, hand, leave]) b.disabled = !joined;
    setControl(mute, m?.muted === true ? "Unmute" : "Mute", m?.muted ?? false);
    setControl(video, m?.video === true ? "Stop video" : "Start video", m?.video ?? false);
    setControl(share, m?.sharing === true ? "Stop sharing" : "Share screen", m?.sharing ?? false);
    setControl(hand, m?.handRaised === true ? "Lower hand" : "Raise hand", m?.handRaised ?? false);
    setControl(chat, state.unread > 0 ? `Chat (${state.unread} new)` : "Chat", state.panel === "chat");
    setControl(participants, `Participants (${state.participants.length})`, state.panel === "participants");
    const hostNow = joined && m.role === "host";
    end.hidden = !hostNow;
    leave.hidden = state.phase === "ended";

    // Side panels.
    chatPanel.hidden = state.panel !== "chat";
    peoplePanel.hidden = state.panel !== "participants";
    const choice = chatTo.value;
    chatTo.replaceChildren(
      h("option", { value: "" }, "Everyone"),
      ...others.map((p) => h("option", { value: String(p.id) }, `${p.name} (private)`)),
    );
    chatTo.value = others.some((p) => String(p.id) === choice) ? choice : "";
    chatLog.replaceChildren(
      ...state.chat.map((c) => {
        const to = c.to === null ? null : state.participants.find((p) => p.id === c.to)?.name ?? "someone";
        const who = c.own ? "You" : c.fromName;
        const head = c.to === null ? who : `${who} → ${c.to === state.selfId ? "you" : to} (private)`;
        return h(
          "li",
          { class: `chat-line${c.own ? " own" : ""}${c.to === null ? "" : " private"}`, "data-chat-id": String(c.id) },
          h("span", { class: "chat-from" }, head),
          h("span", { class: "chat-text" }, c.text),
        );
      }),
    );
    chatSend.disabled = state.phase !== "joined";
    hostTools.hidden = !isHost(state);
    people.replaceChildren(...state.participants.map((p) => personRow(p, state)));
    waitingSection.hidden = !isHost(state) || state.waiting.length === 0;
    waitingList.replaceChildren(
      ...state.waiting.map((w) => {
        const admit = h("button", { type: "button", class: "small", "data-action": "admit", "aria-label": `Admit ${w.name}` }, "Admit");
        admit.addEventListener("click", () => host({ action: "admit", participant: w.id }));
        const deny = h("button", { type: "button", class: "small", "data-action": "deny", "aria-label": `Deny ${w.name}` }, "Deny");
        deny.addEventListener("click", () => host({ action: "deny", participant: w.id }));
        return h("li", { class: "person", "data-waiting-id": String(w.id) }, h("span", { class: "person-name" }, w.guest ? `${w.name} (guest)` : w.name), admit, deny);
      }),
    );
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
