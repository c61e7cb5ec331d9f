/**
 * The app's controller: which screen shows, and the actions screens call.
 * It owns the stores (start, home, pre-join, meeting), turns shell answers
 * into state, and is the only place that moves between screens. Joining
 * goes through the pre-join screen, drawn over the screen that asked, so
 * a refused join comes back to the form where the meeting was typed.
 */

import type { AppSettings, AuthState, LaunchLink, MeetingSettings } from "./bindings";
import { call, describeError, loadAppInfo, onLaunchLink, onMeetingUpdate, onPreviewLevel, sentence, type Shell } from "./ipc";
import {
  addPendingChat,
  applyUpdate,
  connectingMeeting,
  dropPendingChat,
  type MeetingState,
  setLayout,
  setPage,
  togglePanel,
} from "./meeting_state";
import { createStore } from "./store";
import { applyTheme, loadTheme, nextTheme, type Theme } from "./theme";
import { type HomeState, mountHome } from "./views/home";
import { mountMeeting } from "./views/meeting";
import { initialPrejoin, mountPrejoin, type PrejoinState } from "./views/prejoin";
import { openSettings, type SettingsActions } from "./views/settings";
import { openSharePicker } from "./views/share_picker";
import { VideoWall } from "./video_wall";
import { canDecodeH264 } from "./stream_decoder";
import { linkWaitingNotice, mountStart, type StartState } from "./views/start";

/** What the pre-join screen decided. */
interface JoinChoice {
  muted: boolean;
  videoOff: boolean;
}

/** Which screen shows. */
export type Screen = "start" | "home" | "meeting";

/** A running app: its stores, for tests and the entry point. */
export interface App {
  screen(): Screen;
  start: ReturnType<typeof createStore<StartState>>;
  home: ReturnType<typeof createStore<HomeState>>;
  meeting: ReturnType<typeof createStore<MeetingState>>;
  prejoin: ReturnType<typeof createStore<PrejoinState>>;
  /** Resolves once the first screen is chosen. */
  ready: Promise<void>;
}

/** Runs a command; resolves to null, or the error in plain words. */
async function attempt(run: () => Promise<unknown>): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (err) {
    return describeError(err);
  }
}

/** Starts the app in `root`, talking to `shell`. */
export function startApp(root: HTMLElement, shell: Shell, storage?: Storage): App {
  const start = createStore<StartState>({ appInfo: { status: "loading" } });
  const home = createStore<HomeState>({ email: "", remembered: false, meetings: [], loading: false, listError: null });
  const meeting = createStore<MeetingState>(connectingMeeting());
  const prejoin = createStore<PrejoinState>(initialPrejoin(""));
  let theme = loadTheme(storage);
  applyTheme(theme, document.documentElement, storage);
  let current: Screen = "start";
  let unmount: () => void = () => {};
  let signedIn = false;
  // Set once the shell said no one is signed in (or could not say).
  let signedOutKnown = false;
  // Cameras and screens arrive as H.264 and are decoded here where the
  // webview has WebCodecs; a decoder that fails asks for a keyframe.
  const wall = new VideoWall(undefined, {
    askKeyframe: (participant, screen) => {
      void attempt(() => call(shell, "request_keyframe", { participant, screen }));
    },
  });
  // For the rendering benchmark (tests/desktop_bench.rs): frames painted per tile.
  (window as unknown as { __conferStats?: VideoWall }).__conferStats = wall;

  const refresh = async () => {
    home.update((s) => ({ ...s, loading: true, listError: null }));
    try {
      const meetings = await call(shell, "list_meetings", {});
      home.update((s) => ({ ...s, meetings, loading: false }));
    } catch (err) {
      home.update((s) => ({ ...s, loading: false, listError: describeError(err) }));
    }
  };

  const signedInAs = (auth: AuthState) => {
    signedIn = auth.email !== null;
    if (auth.email !== null) {
      home.update((s) => ({
        ...s,
        email: auth.email ?? "",
        displayName: auth.displayName,
        remembered: auth.remembered,
      }));
      show("home");
      void refresh();
    } else if (current !== "start") show("start");
  };

  // Settings: loaded when first needed, kept after each save.
  let settings: AppSettings | null = null;
  const loadSettings = async () => {
    const [saved, devices] = await Promise.all([call(shell, "get_settings", {}), call(shell, "media_devices", {})]);
    settings = saved;
    return { settings: saved, devices };
  };
  const settingsActions: SettingsActions = {
    load: () =>
      loadSettings().catch((err: unknown) => {
        throw new Error(describeError(err));
      }),
    save: (next) =>
      attempt(async () => {
        settings = await call(shell, "save_settings", { settings: next });
      }),
    testSpeaker: (speaker) => attempt(() => call(shell, "test_speaker", { speaker })),
    theme: () => theme,
    setTheme: (t: Theme) => {
      theme = t;
      applyTheme(theme, document.documentElement, storage);
    },
  };
  const showSettings = (inMeeting: boolean) => void openSettings(root, settingsActions, inMeeting);

  // The pre-join screen: camera preview on its own wall (participant 0).
  const previewWall = new VideoWall();
  let closePrejoin: () => void = () => {};
  const startPreview = async () => {
    const s = prejoin.get();
    const video = shell.channel?.<ArrayBuffer>((buffer) => previewWall.handle(buffer));
    const error = await attempt(() => {
      if (video === undefined) throw new Error("the camera preview needs the desktop app");
      return call(shell, "start_preview", { camera: s.camera, microphone: s.microphone, video });
    });
    prejoin.update((p) => ({ ...p, previewError: error }));
  };
  const saveDevice = (kind: "microphone" | "camera" | "speaker", id: string | null) => {
    if (settings === null) return;
    const next = { ...settings, [kind]: id };
    void attempt(async () => {
      settings = await call(shell, "save_settings", { settings: next });
    });
  };
  /** Shows the pre-join screen; resolves to the choice, or null when cancelled.
   * The screen stays (showing "Joining…") until `closePrejoin`. */
  const askPrejoin = (meetingText: string): Promise<JoinChoice | null> =>
    new Promise((resolve) => {
      closePrejoin();
      previewWall.clear();
      prejoin.set(initialPrejoin(meetingText, settings?.joinMuted ?? false, settings?.joinVideoOff ?? false));
      let stopLevel: (() => void) | null = null;
      let open = true;
      const unmountPrejoin = mountPrejoin(root, prejoin, {
        join: (muted, videoOff) => {
          prejoin.update((p) => ({ ...p, joining: true }));
          resolve({ muted, videoOff });
        },
        cancel: () => {
          closePrejoin();
          resolve(null);
        },
        chooseDevice: (kind, id) => {
          prejoin.update((p) => ({ ...p, [kind]: id }));
          saveDevice(kind, id);
          if (kind !== "speaker") void startPreview();
        },
        setMuted: (muted) => prejoin.update((p) => ({ ...p, muted })),
        setVideoOff: (videoOff) => prejoin.update((p) => ({ ...p, videoOff })),
        testSpeaker: () => attempt(() => call(shell, "test_speaker", { speaker: prejoin.get().speaker })),
        previewCanvas: () => previewWall.canvasFor(0),
      });
      closePrejoin = () => {
        if (!open) return;
        open = false;
        unmountPrejoin();
        stopLevel?.();
        void attempt(() => call(shell, "stop_preview", {}));
      };
      void onPreviewLevel(shell, (level) => prejoin.update((p) => ({ ...p, level }))).then((stop) => {
        if (open) stopLevel = stop;
        else stop();
      });
      void (async () => {
        try {
          const loaded = await loadSettings();
          if (!open) return;
          const s = loaded.settings;
          prejoin.update((p) => ({
            ...p,
            devices: loaded.devices,
            microphone: s.microphone,
            camera: s.camera,
            speaker: s.speaker,
            muted: s.joinMuted,
            videoOff: s.joinVideoOff,
          }));
        } catch (err) {
          prejoin.update((p) => ({ ...p, previewError: describeError(err) }));
        }
        if (open) await startPreview();
      })();
    });

  const join = async (meetingText: string, displayName: string | null, passcode: string | null) => {
    const choice = await askPrejoin(meetingText);
    if (choice === null) return null;
    // The pre-join screen shows "Joining…" until the router connection is
    // up; the meeting screen then draws whatever events arrived meanwhile.
    // The preview lets go of the camera and microphone first.
    await attempt(() => call(shell, "stop_preview", {}));
    meeting.set(connectingMeeting());
    wall.clear();
    // Pictures arrive as ArrayBuffers on their own channel, never as JSON.
    const video = shell.channel?.<ArrayBuffer>((buffer) => {
      wall.handle(buffer);
      document.body.dataset["video"] = wall.counters();
    });
    const pageDecodesVideo = wall.decodesH264 && (await canDecodeH264());
    const error = await attempt(() => {
      if (video === undefined) throw new Error("joining needs the desktop app");
      const { muted, videoOff } = choice;
      return call(shell, "join_meeting", {
        request: { meeting: meetingText, displayName, passcode, muted, videoOff, pageDecodesVideo },
        video,
      });
    });
    closePrejoin();
    if (error === null) show("meeting");
    return error;
  };

  // A `confer://join/...` link the app was opened with: on the signed-in
  // home screen it opens the same pre-join screen the join box does. One
  // that comes while signed out is said on the start screen, fills in the
  // guest join box, and opens once the user signs in (unless they joined
  // it as a guest meanwhile). Until the start screen is known to be signed
  // out (the keyring may still sign in), the shell keeps the link. A link
  // that names no meeting is said so on the screen showing.
  const openLaunchLink = async () => {
    const signedOutHere = signedOutKnown && !signedIn && current === "start";
    if (!(signedIn && current === "home") && !signedOutHere) return;
    const waiting = start.get().link ?? null;
    let link: LaunchLink | null;
    if (signedIn && waiting !== null) {
      link = { kind: "meeting", meeting: waiting };
      start.update((s) => ({ ...s, link: null, notice: null }));
    } else {
      try {
        link = await call(shell, "take_launch_link", {});
      } catch {
        return;
      }
    }
    if (link === null) return;
    if (!signedIn) {
      const found = link;
      start.update((s) =>
        found.kind === "invalid"
          ? { ...s, notice: sentence(found.message) }
          : { ...s, link: found.meeting, notice: linkWaitingNotice(found.meeting) },
      );
      return;
    }
    if (link.kind === "invalid") {
      home.update((s) => ({ ...s, notice: sentence(link.message) }));
      return;
    }
    home.update((s) => ({ ...s, notice: null }));
    const error = await join(link.meeting, null, null);
    if (error !== null) home.update((s) => ({ ...s, notice: error }));
  };

  const show = (screen: Screen) => {
    unmount();
    current = screen;
    // Each screen starts at its top, not where the last one was scrolled.
    window.scrollTo(0, 0);
    switch (screen) {
      case "start":
        unmount = mountStart(root, start, {
          signIn: (email, password) =>
            attempt(async () => signedInAs(await call(shell, "sign_in", { request: { email, password } }))),
          join: async (meetingText, name) => {
            const error = await join(meetingText, name, null);
            // In the meeting as a guest: a waiting link is used up.
            if (current === "meeting") start.update((s) => ({ ...s, link: null, notice: null }));
            return error;
          },
          signInSso: (slug, showLink) =>
            attempt(async () => {
              showLink(await call(shell, "start_sign_in_sso", { slug }));
              signedInAs(await call(shell, "finish_sign_in_sso", {}));
            }),
          cancelSignInSso: async () => {
            await call(shell, "cancel_sign_in_sso", {});
          },
          openSettings: () => showSettings(false),
        });
        break;
      case "home":
        unmount = mountHome(root, home, {
          refresh: () => void refresh(),
          schedule: (settings: MeetingSettings) =>
            attempt(async () => {
              await call(shell, "schedule_meeting", { settings });
              await refresh();
            }),
          edit: (meetingId, settings) =>
            attempt(async () => {
              await call(shell, "edit_meeting", { request: { meetingId, settings } });
              await refresh();
            }),
          remove: (meetingId) =>
            attempt(async () => {
              await call(shell, "delete_meeting", { meetingId });
              await refresh();
            }),
          join: (meetingText, passcode) => join(meetingText, null, passcode === "" ? null : passcode),
          signOut: () => void call(shell, "sign_out", {}).then(signedInAs, () => show("start")),
          toggleTheme: () => {
            theme = nextTheme(theme);
            applyTheme(theme, document.documentElement, storage);
          },
          openSettings: () => showSettings(false),
        });
        void openLaunchLink();
        break;
      case "meeting":
        unmount = mountMeeting(root, meeting, {
          selfControl: (control) => attempt(() => call(shell, "self_control", { control })),
          hostControl: (control) => attempt(() => call(shell, "host_control", { control })),
          chat: async (to, text) => {
            // Shown at once as "Sending…"; the router's echo marks it delivered.
            meeting.update((s) => addPendingChat(s, to, text));
            const pending = Math.min(...meeting.get().chat.map((c) => c.id));
            const error = await attempt(() => call(shell, "send_chat", { request: { to, text } }));
            if (error !== null) meeting.update((s) => dropPendingChat(s, pending));
            return error;
          },
          react: (emoji) => attempt(() => call(shell, "react", { emoji })),
          share: async (on) => {
            if (!on) return attempt(() => call(shell, "stop_share", {}));
            await openSharePicker(root, {
              sources: () =>
                call(shell, "share_sources", {}).catch((err: unknown) => {
                  throw new Error(describeError(err));
                }),
              choose: (sourceId) => attempt(() => call(shell, "start_share", { sourceId })),
            });
            return null;
          },
          openSettings: () => showSettings(true),
          setLayout: (layout) => meeting.update((s) => setLayout(s, layout)),
          movePage: (delta) => meeting.update((s) => setPage(s, s.page + delta)),
          leave: () => attempt(() => call(shell, "leave_meeting", {})),
          togglePanel: (panel) => meeting.update((s) => togglePanel(s, panel)),
          videoCanvas: (participant) => wall.canvasFor(participant),
          screenCanvas: (participant) => wall.screenCanvasFor(participant),
          videoLayer: (participant, layer) => {
            void attempt(() => call(shell, "set_video_layer", { participant, layer }));
          },
          close: () => {
            show(signedIn ? "home" : "start");
            if (signedIn) void refresh();
          },
        });
        break;
    }
  };

  show("start");
  void onMeetingUpdate(shell, (update) => meeting.update((s) => applyUpdate(s, update)));
  void onLaunchLink(shell, () => void openLaunchLink());
  const ready = (async () => {
    const appInfo = await loadAppInfo(shell);
    start.update((s) => ({ ...s, appInfo }));
    if (appInfo.status === "ready" && appInfo.info.compositing === "software") {
      wall.preferWebGl = false;
      previewWall.preferWebGl = false;
    }
    if (!shell.isTauri()) return;
    try {
      const auth = await call(shell, "auth_state", {});
      // A slow keyring can answer after the user already signed in by hand.
      if (!signedIn) signedInAs(auth);
    } catch {
      // Stay on the start screen: signing in shows any problem.
    }
    signedOutKnown = true;
    // Signed in, the home screen took any link as it showed.
    if (!signedIn) await openLaunchLink();
  })();
  return { screen: () => current, start, home, meeting, prejoin, ready };
}
