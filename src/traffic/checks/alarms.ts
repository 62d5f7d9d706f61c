import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { type AlarmState, readAlarms } from '../../aws/cloudwatch.js'
import { alarmTimingWarnings } from '../../plan/check-timing.js'
import type { CheckLook, HoldCheck } from './check.js'

/**
 * The user's CloudWatch alarms: any of them in ALARM fails the step. `metricsDelayMs` is how late
 * their data arrives, for the plan's warning about steps too short for them to see.
 */
export function alarmsCheck(cloudwatch: CloudWatchClient, names: string[], metricsDelayMs: number): HoldCheck {
  if (names.length === 0) {
    return { name: 'alarms', describe: [], look: async () => ({ ok: true, line: 'no alarms watched' }) }
  }
  let seen: AlarmState[] = []
  const look = async (): Promise<CheckLook> => {
    seen = await readAlarms(cloudwatch, names)
    return judgeAlarms(names, seen)
  }
  return {
    name: 'alarms',
    describe: names.map((name) => `alarm ${name} not in ALARM`),
    gate: look,
    look,
    timingWarnings: (stepWaitMs) => alarmTimingWarnings(seen, stepWaitMs, metricsDelayMs)
  }
}

export function judgeAlarms(names: string[], alarms: AlarmState[]): CheckLook {
  const fired = alarms.filter((a) => a.state === 'ALARM')
  if (fired.length === 0) return { ok: true, line: `alarms ${names.join(', ')} OK` }
  const reason = fired[0].reason?.replace(/[.\s]+$/, '')
  return { ok: false, line: `alarm ${fired.map((a) => a.name).join(', ')} in ALARM${reason ? `: ${reason}` : ''}` }
}
