/**
 * The app's controller: which screen shows, and the actions screens call.
 * It owns the three stores (start, home, meeting), turns shell answers
 * into state, and is the only place that moves between screens.
 */

import type { AuthState, MeetingSettings } from "./bindings";
import { call, describeError, loadAppInfo, onMeetingUpdate, type Shell } from "./ipc";
import { applyUpdate, connectingMeeting, type MeetingState, togglePanel } from "./meeting_state";
import { createStore } from "./store";
import { applyTheme, loadTheme, nextTheme } from "./theme";
import { type HomeState, mountHome } from "./views/home";
import { mountMeeting } from "./views/meeting";
import { VideoWall } from "./video_wall";
import { mountStart, type StartState } from "./views/start";

/** Which screen shows. */
export type Screen = "start" | "home" | "meeting";

/** A running app: its stores, for tests and the entry point. */
export interface App {
  screen(): Screen;
  start: ReturnType<typeof createStore<StartState>>;
  home: ReturnType<typeof createStore<HomeState>>;
  meeting: ReturnType<typeof createStore<MeetingState>>;
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
  let theme = loadTheme(storage);
  applyTheme(theme, document.documentElement, storage);
  let current: Screen = "start";
  let unmount: () => void = () => {};
  let signedIn = false;
  const wall = new VideoWall();
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
      home.update((s) => ({ ...s, email: auth.email ?? "", remembered: auth.remembered }));
      show("home");
      void refresh();
    } else if (current !== "start") show("start");
  };

  const join = async (meetingText: string, displayName: string | null, passcode: string | null) => {
    // The form that asked shows "Joining…" until the router connection is
    // up; the meeting screen then draws whatever events arrived meanwhile.
    meeting.set(connectingMeeting());
    wall.clear();
    // Pictures arrive as ArrayBuffers on their own channel, never as JSON.
    const video = shell.channel?.<ArrayBuffer>((buffer) => {
      wall.handle(buffer);
      document.body.dataset["video"] = wall.counters();
    });
    const error = await attempt(() => {
      if (video === undefined) throw new Error("joining needs the desktop app");
      return call(shell, "join_meeting", { request: { meeting: meetingText, displayName, passcode }, video });
    });
    if (error === null) show("meeting");
    return error;
  };

  const show = (screen: Screen) => {
    unmount();
    current = screen;
    switch (screen) {
      case "start":
        unmount = mountStart(root, start, {
          signIn: (email, password) =>
            attempt(async () => signedInAs(await call(shell, "sign_in", { request: { email, password } }))),
          join: (meetingText, name) => join(meetingText, name, null),
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
        });
        break;
      case "meeting":
        unmount = mountMeeting(root, meeting, {
          selfControl: (control) => attempt(() => call(shell, "self_control", { control })),
          hostControl: (control) => attempt(() => call(shell, "host_control", { control })),
          chat: (to, text) => attempt(() => call(shell, "send_chat", { request: { to, text } })),
          leave: () => attempt(() => call(shell, "leave_meeting", {})),
          togglePanel: (panel) => meeting.update((s) => togglePanel(s, panel)),
          videoCanvas: (participant) => wall.canvasFor(participant),
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
  const ready = (async () => {
    const appInfo = await loadAppInfo(shell);
    start.update((s) => ({ ...s, appInfo }));
    if (!shell.isTauri()) return;
    try {
      const auth = await call(shell, "auth_state", {});
      // A slow keyring can answer after the user already signed in by hand.
      if (!signedIn) signedInAs(auth);
    } catch {
      // Stay on the start screen: signing in shows any problem.
    }
  })();
  return { screen: () => current, start, home, meeting, ready };
}
