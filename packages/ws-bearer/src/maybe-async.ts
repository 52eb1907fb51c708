/**
 * The handshake runs on every connection: when the verifier, the denylist and `authorize` answer synchronously (a
 * JWT, the in-memory denylist), it stays synchronous instead of paying a promise and a microtask at each step.
 */
export type MaybePromise<T> = T | Promise<T>

export function isPromise<T> (value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** `next(value)`, now if `value` is already there, or once its promise resolves. */
export function andThen<T, R> (value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(next) : next(value)
}
