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

/**
 * ALARM fails the step. INSUFFICIENT_DATA does not: it is what a count alarm shows while nothing
 * goes wrong (ALB publishes HTTPCode_Target_5XX_Count only when there are 5xx) and what any alarm
 * shows before enough periods passed, so failing on it would fail healthy canaries. It is not shown
 * as OK either: the log, the timeline and the summary say that the alarm could not tell.
 */
export function judgeAlarms(names: string[], alarms: AlarmState[]): CheckLook {
  const fired = alarms.filter((a) => a.state === 'ALARM')
  if (fired.length > 0) {
    const reason = fired[0].reason?.replace(/[.\s]+$/, '')
    return { ok: false, line: `alarm ${fired.map((a) => a.name).join(', ')} in ALARM${reason ? `: ${reason}` : ''}` }
  }
  const blind = alarms.filter((a) => a.state === 'INSUFFICIENT_DATA').map((a) => a.name)
  if (blind.length === 0) return { ok: true, line: `alarms ${names.join(', ')} OK` }
  const ok = names.filter((n) => !blind.includes(n))
  return {
    ok: true,
    line: [ok.length > 0 ? `alarms ${ok.join(', ')} OK` : '', `alarm ${blind.join(', ')}: insufficient data`]
      .filter(Boolean)
      .join('; '),
    warning: `Alarm ${blind.join(', ')} had insufficient data during a hold, so it could not tell whether the new version is healthy (insufficient data does not fail a step); if missing data means no errors, set its TreatMissingData to notBreaching`
  }
}
