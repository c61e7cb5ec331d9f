/**
 * A minimal observable store: one value, replaced whole, with listeners told
 * after each change. Views subscribe and redraw the part they own; nothing
 * else holds UI state.
 */

/** Called with the new value after every change. */
export type Listener<T> = (value: T) => void;

/** A value that can be read, replaced and watched. */
export interface Store<T> {
  /** The current value. */
  get(): T;
  /** Replaces the value and tells listeners, unless it is the same object. */
  set(value: T): void;
  /** Derives the next value from the current one (see {@link Store.set}). */
  update(change: (value: T) => T): void;
  /** Watches changes; returns the function that stops watching. */
  subscribe(listener: Listener<T>): () => void;
}

/** Makes a store holding `initial`. */
export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<Listener<T>>();
  const store: Store<T> = {
    get: () => value,
    set(next) {
      if (Object.is(next, value)) return;
      value = next;
      // Copy first: a listener may unsubscribe itself while being told.
      for (const listener of [...listeners]) listener(value);
    },
    update(change) {
      store.set(change(value));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return store;
}
