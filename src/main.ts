import type { ClientRequest } from 'node:http'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createElbClient } from './aws/elb-client.js'
import { type Config, INPUT_DEFAULTS, parseConfig } from './config/inputs.js'
import { readRoutes } from './aws/elbv2.js'

/**
 * The main step's first stage. Every operation starts by reading the routes, so that request goes
 * out first, before the rest of the action (SSM, CloudWatch, the runner toolkit, the operations)
 * is loaded: a run learns of a wrong ARN or missing permission without paying for all of it.
 */
export async function run(): Promise<void> {
  const startedAt = Date.now()
  let config: Config | undefined
  let inputError: unknown
  try {
    config = parseConfig(readInputs(), {
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION,
      sha: process.env.GITHUB_SHA
    })
  } catch (error) {
    inputError = error
  }
  const elb = config ? createElbClient(config.region) : undefined
  const sent = config ? firstRequestSent() : undefined
  const routes = config && elb ? readRoutes(elb, config.listenerArns, config.ruleArns) : undefined
  // Loading the rest is synchronous work that would hold the request back until it is done (the
  // socket is written from the event loop), so it starts once the request is on its way, and its
  // time is spent while the answer travels. A failure surfaces in the operation, with its context.
  if (routes && sent) {
    await Promise.race([sent.promise, routes.then(noop, noop)])
    sent.cancel()
  }
  const { runOperation } = await import('./run-operation.js')
  await runOperation({ startedAt, config, inputError, elb, routes })
}

/**
 * Resolves once the process's first HTTP request has been handed to the operating system (its
 * `finish`), as Node's diagnostics channel for client requests reports it.
 */
export function firstRequestSent(): { promise: Promise<void>; cancel(): void } {
  let done: () => void = () => undefined
  const promise = new Promise<void>((resolve) => (done = resolve))
  const onStart = (message: unknown): void => {
    unsubscribe(CHANNEL, onStart)
    const request = (message as { request?: ClientRequest }).request
    if (!request) return done()
    request.once('finish', done)
    request.once('close', done)
  }
  subscribe(CHANNEL, onStart)
  return { promise, cancel: () => (unsubscribe(CHANNEL, onStart), done()) }
}

const CHANNEL = 'http.client.request.start'
const noop = (): void => undefined

/**
 * The inputs as the runner passes them (INPUT_<NAME>, spaces as underscores, upper case), read the
 * way @actions/core's getInput reads them, without loading that toolkit before the first request.
 */
export function readInputs(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.keys(INPUT_DEFAULTS).map((name) => [
      name,
      (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
    ])
  )
}
