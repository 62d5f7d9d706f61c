// How every AWS client of the action is configured: region, retries, user agent. Endpoints come
// from the SDK's own AWS_ENDPOINT_URL* variables. No SDK import here, so that the first request's
// client (elb-client.ts) can share it without loading the others.

export const USER_AGENT = 'alb-blue-green-deploy-action/0.1.0'

// Attempts per call, the first included: an outage fails the step rather than hanging it.
export const MAX_ATTEMPTS = 8

export const RETRY_MODE = 'adaptive'

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
