import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import { DeployError } from '../config/errors.js'

export interface AlarmState {
  name: string
  state: string
  reason?: string
  /** A metric alarm's period in seconds (the longest of a metric-math alarm's metrics). */
  periodS?: number
  evaluationPeriods?: number
}

/**
 * The current state of each named alarm, composite alarms included (DescribeAlarms returns only
 * metric alarms unless asked). A name that matches no alarm is an error: a misspelt alarm would
 * otherwise never fire, and the canary would be watched by nothing.
 */
export async function readAlarms(cloudwatch: CloudWatchClient, names: string[]): Promise<AlarmState[]> {
  if (names.length === 0) return []
  const found = new Map<string, AlarmState>()
  let NextToken: string | undefined
  do {
    const page = await cloudwatch.send(
      new DescribeAlarmsCommand({
        AlarmNames: names,
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
        NextToken
      })
    )
    for (const alarm of page.MetricAlarms ?? []) {
      if (!alarm.AlarmName) continue
      const mathPeriods = (alarm.Metrics ?? []).map((m) => m.MetricStat?.Period ?? m.Period ?? 0)
      const periodS = alarm.Period ?? (mathPeriods.length > 0 ? Math.max(...mathPeriods) : undefined)
      found.set(alarm.AlarmName, {
        name: alarm.AlarmName,
        state: alarm.StateValue ?? 'UNKNOWN',
        reason: alarm.StateReason,
        ...(periodS ? { periodS } : {}),
        ...(alarm.EvaluationPeriods ? { evaluationPeriods: alarm.EvaluationPeriods } : {})
      })
    }
    for (const alarm of page.CompositeAlarms ?? []) {
      if (alarm.AlarmName) {
        found.set(alarm.AlarmName, {
          name: alarm.AlarmName,
          state: alarm.StateValue ?? 'UNKNOWN',
          reason: alarm.StateReason
        })
      }
    }
    NextToken = page.NextToken
  } while (NextToken)
  const missing = names.filter((n) => !found.has(n))
  if (missing.length > 0) {
    throw new DeployError(
      `Alarm${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found in CloudWatch; check the names in alarms and the region`
    )
  }
  return names.map((n) => found.get(n) as AlarmState)
}
