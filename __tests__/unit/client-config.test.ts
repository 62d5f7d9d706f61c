// How every AWS client is configured: bounded retries of the action's chosen mode, unless the
// workflow sets the SDK's own variables, which the SDK then reads itself.
import { describe, expect, it } from '@jest/globals'
import { clientConfig, MAX_ATTEMPTS, RETRY_MODE, USER_AGENT } from '../../src/aws/client-config.js'

describe('clientConfig', () => {
  it("gives the action's retry mode and a bounded number of attempts", () => {
    expect(clientConfig('eu-west-1', undefined, {})).toEqual({
      region: 'eu-west-1',
      customUserAgent: USER_AGENT,
      retryMode: RETRY_MODE,
      maxAttempts: MAX_ATTEMPTS
    })
    expect(MAX_ATTEMPTS).toBeGreaterThan(1)
    expect(MAX_ATTEMPTS).toBeLessThanOrEqual(10)
  })

  it('leaves the retry mode and the attempts to the SDK when the workflow sets its variables', () => {
    const config = clientConfig('eu-west-1', undefined, { AWS_RETRY_MODE: 'standard', AWS_MAX_ATTEMPTS: '3' })
    expect(config).toEqual({ region: 'eu-west-1', customUserAgent: USER_AGENT })
    expect(clientConfig('eu-west-1', 4, { AWS_RETRY_MODE: 'standard' })).toMatchObject({ maxAttempts: 4 })
  })
})
