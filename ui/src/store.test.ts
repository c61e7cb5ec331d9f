import { describe, expect, it } from "vitest";
import { createStore } from "./store";

describe("createStore", () => {
  it("tells subscribers about changes until they unsubscribe", () => {
    const store = createStore({ count: 0 });
    const seen: number[] = [];
    const stop = store.subscribe((v) => seen.push(v.count));
    store.update((v) => ({ count: v.count + 1 }));
    store.set(store.get()); // same object: no news
    stop();
    store.set({ count: 5 });
    expect(seen).toEqual([1]);
    expect(store.get()).toEqual({ count: 5 });
  });
});
