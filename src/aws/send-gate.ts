// A gate every attempt of an AWS request passes just before it goes out, inside the SDK's retry
// loop. The lock (records/parameter-lock.ts) opens one around each change it guards: the lock's
// rules hold only if a change reaches AWS soon after the read that showed the lock is this run's,
// and the SDK's retries of a throttled call would otherwise send it seconds later, after another
// run may have taken the lock over and made its own first change.
//
// The gate travels with the call through AsyncLocalStorage rather than as an argument, so that the
// 48 changes made under the lock, and the modules that make them, need not know about it.

import { AsyncLocalStorage } from 'node:async_hooks'
import type { FinalizeRequestMiddleware, MiddlewareStack, Pluggable, RelativeMiddlewareOptions } from '@smithy/types'

/** Decides, before each attempt is sent, whether it may go; throws to stop the call. */
export interface SendGate {
  beforeSend(): Promise<void>
}

const gates = new AsyncLocalStorage<SendGate>()

/** Runs `work` with every AWS attempt it makes passing `gate` first. */
export function withSendGate<T>(gate: SendGate, work: () => Promise<T>): Promise<T> {
  return gates.run(gate, work)
}

/**
 * Runs `work` with no gate: what a gate itself sends (a read of the lock) must not wait on that
 * same gate.
 */
export function outsideSendGate<T>(work: () => Promise<T>): Promise<T> {
  return gates.exit(work)
}

function gateMiddleware<I extends object, O extends object>(): FinalizeRequestMiddleware<I, O> {
  return (next) => async (args) => {
    await gates.getStore()?.beforeSend()
    return next(args)
  }
}

// Right after the retry middleware, so that it runs once per attempt, before signing and sending.
// An error thrown here is not throttling or transient, so the SDK does not retry it.
const placement: RelativeMiddlewareOptions = {
  name: 'sendGateMiddleware',
  relation: 'after',
  toMiddleware: 'retryMiddleware',
  override: true
}

/** The client, its every attempt passing the gate of the change it belongs to (if any). */
export function gated<C extends object, I extends object, O extends object>(
  client: C & { middlewareStack: MiddlewareStack<I, O> }
): C {
  const plugin: Pluggable<I, O> = { applyToStack: (stack) => stack.addRelativeTo(gateMiddleware<I, O>(), placement) }
  client.middlewareStack.use(plugin)
  return client
}
