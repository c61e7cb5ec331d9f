/**
 * The pre-join screen, shown over the screen that asked to join: the
 * camera preview, a microphone level meter, a speaker test, the device
 * pickers, "join muted" / "camera off", and Join / Cancel. People see and
 * hear that their devices work before anyone else does.
 *
 * It draws a {@link PrejoinState} store; the app starts and stops the
 * shell's preview and saves device choices (see `app.ts`).
 */

import type { DeviceChoice, MediaDevices } from "../bindings";
import { h } from "../dom";
import { formatMeetingId, parseMeetingId } from "../meeting_id";
import type { Store } from "../store";
import { deviceSelect } from "./settings";

/** Every word the screen shows, in one place for translation. */
export const PREJOIN_TEXT = {
  title: "Ready to join?",
  joiningWhat: (meeting: string) => `Meeting ${meeting}`,
  joiningLink: "The meeting from your invitation",
  preview: "Your camera preview",
  cameraOff: "Your camera is off",
  startingCamera: "Starting your camera…",
  microphone: "Microphone",
  camera: "Camera",
  speaker: "Speaker",
  level: "Microphone level",
  levelHint: "Say something: the bar moves when your microphone hears you.",
  testSpeaker: "Test speaker",
  testingSpeaker: "Playing a tone…",
  joinMuted: "Join with microphone muted",
  videoOff: "Join with camera off",
  join: "Join now",
  joining: "Joining…",
  cancel: "Cancel",
  loadingDevices: "Looking for your devices…",
};

/** What the pre-join screen shows. */
export interface PrejoinState {
  /** The meeting as typed (id or link), for the heading. */
  meeting: string;
  /** Null until the shell lists them. */
  devices: MediaDevices | null;
  microphone: string | null;
  camera: string | null;
  speaker: string | null;
  muted: boolean;
  videoOff: boolean;
  /** The microphone's level, 0..1, from `preview-level`. */
  level: number;
  /** Why the preview or the device list is unavailable. */
  previewError: string | null;
  /** Join was pressed and the shell has not answered yet. */
  joining: boolean;
}

/** What the screen does. */
export interface PrejoinActions {
  join(muted: boolean, videoOff: boolean): void;
  cancel(): void;
  /** A device was picked (null: system default). */
  chooseDevice(kind: "microphone" | "camera" | "speaker", id: string | null): void;
  setMuted(muted: boolean): void;
  setVideoOff(videoOff: boolean): void;
  /** Plays a tone on the chosen speaker; resolves to an error, or null. */
  testSpeaker(): Promise<string | null>;
  /** The canvas the preview pictures are drawn on. */
  previewCanvas?(): HTMLCanvasElement;
}

/** The state before the shell has answered anything. */
export function initialPrejoin(meeting: string, muted = false, videoOff = false): PrejoinState {
  return { meeting, devices: null, microphone: null, camera: null, speaker: null, muted, videoOff, level: 0, previewError: null, joining: false };
}

/** The heading's words for what is being joined: a grouped id, or the
 * invitation (a link is long and says nothing to people). */
export function describeMeeting(meeting: string): string {
  const id = parseMeetingId(meeting);
  return id.ok ? PREJOIN_TEXT.joiningWhat(formatMeetingId(id.digits)) : PREJOIN_TEXT.joiningLink;
}

/** The meter's fill, 0–100, from a level the shell reports (clamped:
 * the event comes from outside). Speech sits low on a linear scale, so
 * the square root makes quiet talking visible. */
export function meterPercent(level: number): number {
  if (!Number.isFinite(level) || level <= 0) return 0;
  return Math.round(Math.min(1, Math.sqrt(level)) * 100);
}

function check(id: string, label: string): { wrapper: HTMLElement; input: HTMLInputElement } {
  const input = h("input", { id, type: "checkbox" });
  return { wrapper: h("div", { class: "check" }, input, h("label", { for: id }, label)), input };
}

/** Draws the screen over `root`'s current content; returns the function
 * that removes it. */
export function mountPrejoin(root: HTMLElement, store: Store<PrejoinState>, actions: PrejoinActions): () => void {
  const canvas = actions.previewCanvas?.();
  const previewNote = h("p", { id: "prejoin-preview-note", class: "preview-note" });
  const preview = h(
    "figure",
    { id: "prejoin-preview", class: "tile preview", "aria-label": PREJOIN_TEXT.preview },
    canvas ?? "",
    previewNote,
  );

  const fill = h("span", { class: "level-fill" });
  const meter = h(
    "div",
    { id: "prejoin-level", class: "level-meter", role: "meter", "aria-label": PREJOIN_TEXT.level, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0 },
    fill,
  );

  const devices = h("div", { id: "prejoin-devices", class: "prejoin-devices" }, h("p", { class: "form-status" }, PREJOIN_TEXT.loadingDevices));
  const speakerStatus = h("p", { id: "prejoin-speaker-status", class: "form-status", role: "status" });
  const testSpeaker = h("button", { type: "button", class: "secondary", id: "prejoin-test-speaker" }, PREJOIN_TEXT.testSpeaker);
  testSpeaker.addEventListener("click", () => {
    testSpeaker.disabled = true;
    speakerStatus.classList.remove("error");
    speakerStatus.textContent = PREJOIN_TEXT.testingSpeaker;
    void actions.testSpeaker().then((error) => {
      testSpeaker.disabled = false;
      speakerStatus.textContent = error ?? "";
      speakerStatus.classList.toggle("error", error !== null);
    });
  });

  const muted = check("prejoin-muted", PREJOIN_TEXT.joinMuted);
  const videoOff = check("prejoin-video-off", PREJOIN_TEXT.videoOff);
  muted.input.addEventListener("change", () => actions.setMuted(muted.input.checked));
  videoOff.input.addEventListener("change", () => actions.setVideoOff(videoOff.input.checked));

  const join = h("button", { type: "submit", class: "primary", id: "prejoin-join" }, PREJOIN_TEXT.join);
  const cancel = h("button", { type: "button", class: "secondary", id: "prejoin-cancel" }, PREJOIN_TEXT.cancel);
  cancel.addEventListener("click", () => actions.cancel());
  const previewError = h("p", { id: "prejoin-error", class: "form-status error", role: "status" });
  const subtitle = h("p", { class: "tagline" });
  const form = h(
    "form",
    { id: "prejoin-form", class: "prejoin-side", novalidate: true },
    devices,
    h("div", { class: "field" }, h("span", { class: "field-label", id: "prejoin-level-label" }, PREJOIN_TEXT.level), meter, h("p", { class: "field-hint" }, PREJOIN_TEXT.levelHint)),
    h("div", { class: "buttons" }, testSpeaker),
    speakerStatus,
    previewError,
    h("div", { class: "buttons end" }, cancel, join),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const s = store.get();
    if (!s.joining) actions.join(s.muted, s.videoOff);
  });

  const layer = h(
    "main",
    { id: "prejoin", class: "prejoin", "aria-labelledby": "prejoin-title" },
    h("div", { class: "prejoin-card" }, h("header", {}, h("h1", { id: "prejoin-title" }, PREJOIN_TEXT.title), subtitle), h("div", { class: "prejoin-grid" }, h("div", { class: "prejoin-left" }, preview, h("div", { class: "prejoin-toggles" }, muted.wrapper, videoOff.wrapper)), form)),
  );
  layer.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !store.get().joining) actions.cancel();
  });

  let shownDevices: MediaDevices | null = null;
  const pickers = (list: MediaDevices, s: PrejoinState) => {
    const picker = (kind: "microphone" | "camera" | "speaker", label: string, choices: DeviceChoice[], current: string | null) => {
      const { wrapper, select } = deviceSelect(`prejoin-${kind}`, label, choices, current);
      select.addEventListener("change", () => {
        // The last test was of another speaker: its result no longer applies.
        if (kind === "speaker") {
          speakerStatus.textContent = "";
          speakerStatus.classList.remove("error");
        }
        actions.chooseDevice(kind, select.value === "" ? null : select.value);
      });
      return wrapper;
    };
    devices.replaceChildren(
      picker("camera", PREJOIN_TEXT.camera, list.cameras, s.camera),
      picker("microphone", PREJOIN_TEXT.microphone, list.microphones, s.microphone),
      picker("speaker", PREJOIN_TEXT.speaker, list.speakers, s.speaker),
    );
  };

  const draw = (s: PrejoinState) => {
    subtitle.textContent = describeMeeting(s.meeting);
    if (s.devices !== null && s.devices !== shownDevices) {
      shownDevices = s.devices;
      pickers(s.devices, s);
    }
    const pct = meterPercent(s.muted ? 0 : s.level);
    fill.style.width = `${pct}%`;
    meter.setAttribute("aria-valuenow", String(pct));
    meter.classList.toggle("muted", s.muted);
    muted.input.checked = s.muted;
    videoOff.input.checked = s.videoOff;
    preview.classList.toggle("video-off", s.videoOff);
    const live = canvas !== undefined && !canvas.hidden;
    previewNote.textContent = s.videoOff ? PREJOIN_TEXT.cameraOff : live ? "" : PREJOIN_TEXT.startingCamera;
    previewError.textContent = s.previewError ?? "";
    join.disabled = s.joining;
    join.textContent = s.joining ? PREJOIN_TEXT.joining : PREJOIN_TEXT.join;
    cancel.disabled = s.joining;
  };
  draw(store.get());
  const unsubscribe = store.subscribe(draw);
  root.append(layer);
  join.focus();
  return () => {
    unsubscribe();
    layer.remove();
  };
}
