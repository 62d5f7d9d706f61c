// CloudWatch over JSON 1.0 (Query-era error codes): DescribeAlarms over the world's alarms, and
// GetMetricData over the load balancer metrics the proxy really produced (sandbox/metrics/).

import { dimensionValue } from '../metrics/alb-metrics.js'
import type { Alarm, World } from '../world.js'
import type { Handler } from './context.js'
import { ApiError } from './errors.js'
import { epochSeconds, optNumber, optString, optStrings, type JsonObject } from './json-input.js'
import { getMetricData } from './cloudwatch-metric-data.js'
import { paginate } from './pagination.js'
import { intRange, lengthRange, oneOf } from './validate.js'

const V = 'ValidationError'
const STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const
const TYPES = ['MetricAlarm', 'CompositeAlarm'] as const

function stateReasonData(a: Alarm): string {
  return JSON.stringify({ version: '1.0', queryDate: new Date(a.updatedAt).toISOString() })
}

/** An alarm on a group's metric names its load balancer and the group, as ALB publishes them. */
function alarmDimensions(tgArn: string, world: World): Array<{ Name: string; Value: string }> {
  const lb = world.targetGroups.get(tgArn)?.loadBalancerArns[0]
  return [
    ...(lb ? [{ Name: 'LoadBalancer', Value: dimensionValue(lb) }] : []),
    { Name: 'TargetGroup', Value: dimensionValue(tgArn) }
  ]
}

function metricAlarmShape(a: Alarm, world: World) {
  return {
    AlarmName: a.name,
    AlarmArn: a.arn,
    AlarmDescription: '',
    AlarmConfigurationUpdatedTimestamp: epochSeconds(a.updatedAt),
    ActionsEnabled: true,
    OKActions: [],
    AlarmActions: [],
    InsufficientDataActions: [],
    StateValue: a.state,
    StateReason: a.reason,
    StateReasonData: stateReasonData(a),
    StateUpdatedTimestamp: epochSeconds(a.updatedAt),
    StateTransitionedTimestamp: epochSeconds(a.updatedAt),
    MetricName: 'HTTPCode_Target_5XX_Count',
    Namespace: 'AWS/ApplicationELB',
    Statistic: 'Sum',
    Dimensions: a.watch?.targetGroupArn
      ? alarmDimensions(a.watch.targetGroupArn, world)
      : a.watch?.loadBalancerArn
        ? [{ Name: 'LoadBalancer', Value: dimensionValue(a.watch.loadBalancerArn) }]
        : [],
    Period: a.watch ? Math.max(10, Math.round(a.watch.windowMs / 1000)) : 60,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    Threshold: a.watch?.threshold ?? 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching'
  }
}

function compositeAlarmShape(a: Alarm) {
  return {
    AlarmName: a.name,
    AlarmArn: a.arn,
    AlarmDescription: '',
    AlarmConfigurationUpdatedTimestamp: epochSeconds(a.updatedAt),
    ActionsEnabled: true,
    OKActions: [],
    AlarmActions: [],
    InsufficientDataActions: [],
    AlarmRule: (a.anyOf ?? []).map((n) => `ALARM("${n}")`).join(' OR '),
    StateValue: a.state,
    StateReason: a.reason,
    StateReasonData: stateReasonData(a),
    StateUpdatedTimestamp: epochSeconds(a.updatedAt),
    StateTransitionedTimestamp: epochSeconds(a.updatedAt)
  }
}

const describeAlarms: Handler<JsonObject> = (body, { world }) => {
  const names = optStrings(body, 'AlarmNames')
  const prefix = optString(body, 'AlarmNamePrefix')
  const types = optStrings(body, 'AlarmTypes')
  const state = optString(body, 'StateValue')
  const maxRecords = optNumber(body, 'MaxRecords')
  lengthRange(V, names, 'AlarmNames', 0, 100)
  for (const n of names ?? []) lengthRange(V, n, 'AlarmNames.member', 1, 255)
  lengthRange(V, prefix, 'AlarmNamePrefix', 1, 255)
  for (const t of types ?? []) oneOf(V, t, 'AlarmTypes.member', TYPES)
  oneOf(V, state, 'StateValue', STATES)
  intRange(V, maxRecords, 'MaxRecords', 1, 100)
  if (names && names.length > 0 && prefix !== undefined) {
    throw new ApiError('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be specified together')
  }
  // Without AlarmTypes, DescribeAlarms returns metric alarms only.
  const wanted = new Set(types && types.length > 0 ? types : ['MetricAlarm'])
  const alarms = [...world.alarms.values()]
    .filter(
      (a) =>
        wanted.has(a.type) &&
        (!names || names.length === 0 || names.includes(a.name)) &&
        (prefix === undefined || a.name.startsWith(prefix)) &&
        (state === undefined || a.state === state)
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const p = paginate(
    'DescribeAlarms',
    alarms,
    optString(body, 'NextToken'),
    maxRecords ?? 50,
    () => new ApiError('InvalidNextToken', 'The service cannot complete the request: invalid NextToken')
  )
  return {
    MetricAlarms: p.items.filter((a) => a.type === 'MetricAlarm').map((a) => metricAlarmShape(a, world)),
    CompositeAlarms: p.items.filter((a) => a.type === 'CompositeAlarm').map(compositeAlarmShape),
    ...(p.next ? { NextToken: p.next } : {})
  }
}

export const cloudwatchOperations: Record<string, Handler<JsonObject>> = {
  DescribeAlarms: describeAlarms,
  GetMetricData: getMetricData
}
