// How every AWS client of the action is configured: region, retries, user agent. Endpoints come
// from the SDK's own AWS_ENDPOINT_URL* variables. No SDK import here, so that the first request's
// client (elb-client.ts) can share it without loading the others.

export const USER_AGENT = 'alb-blue-green-deploy-action/0.1.0'

// Attempts per call, the first included: an outage fails the step rather than hanging it. With
// standard retry each throttled attempt waits a random time up to 1 s, 2 s, 4 s... (at most 20 s),
// so a call gives up after about a minute at worst, and within a run the SDK's retry quota stops
// retries altogether when most calls fail.
export const MAX_ATTEMPTS = 8

// Standard retry, as AWS recommends for clients that call more than one API: each throttled call
// backs off on its own. Adaptive retry slows the whole client down after any throttle; a deploy's
// calls then queue behind one another (its hold checks, its shift, its read-back), and under 30%
// throttling a canary took 1.5 times as long as with standard retry (npm run bench, throttling).
export const RETRY_MODE = 'standard'

/**
 * The SDK's own settings (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS), when the workflow sets them, win over
 * this action's choice: the SDK then reads them itself.
 */
export function clientConfig(region: string, maxAttempts = MAX_ATTEMPTS, env: NodeJS.ProcessEnv = process.env) {
  return {
    region,
    customUserAgent: USER_AGENT,
    ...(env.AWS_RETRY_MODE ? {} : { retryMode: RETRY_MODE }),
    ...(env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts })
  }
}
