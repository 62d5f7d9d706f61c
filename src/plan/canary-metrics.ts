import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch'
import type { FleetSample } from './canary-judgement.js'
import type { MetricSeries } from '../aws/metric-data.js'

// What the canary judge asks CloudWatch, and how it reads the answer back, as pure functions of
// the ARNs, the window and the datapoints. The load balancer publishes these per target group
// with two dimensions, `LoadBalancer=app/<name>/<id>` and `TargetGroup=targetgroup/<name>/<id>`;
// only that exact combination has the per-fleet numbers.

export const NAMESPACE = 'AWS/ApplicationELB'
const MINUTE = 60_000

/** `app/<name>/<id>` from a listener or listener rule ARN of an Application Load Balancer. */
export function loadBalancerDimension(routeArn: string): string | undefined {
  return /:listener(?:-rule)?\/(app\/[^/]+\/[^/]+)\//.exec(routeArn)?.[1]
}

/** `targetgroup/<name>/<id>` from a target group ARN. */
export function targetGroupDimension(targetGroupArn: string): string {
  return /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn)?.[1] ?? targetGroupArn
}

/** The load balancers of the routes, once each: a pair's routes normally share one. */
export function loadBalancerDimensions(routeArns: string[]): string[] {
  return [...new Set(routeArns.map(loadBalancerDimension).filter((d): d is string => d !== undefined))]
}

/**
 * Whole minutes from the one holding `from` to the one after `now`: ALB data is stored per
 * minute, GetMetricData rounds StartTime down to the minute anyway, and EndTime is exclusive.
 */
export interface MetricWindow {
  start: number
  end: number
}

export function metricWindow(from: number, now: number): MetricWindow {
  const start = Math.floor(from / MINUTE) * MINUTE
  return { start, end: Math.max(start + MINUTE, Math.ceil((now + 1) / MINUTE) * MINUTE) }
}

type Count = 'req' | 't5xx' | 'conn'
const COUNTS: Record<Count, string> = {
  req: 'RequestCount',
  t5xx: 'HTTPCode_Target_5XX_Count',
  conn: 'TargetConnectionErrorCount'
}

const id = (fleet: string, lb: number, what: string): string => `${fleet}${lb}_${what}`

/**
 * Queries for one fleet (`fleet` is a short lowercase name, e.g. `n` or `s`): its counts per
 * minute (Sum: Minimum, Maximum and Average of an ALB count are all 1) and its response time
 * over the whole window in one datapoint (a period as long as the window), so that the average
 * and the p99 are CloudWatch's own over every request, not an average of per-minute figures.
 */
export function fleetQueries(
  fleet: string,
  loadBalancers: string[],
  targetGroup: string,
  window: MetricWindow
): MetricDataQuery[] {
  const wholeWindow = (window.end - window.start) / 1000
  return loadBalancers.flatMap((lb, i) => {
    const metric = (MetricName: string) => ({
      Namespace: NAMESPACE,
      MetricName,
      Dimensions: [
        { Name: 'LoadBalancer', Value: lb },
        { Name: 'TargetGroup', Value: targetGroup }
      ]
    })
    return [
      ...(Object.entries(COUNTS) as Array<[Count, string]>).map(([what, name]) => ({
        Id: id(fleet, i, what),
        MetricStat: { Metric: metric(name), Period: 60, Stat: 'Sum' }
      })),
      {
        Id: id(fleet, i, 'avg'),
        MetricStat: { Metric: metric('TargetResponseTime'), Period: wholeWindow, Stat: 'Average' }
      },
      {
        Id: id(fleet, i, 'p99'),
        MetricStat: { Metric: metric('TargetResponseTime'), Period: wholeWindow, Stat: 'p99' }
      }
    ]
  })
}

/** The load balancer's own request count: a query that only proves the metrics can be read. */
export function loadBalancerRequests(loadBalancer: string, i: number): MetricDataQuery {
  return {
    Id: `lb${i}_req`,
    MetricStat: {
      Metric: {
        Namespace: NAMESPACE,
        MetricName: 'RequestCount',
        Dimensions: [{ Name: 'LoadBalancer', Value: loadBalancer }]
      },
      Period: 60,
      Stat: 'Sum'
    }
  }
}

export interface FleetEvidence {
  sample: FleetSample
  /** Minutes (start, epoch ms) for which the fleet's RequestCount has arrived. */
  minutes: number[]
}

/**
 * A fleet's numbers over the window, filling gaps only where ALB's reporting rules allow it. A
 * minute counts when its RequestCount has arrived; in such a minute a missing 5xx or connection
 * error count is zero (ALB reports those only when nonzero). A minute without RequestCount is no
 * data, not zero requests: it may not be published yet, and its 5xx, if any, are left out too, so
 * numerator and denominator always cover the same minutes.
 */
export function fleetEvidence(fleet: string, loadBalancers: number, series: MetricSeries): FleetEvidence {
  const minutes = new Set<number>()
  const sample: FleetSample = { requests: 0, errors: 0, target5xx: 0, connectionErrors: 0 }
  let latencyWeight = 0
  let latencySum = 0
  for (let i = 0; i < loadBalancers; i++) {
    const byMinute = (what: Count) => new Map((series.get(id(fleet, i, what)) ?? []).map((p) => [p.at, p.value]))
    const requests = byMinute('req')
    const target5xx = byMinute('t5xx')
    const connection = byMinute('conn')
    let served = 0
    for (const [minute, count] of requests) {
      minutes.add(minute)
      served += count
      sample.target5xx += target5xx.get(minute) ?? 0
      sample.connectionErrors += connection.get(minute) ?? 0
    }
    sample.requests += served
    const avg = series.get(id(fleet, i, 'avg'))?.[0]?.value
    const p99 = series.get(id(fleet, i, 'p99'))?.[0]?.value
    if (avg !== undefined && served > 0) {
      latencySum += avg * 1000 * served
      latencyWeight += served
    }
    // Several load balancers (rare: a pair is normally behind one): the worst p99 stands for all.
    if (p99 !== undefined) sample.latencyP99Ms = Math.max(sample.latencyP99Ms ?? 0, p99 * 1000)
  }
  sample.errors = sample.target5xx + sample.connectionErrors
  if (latencyWeight > 0) sample.latencyAvgMs = latencySum / latencyWeight
  return { sample, minutes: [...minutes].sort((a, b) => a - b) }
}
