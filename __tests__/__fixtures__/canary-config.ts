// The inputs the scenario tests start from: a canary on the fake's listener (fake-aws.ts), watched
// by one alarm, with commands that always succeed; each test adds what its scenario needs.
import { parseConfig, type RawInputs } from '../../src/config/inputs.js'
import { LISTENER } from './fake-aws.js'

export function canaryConfig(extra: RawInputs = {}) {
  return parseConfig(
    {
      'listener-arns': LISTENER,
      commands: 'true',
      version: 'v2',
      'step-wait': '2m',
      alarms: 'web-5xx',
      strategy: 'canary',
      ...extra
    },
    { region: 'us-east-1' }
  )
}
