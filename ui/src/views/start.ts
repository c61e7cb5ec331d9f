/**
 * The start screen: the Confer wordmark, a "Sign in" form (email and
 * password, or "Sign in with your organisation" through its single sign-on
 * in the system browser), a "Join a meeting" form, a Settings button
 * (devices and theme can be set before signing in) and the app's version.
 *
 * While a single sign-on waits for the browser, the screen shows the
 * sign-in link as read-only text with a Copy button: the browser may not
 * have opened (no default browser, a remote session), and the link is how
 * the user gets there anyway.
 *
 * A `confer://join/...` link that arrives while signed out is said above
 * the forms (`#start-notice`) and fills in the join box; the app opens it
 * once the user signs in.
 *
 * Both forms validate locally (see `../forms.ts`), then hand what was typed
 * to the {@link StartActions} the app gives (sign in, join as a guest); the
 * version comes from the shell's `app_info` command through the store.
 * Everything is plain form controls with real labels, so the screen works
 * with a keyboard and a screen reader without extra code.
 */

import { type Attrs, h, s } from "../dom";
import { type FieldErrors, isValid, validateJoin, validateSignIn } from "../forms";
import type { AppInfoState } from "../ipc";
import { caretAfterDigits, formatMeetingId, MAX_MEETING_ID_DIGITS } from "../meeting_id";
import type { Store } from "../store";

/** What the start screen shows. */
export interface StartState {
  appInfo: AppInfoState;
  /**
   * The meeting id's digits from a `confer://join/...` link that came
   * while signed out: it fills in the join box, and opens once signed in.
   */
  link?: string | null;
  /** A line above the forms, e.g. that such a link is waiting. */
  notice?: string | null;
}

/** What the start screen says when a link to `meeting` waits for sign-in. */
export function linkWaitingNotice(meeting: string): string {
  return `Your link to meeting ${formatMeetingId(meeting)} is ready: sign in to open it, or enter your name under “Join a meeting” to join as a guest.`;
}

/** What the start screen's forms do; each resolves to an error to show, or null. */
export interface StartActions {
  signIn(email: string, password: string): Promise<string | null>;
  join(meeting: string, name: string): Promise<string | null>;
  /**
   * Signs in through the organisation's single sign-on
   * (`start_sign_in_sso`, then `finish_sign_in_sso`): calls `showLink` with
   * the sign-in page once it is known, and resolves once the browser has
   * come back, or with the error.
   */
  signInSso?(slug: string, showLink: (link: SsoLink) => void): Promise<string | null>;
  /** Stops waiting for the browser (`cancel_sign_in_sso`). */
  cancelSignInSso?(): Promise<void>;
  /** Opens the settings dialog over the start screen. */
  openSettings?(): void;
}

/** The page that signs the user in, while the app waits for the browser. */
export interface SsoLink {
  url: string;
  /** Whether the shell could start the system browser with it. */
  browserOpened: boolean;
}

/** What the start screen says about signing in with the organisation. */
export const SSO_TEXT = {
  opening: "Opening your browser…",
  waiting: "Waiting for your browser… If it didn't open, open this link:",
  noBrowser: "Your browser could not be opened. Open this link in a browser to sign in:",
  linkLabel: "Sign-in link",
  copy: "Copy link",
  copied: "Link copied.",
  copyFailed: "Select the link and copy it.",
  cancelling: "Cancelling…",
  cancelled: "Sign-in cancelled.",
};

/** Puts `text` on the clipboard; resolves to whether that worked. The
 * WebKit webview may refuse the async clipboard, so a selected text field
 * and `execCommand("copy")` are the fallback. */
async function copyText(text: string, field: HTMLInputElement): Promise<boolean> {
  try {
    if (navigator.clipboard !== undefined) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection.
  }
  field.focus();
  field.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/** An organisation's sign-in name: the server's SSO slug rule. */
const SSO_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The error for an organisation name, or undefined when it can be used. */
export function validateSsoSlug(slug: string): string | undefined {
  const trimmed = slug.trim().toLowerCase();
  if (trimmed === "") return "Enter your organisation's sign-in name.";
  if (!SSO_SLUG.test(trimmed)) return "Use letters, digits and hyphens, like acme or acme-labs.";
  return undefined;
}

/** Runs a form's action with its button disabled, then shows the outcome. */
async function runAction(
  button: HTMLButtonElement,
  status: HTMLElement,
  busyText: string,
  action: () => Promise<string | null>,
): Promise<void> {
  button.disabled = true;
  status.textContent = busyText;
  status.classList.remove("error");
  const error = await action();
  button.disabled = false;
  status.textContent = error ?? "";
  status.classList.toggle("error", error !== null);
}

/** One labelled input with its hint and error line. */
interface Field {
  wrapper: HTMLDivElement;
  input: HTMLInputElement;
  error: HTMLParagraphElement;
}

function field(id: string, label: string, attrs: Attrs, hint?: string): Field {
  const errorId = `${id}-error`;
  const hintId = hint === undefined ? undefined : `${id}-hint`;
  const input = h("input", {
    id,
    name: id,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    ...attrs,
  });
  const error = h("p", { id: errorId, class: "field-error", hidden: true });
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), input);
  if (hint !== undefined && hintId !== undefined) {
    wrapper.append(h("p", { id: hintId, class: "field-hint" }, hint));
  }
  wrapper.append(error);
  return { wrapper, input, error };
}

/** Shows each field's error (or clears it) and focuses the first bad field. */
function showErrors(fields: Record<string, Field>, errors: FieldErrors<string>): void {
  let first: HTMLInputElement | undefined;
  for (const [name, f] of Object.entries(fields)) {
    const message = errors[name];
    f.error.textContent = message ?? "";
    f.error.hidden = message === undefined;
    if (message === undefined) f.input.removeAttribute("aria-invalid");
    else {
      f.input.setAttribute("aria-invalid", "true");
      first ??= f.input;
    }
  }
  first?.focus();
}

/** Re-groups the meeting id as it is typed, keeping the caret in place. */
function formatWhileTyping(input: HTMLInputElement): void {
  const caret = input.selectionStart ?? input.value.length;
  const digitsBefore = input.value.slice(0, caret).replace(/[^0-9]/g, "").length;
  const formatted = formatMeetingId(input.value);
  if (formatted === input.value) return;
  input.value = formatted;
  const at = caretAfterDigits(formatted, digitsBefore);
  input.setSelectionRange(at, at);
}

function logo(): SVGElement {
  return s(
    "svg",
    { class: "logo", viewBox: "0 0 48 48", width: 48, height: 48, "aria-hidden": "true", focusable: "false" },
    s("rect", { x: 2, y: 2, width: 44, height: 44, rx: 12, class: "logo-tile" }),
    s("circle", { cx: 18, cy: 24, r: 9, class: "logo-ring" }),
    s("circle", { cx: 30, cy: 24, r: 9, class: "logo-ring" }),
  );
}

function versionText(state: AppInfoState): string {
  switch (state.status) {
    case "loading":
      return "Loading…";
    case "ready":
      return `${state.info.name} ${state.info.version}`;
    case "browser":
      return "Browser preview: desktop features are unavailable";
    case "failed":
      return `Version unavailable (${state.message})`;
  }
}

/**
 * Draws the start screen into `root` (replacing what was there) and keeps
 * its version line in step with `store`. Returns a function that detaches it.
 */
export function mountStart(
  root: HTMLElement,
  store: Store<StartState>,
  actions?: StartActions,
): () => void {
  // Sign in.
  const email = field("sign-in-email", "Email", {
    type: "email",
    autocomplete: "username",
    spellcheck: "false",
    autocapitalize: "off",
    required: true,
  });
  const password = field("sign-in-password", "Password", {
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const signInStatus = h("p", { id: "sign-in-status", class: "form-status", role: "status" });
  const signInButton = h("button", { type: "submit", class: "primary" }, "Sign in");
  const signInForm = h(
    "form",
    { id: "sign-in", class: "panel-form", novalidate: true, "aria-labelledby": "sign-in-title" },
    email.wrapper,
    password.wrapper,
    signInButton,
    signInStatus,
  );
  signInForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const errors = validateSignIn({ email: email.input.value, password: password.input.value });
    showErrors({ email, password }, errors);
    if (!isValid(errors)) {
      signInStatus.textContent = "";
      return;
    }
    if (actions === undefined) {
      signInStatus.textContent = "Signing in needs the desktop app.";
      return;
    }
    void runAction(signInButton, signInStatus, "Signing in…", () =>
      actions.signIn(email.input.value.trim(), password.input.value),
    );
  });

  // Sign in with the organisation's single sign-on.
  const slug = field(
    "sso-slug",
    "Organisation",
    {
      type: "text",
      autocomplete: "organization",
      spellcheck: "false",
      autocapitalize: "off",
      placeholder: "acme",
      required: true,
    },
    "Your organisation's sign-in name; your browser opens to sign you in",
  );
  const ssoStatus = h("p", { id: "sso-status", class: "form-status", role: "status" });
  const ssoButton = h("button", { type: "submit", class: "secondary" }, "Sign in with your organisation");
  const ssoCancel = h("button", { type: "button", id: "sso-cancel", class: "secondary", hidden: true }, "Cancel");
  // The link: read-only text (selectable, reachable with Tab) rather than
  // an anchor, which would navigate the app's own window away.
  const ssoLink = h("input", {
    id: "sso-link",
    type: "text",
    readonly: true,
    spellcheck: "false",
    autocomplete: "off",
    "aria-describedby": "sso-status",
  });
  const ssoCopy = h("button", { type: "button", id: "sso-copy", class: "secondary" }, SSO_TEXT.copy);
  const ssoCopyStatus = h("p", { id: "sso-copy-status", class: "field-hint", role: "status" });
  const ssoWaiting = h(
    "div",
    { id: "sso-waiting", class: "field", hidden: true },
    h("label", { for: "sso-link" }, SSO_TEXT.linkLabel),
    ssoLink,
    ssoCopy,
    ssoCopyStatus,
  );
  ssoLink.addEventListener("focus", () => ssoLink.select());
  ssoCopy.addEventListener("click", () => {
    void copyText(ssoLink.value, ssoLink).then((ok) => {
      ssoCopyStatus.textContent = ok ? SSO_TEXT.copied : SSO_TEXT.copyFailed;
    });
  });
  const ssoForm = h(
    "form",
    { id: "sign-in-sso", class: "panel-form", novalidate: true, "aria-labelledby": "sso-title" },
    h("h3", { id: "sso-title" }, "Or with your organisation"),
    slug.wrapper,
    ssoButton,
    ssoCancel,
    ssoStatus,
    ssoWaiting,
  );
  let ssoCancelled = false;
  ssoCancel.addEventListener("click", () => {
    ssoCancelled = true;
    ssoCancel.disabled = true;
    ssoStatus.textContent = SSO_TEXT.cancelling;
    void actions?.cancelSignInSso?.();
  });
  ssoForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const problem = validateSsoSlug(slug.input.value);
    showErrors({ slug }, problem === undefined ? {} : { slug: problem });
    if (problem !== undefined) {
      ssoStatus.textContent = "";
      return;
    }
    const signInSso = actions?.signInSso;
    if (signInSso === undefined) {
      ssoStatus.textContent = "Signing in needs the desktop app.";
      return;
    }
    ssoCancelled = false;
    ssoCancel.hidden = false;
    ssoCancel.disabled = false;
    const showLink = (link: SsoLink) => {
      if (ssoCancelled) return;
      ssoStatus.textContent = link.browserOpened ? SSO_TEXT.waiting : SSO_TEXT.noBrowser;
      ssoLink.value = link.url;
      ssoCopyStatus.textContent = "";
      ssoWaiting.hidden = false;
    };
    void runAction(ssoButton, ssoStatus, SSO_TEXT.opening, async () => {
      const error = await signInSso(slug.input.value.trim().toLowerCase(), showLink);
      ssoCancel.hidden = true;
      ssoWaiting.hidden = true;
      ssoLink.value = "";
      return ssoCancelled && error !== null ? SSO_TEXT.cancelled : error;
    });
  });

  // Join a meeting.
  const meetingId = field(
    "join-meeting-id",
    "Meeting ID",
    {
      type: "text",
      inputmode: "numeric",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "482 193 7650",
      // Digits plus the two spaces of the grouping.
      maxlength: MAX_MEETING_ID_DIGITS + 2,
      required: true,
    },
    "9 to 11 digits, from your invitation",
  );
  const name = field("join-name", "Your name", { type: "text", autocomplete: "name", required: true });
  const joinStatus = h("p", { id: "join-status", class: "form-status", role: "status" });
  const joinButton = h("button", { type: "submit", class: "primary" }, "Join");
  meetingId.input.addEventListener("input", () => formatWhileTyping(meetingId.input));
  // A pasted id may carry dashes or more spacing than maxlength allows.
  meetingId.input.addEventListener("paste", (event) => {
    const text = event.clipboardData?.getData("text");
    if (text === undefined) return;
    event.preventDefault();
    meetingId.input.value = formatMeetingId(text);
    formatWhileTyping(meetingId.input);
  });
  const joinForm = h(
    "form",
    { id: "join", class: "panel-form", novalidate: true, "aria-labelledby": "join-title" },
    meetingId.wrapper,
    name.wrapper,
    joinButton,
    joinStatus,
  );
  joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const errors = validateJoin({ meetingId: meetingId.input.value, name: name.input.value });
    showErrors({ meetingId, name }, errors);
    if (!isValid(errors)) {
      joinStatus.textContent = "";
      return;
    }
    if (actions === undefined) {
      joinStatus.textContent = "Joining needs the desktop app.";
      return;
    }
    void runAction(joinButton, joinStatus, "Joining…", () =>
      actions.join(meetingId.input.value, name.input.value.trim()),
    );
  });

  const notice = h("p", { id: "start-notice", class: "form-status", role: "status", hidden: true });
  const version = h("p", { id: "app-version", class: "version" });
  const settings = h(
    "button",
    { type: "button", class: "secondary", id: "open-settings", "aria-label": "Settings", hidden: actions?.openSettings === undefined },
    "Settings",
  );
  settings.addEventListener("click", () => actions?.openSettings?.());
  const screen = h(
    "main",
    { class: "start", "aria-labelledby": "wordmark" },
    h(
      "header",
      { class: "brand" },
      logo(),
      h("h1", { id: "wordmark", class: "wordmark" }, "Confer"),
      h("p", { class: "tagline" }, "Secure meetings"),
    ),
    notice,
    h(
      "div",
      { class: "panels" },
      h(
        "section",
        { class: "panel", "aria-labelledby": "sign-in-title" },
        h("h2", { id: "sign-in-title" }, "Sign in"),
        signInForm,
        ssoForm,
      ),
      h(
        "section",
        { class: "panel", "aria-labelledby": "join-title" },
        h("h2", { id: "join-title" }, "Join a meeting"),
        joinForm,
      ),
    ),
    h("footer", { class: "footer" }, version, settings),
  );

  // The link last written into the join box: a new one replaces what is
  // there, the same one again leaves what the user typed since.
  let filledLink: string | null = null;
  const draw = (state: StartState): void => {
    version.textContent = versionText(state.appInfo);
    version.dataset["status"] = state.appInfo.status;
    notice.textContent = state.notice ?? "";
    notice.hidden = !state.notice;
    const link = state.link ?? null;
    if (link !== null && link !== filledLink) {
      meetingId.input.value = formatMeetingId(link);
      showErrors({ meetingId }, {});
    }
    filledLink = link;
  };
  draw(store.get());
  const unsubscribe = store.subscribe(draw);
  root.replaceChildren(screen);
  return () => {
    unsubscribe();
    screen.remove();
  };
}
