import { createElbClient } from './aws-clients.js'
import { type Config, INPUT_DEFAULTS, parseConfig } from './config.js'
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { readRoutes } from './load-balancer.js'

/**
 * The main step's first stage. Every operation starts by reading the routes, so that request goes
 * out first, and the rest of the action (SSM, CloudWatch, the runner toolkit, the operations) loads
 * while it is on the wire: loading all of it first would add its start-up time to every run.
 */
export async function run(): Promise<void> {
  const startedAt = Date.now()
  let config: Config | undefined
  let inputError: unknown
  try {
    config = parseConfig(readInputs(), { region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION, sha: process.env.GITHUB_SHA })
  } catch (error) {
    inputError = error
  }
  const elb = config ? createElbClient(config.region) : undefined
  const sent = elb ? requestSent(elb) : undefined
  const routes = config && elb ? readRoutes(elb, config.listenerArns, config.ruleArns) : undefined
  // Awaited by the operation; a failure surfaces there, with its context.
  routes?.catch(() => undefined)
  // Loading the rest is synchronous work: let the request leave first (credentials and signing
  // take a few asynchronous hops), so that the two overlap.
  if (sent && routes) await Promise.race([sent, routes.catch(() => undefined)])
  const { runOperation } = await import('./run-operation.js')
  await runOperation({ startedAt, config, inputError, elb, routes })
}

/**
 * The inputs as the runner passes them (INPUT_<NAME>, spaces as underscores, upper case), read the
 * way @actions/core's getInput reads them, without loading that toolkit before the first request.
 */
export function readInputs(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.keys(INPUT_DEFAULTS).map((name) => [name, (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()]))
}

/** Resolves when the client hands its first request to the HTTP handler (signed, about to go). */
function requestSent(elb: ElasticLoadBalancingV2Client): Promise<void> {
  return new Promise((resolve) => {
    elb.middlewareStack.add(
      (next) => async (args) => {
        resolve()
        return next(args)
      },
      { step: 'finalizeRequest', priority: 'low', name: 'firstRequestSent' }
    )
  })
}
