/**
 * The settings dialog: microphone, camera and speaker, the audio
 * processing switches, the video quality we send, the theme, and how to
 * join (muted, video off). Reachable from the home screen and from the
 * meeting; saved with the shell's `save_settings` (the theme stays in
 * local storage, see `theme.ts`).
 */

import type { AppSettings, DeviceChoice, MediaDevices, VideoQuality } from "../bindings";
import { h } from "../dom";
import type { Theme } from "../theme";
import { openModal } from "./modal";

/** Every word the dialog shows, in one place for translation. */
export const SETTINGS_TEXT = {
  title: "Settings",
  loading: "Loading your settings…",
  devices: "Devices",
  microphone: "Microphone",
  camera: "Camera",
  speaker: "Speaker",
  systemDefault: "System default",
  defaultMark: (name: string) => `${name} (default)`,
  notConnected: (id: string) => `${id} (not connected)`,
  testSpeaker: "Test speaker",
  testingSpeaker: "Playing a tone…",
  audio: "Audio",
  noiseSuppression: "Reduce background noise",
  echoCancellation: "Cancel echo",
  autoGain: "Adjust microphone volume automatically",
  video: "Video",
  quality: "Video quality I send",
  qualities: { low: "Low (saves data)", medium: "Standard", high: "High (720p)" } satisfies Record<VideoQuality, string>,
  appearance: "Appearance",
  theme: "Theme",
  themes: { system: "Same as my system", light: "Light", dark: "Dark" } satisfies Record<Theme, string>,
  joining: "When I join a meeting",
  joinMuted: "Join with my microphone muted",
  joinVideoOff: "Join with my camera off",
  save: "Save",
  cancel: "Cancel",
  saving: "Saving…",
  inMeetingNote: "Devices, video quality and the audio switches are used as soon as you save.",
};

/** What the dialog needs from the app. */
export interface SettingsActions {
  /** The saved settings and the devices to choose from. */
  load(): Promise<{ settings: AppSettings; devices: MediaDevices }>;
  /** Saves; resolves to an error to show, or null. */
  save(settings: AppSettings): Promise<string | null>;
  theme(): Theme;
  setTheme(theme: Theme): void;
  /** Plays a tone on a speaker (null: the system default), picked but
   * not yet saved; resolves to an error, or null. Without it the dialog
   * offers no speaker test. */
  testSpeaker?(speaker: string | null): Promise<string | null>;
}

/** The form's values as plain strings and booleans. */
export interface SettingsFields {
  microphone: string;
  camera: string;
  speaker: string;
  noiseSuppression: boolean;
  echoCancellation: boolean;
  autoGain: boolean;
  videoQuality: string;
  joinMuted: boolean;
  joinVideoOff: boolean;
}

/** The settings a filled form stands for ("" picks the system default;
 * an unknown quality falls back to the saved one). */
export function settingsFromFields(f: SettingsFields, saved: AppSettings): AppSettings {
  const device = (v: string) => (v === "" ? null : v);
  const quality: VideoQuality = f.videoQuality === "low" || f.videoQuality === "medium" || f.videoQuality === "high" ? f.videoQuality : saved.videoQuality;
  return {
    microphone: device(f.microphone),
    camera: device(f.camera),
    speaker: device(f.speaker),
    noiseSuppression: f.noiseSuppression,
    echoCancellation: f.echoCancellation,
    autoGain: f.autoGain,
    videoQuality: quality,
    joinMuted: f.joinMuted,
    joinVideoOff: f.joinVideoOff,
  };
}

/** A device picker: "System default" first, then each device; a saved
 * device that is no longer plugged in stays listed (marked as not
 * connected) so saving does not silently forget it. */
export function deviceSelect(id: string, label: string, choices: DeviceChoice[], current: string | null): { wrapper: HTMLElement; select: HTMLSelectElement } {
  const select = h("select", { id, name: id });
  select.append(h("option", { value: "" }, SETTINGS_TEXT.systemDefault));
  for (const c of choices) select.append(h("option", { value: c.id }, c.isDefault ? SETTINGS_TEXT.defaultMark(c.name) : c.name));
  if (current !== null && !choices.some((c) => c.id === current)) select.append(h("option", { value: current }, SETTINGS_TEXT.notConnected(current)));
  select.value = current ?? "";
  return { wrapper: h("div", { class: "field" }, h("label", { for: id }, label), select), select };
}

function checkbox(id: string, label: string, checked: boolean): { wrapper: HTMLElement; input: HTMLInputElement } {
  const input = h("input", { id, type: "checkbox", checked });
  return { wrapper: h("div", { class: "check" }, input, h("label", { for: id }, label)), input };
}

function choice<T extends string>(id: string, label: string, options: Record<T, string>, current: T): { wrapper: HTMLElement; select: HTMLSelectElement } {
  const select = h("select", { id, name: id });
  for (const [value, text] of Object.entries(options) as Array<[T, string]>) select.append(h("option", { value }, text));
  select.value = current;
  return { wrapper: h("div", { class: "field" }, h("label", { for: id }, label), select), select };
}

/** A "Test speaker" button that plays on the speaker `select` shows now
 * (so people can hear a choice before saving it), and its status line. */
function speakerTester(select: HTMLSelectElement, test: (speaker: string | null) => Promise<string | null>): HTMLElement {
  const status = h("p", { id: "settings-speaker-status", class: "form-status", role: "status" });
  const button = h("button", { type: "button", class: "secondary", id: "settings-test-speaker" }, SETTINGS_TEXT.testSpeaker);
  button.addEventListener("click", () => {
    button.disabled = true;
    status.classList.remove("error");
    status.textContent = SETTINGS_TEXT.testingSpeaker;
    void test(select.value === "" ? null : select.value).then((error) => {
      button.disabled = false;
      status.textContent = error ?? "";
      status.classList.toggle("error", error !== null);
    });
  });
  // A new choice has not been tested: the last result no longer applies.
  select.addEventListener("change", () => {
    status.textContent = "";
    status.classList.remove("error");
  });
  return h("div", { class: "field" }, h("div", { class: "buttons" }, button), status);
}

/** Opens the dialog in `host`; resolves once it closes, to the settings
 * saved (null when cancelled). `inMeeting` adds a note that what is
 * saved (devices, video quality, the audio switches) is used at once. */
export function openSettings(host: HTMLElement, actions: SettingsActions, inMeeting = false): Promise<AppSettings | null> {
  return new Promise((resolve) => {
    let saved: AppSettings | null = null;
    const modal = openModal(host, "settings-dialog", "settings-title", () => resolve(saved));
    modal.dialog.classList.add("settings");
    const status = h("p", { id: "settings-status", class: "form-status", role: "status" }, SETTINGS_TEXT.loading);
    const body = h("div", { class: "settings-body" });
    const cancel = h("button", { type: "button", class: "secondary", id: "settings-cancel" }, SETTINGS_TEXT.cancel);
    const save = h("button", { type: "submit", class: "primary", id: "settings-save", disabled: true }, SETTINGS_TEXT.save);
    const form = h("form", { id: "settings-form", class: "panel-form", novalidate: true }, body, status, h("div", { class: "buttons end" }, cancel, save));
    cancel.addEventListener("click", () => modal.close());
    modal.dialog.append(h("h2", { id: "settings-title" }, SETTINGS_TEXT.title), form);

    // The theme applies at once (it is only a look); the rest on Save.
    const theme = choice<Theme>("settings-theme", SETTINGS_TEXT.theme, SETTINGS_TEXT.themes, actions.theme());
    theme.select.addEventListener("change", () => actions.setTheme(theme.select.value as Theme));

    void actions.load().then(
      ({ settings, devices }) => {
        const mic = deviceSelect("settings-microphone", SETTINGS_TEXT.microphone, devices.microphones, settings.microphone);
        const cam = deviceSelect("settings-camera", SETTINGS_TEXT.camera, devices.cameras, settings.camera);
        const spk = deviceSelect("settings-speaker", SETTINGS_TEXT.speaker, devices.speakers, settings.speaker);
        const speakerTest = actions.testSpeaker === undefined ? [] : [speakerTester(spk.select, actions.testSpeaker)];
        const noise = checkbox("settings-noise", SETTINGS_TEXT.noiseSuppression, settings.noiseSuppression);
        const echo = checkbox("settings-echo", SETTINGS_TEXT.echoCancellation, settings.echoCancellation);
        const gain = checkbox("settings-gain", SETTINGS_TEXT.autoGain, settings.autoGain);
        const quality = choice<VideoQuality>("settings-quality", SETTINGS_TEXT.quality, SETTINGS_TEXT.qualities, settings.videoQuality);
        const muted = checkbox("settings-join-muted", SETTINGS_TEXT.joinMuted, settings.joinMuted);
        const videoOff = checkbox("settings-join-video-off", SETTINGS_TEXT.joinVideoOff, settings.joinVideoOff);
        const group = (legend: string, ...children: HTMLElement[]) => h("fieldset", { class: "security" }, h("legend", {}, legend), ...children);
        body.append(
          group(SETTINGS_TEXT.devices, mic.wrapper, cam.wrapper, spk.wrapper, ...speakerTest, ...(inMeeting ? [h("p", { class: "field-hint" }, SETTINGS_TEXT.inMeetingNote)] : [])),
          group(SETTINGS_TEXT.audio, noise.wrapper, echo.wrapper, gain.wrapper),
          group(SETTINGS_TEXT.video, quality.wrapper),
          group(SETTINGS_TEXT.joining, muted.wrapper, videoOff.wrapper),
          group(SETTINGS_TEXT.appearance, theme.wrapper),
        );
        status.textContent = "";
        save.disabled = false;
        mic.select.focus();
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          const next = settingsFromFields(
            {
              microphone: mic.select.value,
              camera: cam.select.value,
              speaker: spk.select.value,
              noiseSuppression: noise.input.checked,
              echoCancellation: echo.input.checked,
              autoGain: gain.input.checked,
              videoQuality: quality.select.value,
              joinMuted: muted.input.checked,
              joinVideoOff: videoOff.input.checked,
            },
            settings,
          );
          save.disabled = true;
          status.classList.remove("error");
          status.textContent = SETTINGS_TEXT.saving;
          void actions.save(next).then((error) => {
            if (error === null) {
              saved = next;
              modal.close();
              return;
            }
            save.disabled = false;
            status.textContent = error;
            status.classList.add("error");
          });
        });
      },
      (err: unknown) => {
        // The theme still works without the shell (browser preview).
        body.append(theme.wrapper);
        status.textContent = err instanceof Error ? err.message : String(err);
        status.classList.add("error");
      },
    );
  });
}
