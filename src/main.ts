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
  const routes = config && elb ? readRoutes(elb, config.listenerArns, config.ruleArns) : undefined
  // Loading the rest is synchronous work that would hold the request back until it is done (the
  // socket is written from the event loop), so the answer is awaited first. A failure surfaces in
  // the operation, with its context.
  await routes?.catch(() => undefined)
  const { runOperation } = await import('./run-operation.js')
  await runOperation({ startedAt, config, inputError, elb, routes })
}

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
