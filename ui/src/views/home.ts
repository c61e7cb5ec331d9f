/**
 * The home screen once signed in: upcoming meetings (join, edit, delete),
 * the schedule form with the meeting's security settings, and a box to
 * join any meeting by id or invitation link.
 */

import type { MeetingSettings, ScheduledMeeting } from "../bindings";
import { h } from "../dom";
import { formatMeetingId } from "../meeting_id";
import {
  describeWhen,
  emptySchedule,
  fieldsFor,
  type ScheduleFields,
  toSettings,
} from "../schedule_form";
import type { Store } from "../store";
import { askConfirm } from "./confirm";

/** What the home screen shows. */
export interface HomeState {
  email: string;
  /** The name others see; not shown when absent or null. */
  displayName?: string | null;
  /** The sign-in is kept in the OS keyring. */
  remembered: boolean;
  meetings: ScheduledMeeting[];
  loading: boolean;
  listError: string | null;
  /** Something to tell the user that no form asked for, such as a
   * `confer://` link that names no meeting; none when absent or null. */
  notice?: string | null;
}

/** What the home screen does; each resolves to an error to show, or null. */
export interface HomeActions {
  refresh(): void;
  schedule(settings: MeetingSettings): Promise<string | null>;
  edit(meetingId: number, settings: MeetingSettings): Promise<string | null>;
  remove(meetingId: number): Promise<string | null>;
  join(meeting: string, passcode: string): Promise<string | null>;
  signOut(): void;
  toggleTheme(): void;
  /** Opens the settings dialog (devices, audio, video, theme, joining). */
  openSettings?(): void;
}

function check(id: string, label: string, hint: string): { wrapper: HTMLElement; input: HTMLInputElement } {
  const input = h("input", { id, type: "checkbox", "aria-describedby": `${id}-hint` });
  const wrapper = h(
    "div",
    { class: "check" },
    input,
    h("label", { for: id }, label),
    h("p", { id: `${id}-hint`, class: "field-hint" }, hint),
  );
  return { wrapper, input };
}

function text(id: string, label: string, attrs: Record<string, string | boolean>) {
  const input = h("input", { id, name: id, ...attrs });
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), input);
  return { wrapper, input };
}

/** Security chips for a meeting row. */
function chips(m: ScheduledMeeting): HTMLElement {
  const list = h("ul", { class: "chips", "aria-label": "Security settings" });
  const add = (label: string, kind: string) => list.append(h("li", { class: `chip ${kind}` }, label));
  if (m.e2e) add("End-to-end encrypted", "secure");
  if (m.hasPasscode) add("Passcode", "plain");
  if (m.waitingRoom) add("Waiting room", "plain");
  if (!m.joinBeforeHost) add("Host starts", "plain");
  return list;
}

/** Draws the home screen into `root`; returns a function that detaches it. */
export function mountHome(root: HTMLElement, store: Store<HomeState>, actions: HomeActions): () => void {
  // The schedule form (also used to edit).
  const topic = text("schedule-topic", "Topic", { type: "text", maxlength: "200", placeholder: "Weekly sync" });
  const start = text("schedule-start", "Starts", { type: "datetime-local" });
  const duration = text("schedule-duration", "Minutes", { type: "number", min: "1", max: "1440", inputmode: "numeric" });
  const passcode = text("schedule-passcode", "Passcode (optional)", { type: "text", autocomplete: "off", spellcheck: "false" });
  const clearPasscode = check("schedule-clear-passcode", "Remove the passcode", "Anyone with the id can ask to join.");
  const waitingRoom = check("schedule-waiting-room", "Waiting room", "You admit each person.");
  const joinBeforeHost = check("schedule-join-before-host", "Join before host", "People may start without you.");
  const e2e = check("schedule-e2e", "End-to-end encryption", "Only participants can see and hear the meeting.");
  const submit = h("button", { type: "submit", class: "primary", id: "schedule-submit" }, "Schedule");
  const cancelEdit = h("button", { type: "button", class: "secondary", id: "schedule-cancel", hidden: true }, "Cancel");
  const status = h("p", { id: "schedule-status", class: "form-status", role: "status" });
  const formTitle = h("h2", { id: "schedule-title" }, "Schedule a meeting");
  let editing: number | null = null;

  const fill = (f: ScheduleFields) => {
    topic.input.value = f.topic;
    start.input.value = f.start;
    duration.input.value = f.duration;
    passcode.input.value = f.passcode;
    clearPasscode.input.checked = f.clearPasscode;
    waitingRoom.input.checked = f.waitingRoom;
    joinBeforeHost.input.checked = f.joinBeforeHost;
    e2e.input.checked = f.e2e;
  };
  const read = (): ScheduleFields => ({
    topic: topic.input.value,
    start: start.input.value,
    duration: duration.input.value,
    passcode: passcode.input.value,
    clearPasscode: clearPasscode.input.checked,
    waitingRoom: waitingRoom.input.checked,
    joinBeforeHost: joinBeforeHost.input.checked,
    e2e: e2e.input.checked,
  });
  const setEditing = (m: ScheduledMeeting | null) => {
    editing = m?.meetingId ?? null;
    fill(m === null ? emptySchedule() : fieldsFor(m));
    formTitle.textContent = m === null ? "Schedule a meeting" : `Edit ${m.topic ?? formatMeetingId(String(m.meetingId))}`;
    submit.textContent = m === null ? "Schedule" : "Save changes";
    cancelEdit.hidden = m === null;
    clearPasscode.wrapper.hidden = m === null || !m.hasPasscode;
    status.textContent = "";
    if (m !== null) topic.input.focus();
  };
  fill(emptySchedule());
  clearPasscode.wrapper.hidden = true;

  const form = h(
    "form",
    { id: "schedule", class: "panel-form", novalidate: true, "aria-labelledby": "schedule-title" },
    topic.wrapper,
    h("div", { class: "row" }, start.wrapper, duration.wrapper),
    passcode.wrapper,
    clearPasscode.wrapper,
    h("fieldset", { class: "security" }, h("legend", {}, "Security"), waitingRoom.wrapper, joinBeforeHost.wrapper, e2e.wrapper),
    h("div", { class: "buttons" }, submit, cancelEdit),
    status,
  );
  cancelEdit.addEventListener("click", () => setEditing(null));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const result = toSettings(read());
    if (!result.ok) {
      status.textContent = result.message;
      status.classList.add("error");
      return;
    }
    submit.disabled = true;
    status.classList.remove("error");
    status.textContent = editing === null ? "Scheduling…" : "Saving…";
    const id = editing;
    void (id === null ? actions.schedule(result.settings) : actions.edit(id, result.settings)).then((error) => {
      submit.disabled = false;
      if (error === null) {
        setEditing(null);
        status.textContent = id === null ? "Scheduled." : "Saved.";
      } else {
        status.textContent = error;
        status.classList.add("error");
      }
    });
  });

  // Join any meeting.
  const joinWhat = text("home-join-meeting", "Meeting ID or invitation link", { type: "text", autocomplete: "off", spellcheck: "false", required: true });
  const joinPasscode = text("home-join-passcode", "Passcode (if asked)", { type: "text", autocomplete: "off" });
  const joinStatus = h("p", { id: "home-join-status", class: "form-status", role: "status" });
  const joinForm = h(
    "form",
    { id: "home-join", class: "panel-form", novalidate: true, "aria-labelledby": "home-join-title" },
    joinWhat.wrapper,
    joinPasscode.wrapper,
    h("button", { type: "submit", class: "primary" }, "Join"),
    joinStatus,
  );
  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (joinWhat.input.value.trim() === "") {
      joinStatus.textContent = "Enter a meeting ID or paste an invitation link.";
      return;
    }
    joinStatus.textContent = "Joining…";
    void actions.join(joinWhat.input.value, joinPasscode.input.value).then((error) => {
      joinStatus.textContent = error ?? "";
    });
  });

  // The meetings list.
  const list = h("ul", { id: "meetings", class: "meetings", "aria-labelledby": "meetings-title" });
  const listStatus = h("p", { id: "meetings-status", class: "form-status", role: "status" });
  const accountName = h("span", { id: "account-name", class: "account-name", hidden: true });
  const account = h("span", { id: "account-email", class: "account" });
  const notice = h("p", { id: "home-notice", class: "form-status error", role: "status", hidden: true });
  const signOut = h("button", { type: "button", class: "secondary", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => actions.signOut());
  const theme = h("button", { type: "button", class: "secondary", id: "theme-toggle", "aria-label": "Switch theme" }, "Theme");
  theme.addEventListener("click", () => actions.toggleTheme());
  const settings = h("button", { type: "button", class: "secondary", id: "open-settings", "aria-label": "Settings", hidden: actions.openSettings === undefined }, "Settings");
  settings.addEventListener("click", () => actions.openSettings?.());
  const refresh = h("button", { type: "button", class: "secondary", id: "meetings-refresh" }, "Refresh");
  refresh.addEventListener("click", () => actions.refresh());

  const screen = h(
    "main",
    { class: "home", "aria-labelledby": "home-title" },
    h(
      "header",
      { class: "topbar" },
      h("h1", { id: "home-title", class: "wordmark small" }, "Confer"),
      h("div", { class: "topbar-end" }, h("span", { class: "account-who" }, accountName, account), settings, theme, signOut),
    ),
    notice,
    h(
      "div",
      { class: "home-grid" },
      h(
        "section",
        { class: "panel", "aria-labelledby": "meetings-title" },
        h("div", { class: "panel-head" }, h("h2", { id: "meetings-title" }, "Upcoming meetings"), refresh),
        listStatus,
        list,
      ),
      h(
        "div",
        { class: "stack" },
        h("section", { class: "panel", "aria-labelledby": "schedule-title" }, formTitle, form),
        h("section", { class: "panel", "aria-labelledby": "home-join-title" }, h("h2", { id: "home-join-title" }, "Join a meeting"), joinForm),
      ),
    ),
  );

  const row = (m: ScheduledMeeting): HTMLElement => {
    const id = formatMeetingId(String(m.meetingId));
    const title = m.topic ?? `Meeting ${id}`;
    const join = h("button", { type: "button", class: "primary join-meeting", "aria-label": `Join ${title}` }, "Join");
    join.addEventListener("click", () => {
      join.disabled = true;
      void actions.join(String(m.meetingId), "").then((error) => {
        join.disabled = false;
        if (error !== null) listStatus.textContent = error;
      });
    });
    const edit = h("button", { type: "button", class: "secondary edit-meeting", "aria-label": `Edit ${title}` }, "Edit");
    edit.addEventListener("click", () => setEditing(m));
    const del = h("button", { type: "button", class: "danger-quiet delete-meeting", "aria-label": `Delete ${title}` }, "Delete");
    del.addEventListener("click", () => {
      void askConfirm(screen, `Delete “${title}”? People with the invitation can no longer join.`, "Delete").then(
        async (yes) => {
          if (!yes) return;
          const error = await actions.remove(m.meetingId);
          if (error !== null) listStatus.textContent = error;
        },
      );
    });
    return h(
      "li",
      { class: "meeting-row", "data-meeting-id": String(m.meetingId) },
      h(
        "div",
        { class: "meeting-main" },
        h("p", { class: "meeting-topic" }, title),
        h("p", { class: "meeting-when" }, `${describeWhen(m)} · ID `, h("span", { class: "meeting-id" }, id)),
        chips(m),
      ),
      h("div", { class: "meeting-actions" }, join, edit, del),
    );
  };

  const draw = (state: HomeState): void => {
    accountName.textContent = state.displayName ?? "";
    accountName.hidden = !state.displayName;
    account.textContent = state.remembered ? state.email : `${state.email} (until you quit)`;
    notice.textContent = state.notice ?? "";
    notice.hidden = !state.notice;
    list.replaceChildren(...state.meetings.map(row));
    listStatus.textContent = state.loading
      ? "Loading…"
      : (state.listError ?? (state.meetings.length === 0 ? "No meetings yet: schedule one." : ""));
  };
  draw(store.get());
  const unsubscribe = store.subscribe(draw);
  root.replaceChildren(screen);
  return () => {
    unsubscribe();
    screen.remove();
  };
}
