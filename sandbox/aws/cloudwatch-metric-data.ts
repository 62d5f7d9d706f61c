// CloudWatch GetMetricData over the load balancer metrics the sandbox's proxy produced
// (sandbox/metrics/alb-metrics.ts), with the API reference's semantics:
//   - MetricDataQueries 1-500, each with a unique Id (lowercase letter first, then letters, digits,
//     _) and either MetricStat or Expression; metric math and Metrics Insights are not modelled
//     (ValidationError saying so, rather than a wrong answer);
//   - Period: 1, 5, 10, 20, 30 or a multiple of 60; ALB metrics are standard resolution (stored per
//     minute), so a shorter period returns at most the minute's own datapoint;
//   - StartTime inclusive, rounded down to the minute; EndTime exclusive; StartTime < EndTime;
//   - a count is published only when nonzero, and nothing at all when no request flowed: an
//     absent datapoint means "no data", a dimension combination ALB does not publish has none;
//   - Unit that differs from the metric's: no data ("CloudWatch does not perform unit conversions");
//   - ScanBy (default TimestampDescending), MaxDatapoints (default 100,800) with NextToken and
//     StatusCode PartialData / Complete, Label (default: the metric name), ReturnData false.

import { STATISTIC, type Series } from '../metrics/alb-metrics.js'
import type { Handler } from './context.js'
import { ApiError } from './errors.js'
import { epochSeconds, optBool, optNumber, optObject, optObjects, optString, type JsonObject } from './json-input.js'
import { paginate } from './pagination.js'
import { oneOf } from './validate.js'

const V = 'ValidationError'
const MAX_QUERIES = 500
const DEFAULT_MAX_DATAPOINTS = 100_800
const ID = /^[a-z][a-zA-Z0-9_]*$/
const SUB_MINUTE_PERIODS = [1, 5, 10, 20, 30]
const UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None'
]

interface Query {
  id: string
  label?: string
  returnData: boolean
  namespace: string
  metricName: string
  dimensions: Array<{ Name: string; Value: string }>
  periodS: number
  stat: string
  unit?: string
}

function timestamp(body: JsonObject, member: string): number {
  const v = body[member]
  if (v === undefined || v === null) throw new ApiError(V, `The parameter ${member} is required.`)
  if (typeof v !== 'number') throw new ApiError('SerializationException', `Expected timestamp for member ${member}`)
  return v * 1000
}

function parseQuery(q: JsonObject, n: number): Query {
  const at = `MetricDataQueries.member.${n}`
  const id = optString(q, 'Id')
  if (!id || id.length > 255 || !ID.test(id)) {
    throw new ApiError(
      V,
      `The value ${JSON.stringify(id ?? '')} for parameter ${at}.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores (1-255).`
    )
  }
  const stat = optObject(q, 'MetricStat')
  const expression = optString(q, 'Expression')
  if (stat && expression !== undefined)
    throw new ApiError(V, `The parameters ${at}.MetricStat and ${at}.Expression are mutually exclusive.`)
  if (expression !== undefined)
    throw new ApiError(
      V,
      `${at}.Expression: the sandbox does not evaluate metric math or Metrics Insights queries; use MetricStat.`
    )
  if (!stat) throw new ApiError(V, `Either ${at}.MetricStat or ${at}.Expression must be specified.`)
  const metric = optObject(stat, 'Metric')
  const metricName = metric ? optString(metric, 'MetricName') : undefined
  const namespace = metric ? optString(metric, 'Namespace') : undefined
  if (!metric || !metricName || !namespace)
    throw new ApiError(V, `${at}.MetricStat.Metric needs a Namespace and a MetricName.`)
  const dimensions = (optObjects(metric, 'Dimensions') ?? []).map((d, i) => {
    const name = optString(d, 'Name')
    const value = optString(d, 'Value')
    if (!name || !value || name.length > 255 || value.length > 1024) {
      throw new ApiError(
        V,
        `${at}.MetricStat.Metric.Dimensions.member.${i + 1} needs a Name (1-255) and a Value (1-1024).`
      )
    }
    return { Name: name, Value: value }
  })
  if (dimensions.length > 30) throw new ApiError(V, `${at}.MetricStat.Metric.Dimensions: at most 30 dimensions.`)
  const periodS = optNumber(stat, 'Period')
  if (periodS === undefined) throw new ApiError(V, `The parameter ${at}.MetricStat.Period is required.`)
  if (!Number.isInteger(periodS) || periodS < 1 || !(periodS % 60 === 0 || SUB_MINUTE_PERIODS.includes(periodS))) {
    throw new ApiError(V, `The parameter ${at}.MetricStat.Period must be 1, 5, 10, 20, 30 or a multiple of 60.`)
  }
  const statistic = optString(stat, 'Stat')
  if (!statistic) throw new ApiError(V, `The parameter ${at}.MetricStat.Stat is required.`)
  if (!STATISTIC.test(statistic)) {
    throw new ApiError(
      V,
      `${at}.MetricStat.Stat ${JSON.stringify(statistic)}: the sandbox computes Sum, Average, Minimum, Maximum, SampleCount and pNN.NN.`
    )
  }
  const unit = optString(stat, 'Unit')
  oneOf(V, unit, `${at}.MetricStat.Unit`, UNITS)
  return {
    id,
    label: optString(q, 'Label'),
    returnData: optBool(q, 'ReturnData') ?? true,
    namespace,
    metricName,
    dimensions,
    periodS,
    stat: statistic,
    unit
  }
}

export const getMetricData: Handler<JsonObject> = (body, { world, now }) => {
  const raw = optObjects(body, 'MetricDataQueries')
  if (!raw || raw.length === 0) throw new ApiError(V, 'The parameter MetricDataQueries is required.')
  if (raw.length > MAX_QUERIES)
    throw new ApiError(V, `The collection MetricDataQueries must not have more than ${MAX_QUERIES} members.`)
  const queries = raw.map((q, i) => parseQuery(q, i + 1))
  const ids = new Set<string>()
  for (const q of queries) {
    if (ids.has(q.id))
      throw new ApiError(V, `The value ${q.id} of the parameter MetricDataQueries.member.Id is duplicated.`)
    ids.add(q.id)
  }
  const start = timestamp(body, 'StartTime')
  const end = timestamp(body, 'EndTime')
  if (start === end) throw new ApiError(V, 'The parameter StartTime must not equal parameter EndTime.')
  if (start > end) throw new ApiError(V, 'The parameter StartTime must be less than the parameter EndTime.')
  const scanBy = optString(body, 'ScanBy') ?? 'TimestampDescending'
  oneOf(V, scanBy, 'ScanBy', ['TimestampDescending', 'TimestampAscending'])
  const maxDatapoints = optNumber(body, 'MaxDatapoints') ?? DEFAULT_MAX_DATAPOINTS
  if (!Number.isInteger(maxDatapoints) || maxDatapoints < 1)
    throw new ApiError(V, 'The parameter MaxDatapoints must be a positive integer.')

  const at = now()
  const returned = queries.filter((q) => q.returnData)
  const points = returned.flatMap((q, qi) => {
    const s: Series | undefined = world.metrics.series(q.namespace, q.metricName, q.dimensions)
    if (!s || (q.unit !== undefined && q.unit !== s.unit)) return []
    const list = world.metrics.datapoints(s, q.stat, start, end, q.periodS, at)
    if (scanBy === 'TimestampDescending') list.reverse()
    return list.map((p) => ({ qi, ...p }))
  })
  const page = paginate(
    'GetMetricData',
    points,
    optString(body, 'NextToken'),
    maxDatapoints,
    () => new ApiError('InvalidNextToken', 'The service cannot complete the request: invalid NextToken')
  )
  // What is left for later pages: a query with datapoints there is PartialData on this one.
  const rest =
    page.next && page.items.length > 0 ? points.slice(points.indexOf(page.items[page.items.length - 1]) + 1) : []
  return {
    MetricDataResults: returned.map((q, qi) => {
      const mine = page.items.filter((p) => p.qi === qi)
      const more = rest.some((p) => p.qi === qi)
      return {
        Id: q.id,
        Label: q.label ?? q.metricName,
        Timestamps: mine.map((p) => epochSeconds(p.timestamp)),
        Values: mine.map((p) => p.value),
        StatusCode: more ? 'PartialData' : 'Complete',
        Messages: []
      }
    }),
    Messages: [],
    ...(page.next ? { NextToken: page.next } : {})
  }
}
