/**
 * Entry point: draws the start screen, then asks the desktop shell who it is.
 */

import "./styles.css";
import { loadAppInfo } from "./ipc";
import { createStore } from "./store";
import { mountStart, type StartState } from "./views/start";

const root = document.getElementById("app");
if (root !== null) {
  const store = createStore<StartState>({ appInfo: { status: "loading" } });
  mountStart(root, store);
  void loadAppInfo().then((appInfo) => store.update((state) => ({ ...state, appInfo })));
}
