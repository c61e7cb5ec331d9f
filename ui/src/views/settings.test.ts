// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppSettings, MediaDevices } from "../bindings";
import type { Theme } from "../theme";
import { openSettings, settingsFromFields } from "./settings";

const saved: AppSettings = {
  microphone: "gone-mic",
  camera: null,
  speaker: null,
  noiseSuppression: true,
  echoCancellation: true,
  autoGain: true,
  videoQuality: "medium",
  joinMuted: false,
  joinVideoOff: false,
};
const devices: MediaDevices = {
  microphones: [{ id: "tone", name: "Test tone", isDefault: false }],
  cameras: [
    { id: "pattern", name: "Test pattern", isDefault: false },
    { id: "/dev/video0", name: "Webcam", isDefault: true },
  ],
  speakers: [
    { id: "speaker:pulseaudio:usb", name: "Headset", isDefault: false },
    { id: "speaker:pulseaudio:hdmi", name: "Monitor", isDefault: true },
    { id: "none", name: "No sound", isDefault: false },
  ],
};

const flush = () => new Promise((r) => setTimeout(r, 0));
afterEach(() => document.body.replaceChildren());

function open(
  save: (s: AppSettings) => Promise<string | null> = async () => null,
  load = async () => ({ settings: saved, devices }),
  testSpeaker?: (speaker: string | null) => Promise<string | null>,
) {
  const host = document.createElement("div");
  document.body.append(host);
  let theme: Theme = "system";
  const actions = {
    load: vi.fn(load),
    save: vi.fn(save),
    theme: () => theme,
    setTheme: vi.fn((t: Theme) => {
      theme = t;
    }),
    ...(testSpeaker === undefined ? {} : { testSpeaker: vi.fn(testSpeaker) }),
  };
  const done = openSettings(host, actions, true);
  return { host, actions, done };
}

describe("settings dialog", () => {
  it("shows the saved settings and saves what was changed", async () => {
    const { host, actions, done } = open();
    await flush();
    const mic = host.querySelector<HTMLSelectElement>("#settings-microphone");
    const cam = host.querySelector<HTMLSelectElement>("#settings-camera");
    // A saved device that is unplugged stays selectable.
    expect(mic?.value).toBe("gone-mic");
    expect([...(cam?.options ?? [])].map((o) => o.textContent)).toEqual(["System default", "Test pattern", "Webcam (default)"]);
    expect(host.querySelector("#settings-dialog")?.textContent).toMatch(/used as soon as you save/);
    expect(host.querySelector("#settings-dialog")?.textContent).not.toMatch(/next meeting/);
    for (const el of host.querySelectorAll("select, input")) {
      expect(host.querySelector(`label[for="${el.id}"]`)?.textContent).toMatch(/\S/);
    }
    if (cam === null) throw new Error("no camera picker");
    cam.value = "pattern";
    const noise = host.querySelector<HTMLInputElement>("#settings-noise");
    if (noise !== null) noise.checked = false;
    const quality = host.querySelector<HTMLSelectElement>("#settings-quality");
    if (quality !== null) quality.value = "high";
    const muted = host.querySelector<HTMLInputElement>("#settings-join-muted");
    if (muted !== null) muted.checked = true;
    host.querySelector("#settings-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    const result = await done;
    expect(actions.save).toHaveBeenCalledWith({ ...saved, camera: "pattern", noiseSuppression: false, videoQuality: "high", joinMuted: true });
    expect(result?.camera).toBe("pattern");
    expect(host.querySelector("#settings-dialog")).toBeNull();
  });

  it("offers every speaker and saves the one picked", async () => {
    const { host, actions, done } = open();
    await flush();
    const spk = host.querySelector<HTMLSelectElement>("#settings-speaker");
    if (spk === null) throw new Error("no speaker picker");
    expect([...spk.options].map((o) => o.textContent)).toEqual(["System default", "Headset", "Monitor (default)", "No sound"]);
    expect(spk.value).toBe("");
    expect(host.querySelector("#settings-test-speaker")).toBeNull();
    spk.value = "speaker:pulseaudio:usb";
    host.querySelector("#settings-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    expect((await done)?.speaker).toBe("speaker:pulseaudio:usb");
    expect(actions.save).toHaveBeenCalledWith({ ...saved, speaker: "speaker:pulseaudio:usb" });
  });

  it("keeps an unplugged speaker, marked, so saving does not forget it", async () => {
    const { host, actions } = open(undefined, async () => ({ settings: { ...saved, speaker: "speaker:pulseaudio:gone" }, devices }));
    await flush();
    const spk = host.querySelector<HTMLSelectElement>("#settings-speaker");
    expect(spk?.value).toBe("speaker:pulseaudio:gone");
    expect(spk?.selectedOptions[0]?.textContent).toBe("speaker:pulseaudio:gone (not connected)");
    host.querySelector("#settings-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(actions.save.mock.calls[0]?.[0].speaker).toBe("speaker:pulseaudio:gone");
  });

  it("tests the speaker picked, before it is saved, and shows what went wrong", async () => {
    const { host, actions } = open(undefined, undefined, async (speaker) => (speaker === "speaker:pulseaudio:usb" ? "The speaker you chose is not connected." : null));
    await flush();
    const spk = host.querySelector<HTMLSelectElement>("#settings-speaker");
    const button = host.querySelector<HTMLButtonElement>("#settings-test-speaker");
    const status = host.querySelector("#settings-speaker-status");
    if (spk === null || button === null) throw new Error("no speaker picker or test");
    button.click();
    expect(status?.textContent).toBe("Playing a tone…");
    expect(button.disabled).toBe(true);
    await flush();
    expect(actions.testSpeaker).toHaveBeenLastCalledWith(null);
    expect(status?.textContent).toBe("");
    spk.value = "speaker:pulseaudio:usb";
    spk.dispatchEvent(new Event("change"));
    button.click();
    await flush();
    expect(actions.testSpeaker).toHaveBeenLastCalledWith("speaker:pulseaudio:usb");
    expect(status?.textContent).toBe("The speaker you chose is not connected.");
    expect(status?.classList.contains("error")).toBe(true);
    expect(button.disabled).toBe(false);
    // Picking another speaker clears the old result; nothing was saved.
    spk.value = "none";
    spk.dispatchEvent(new Event("change"));
    expect(status?.textContent).toBe("");
    expect(actions.save).not.toHaveBeenCalled();
  });

  it("keeps the dialog open with the error when saving fails", async () => {
    const { host } = open(async () => "Could not save your settings.");
    await flush();
    host.querySelector("#settings-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
    await flush();
    expect(host.querySelector("#settings-status")?.textContent).toBe("Could not save your settings.");
    expect(host.querySelector<HTMLButtonElement>("#settings-save")?.disabled).toBe(false);
  });

  it("switches the theme at once, even without the shell", async () => {
    const { host, actions, done } = open(undefined, async () => {
      throw new Error("This needs the desktop app.");
    });
    await flush();
    expect(host.querySelector("#settings-status")?.textContent).toBe("This needs the desktop app.");
    const theme = host.querySelector<HTMLSelectElement>("#settings-theme");
    if (theme === null) throw new Error("no theme picker");
    theme.value = "dark";
    theme.dispatchEvent(new Event("change"));
    expect(actions.setTheme).toHaveBeenCalledWith("dark");
    host.querySelector<HTMLButtonElement>("#settings-cancel")?.click();
    expect(await done).toBeNull();
  });

  it("maps the form to settings", () => {
    const fields = { microphone: "", camera: "x", speaker: "", noiseSuppression: false, echoCancellation: true, autoGain: false, videoQuality: "bogus", joinMuted: true, joinVideoOff: true };
    expect(settingsFromFields(fields, saved)).toEqual({ ...fields, microphone: null, speaker: null, videoQuality: "medium" });
  });
});
