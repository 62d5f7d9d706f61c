// The load balancer's CloudWatch metrics (namespace AWS/ApplicationELB), computed from what the
// sandbox's proxy really served. Every request the proxy answers is recorded once, with its load
// balancer, the target group it was routed to, the target's status and response time, or the
// error the load balancer answered itself. GetMetricData (sandbox/aws/cloudwatch.ts) and the 5xx
// alarms (sandbox/fleet/alarm-evaluator.ts) read it through the publication model below, so they
// see only what CloudWatch would have published by then.
//
// Publication, two models:
//   'aws'          each load balancer node reports a minute once it closes; the minute's datapoint
//                  appears `delayMs` later (AWS publishes no figure; users report 1-3 minutes).
//                  Faithful, and slow: every scenario would wait minutes for its first datapoint.
//   'progressive'  SANDBOX SIMPLIFICATION (the default of startSandbox): time is compressed, not
//                  reshaped. Nodes report every `flushMs` (a second instead of a minute), and each
//                  report is published `delayMs` later (seconds instead of minutes) into the open
//                  minute's datapoint, which grows until the minute closes. Timestamps, periods,
//                  statistics and the "no request, no datapoint" rule stay AWS's. A client that
//                  handles AWS's timing (data late, the newest minute possibly partial) handles this
//                  too; it just gets its evidence in seconds.
//
// Dimensions published, as ALB does (AvailabilityZone combinations are not modelled: the sandbox
// has no zones): {LoadBalancer} for every metric below, {LoadBalancer, TargetGroup} for the target
// metrics and RequestCount. HTTPCode_ELB_* exist only per load balancer: a 502 the load balancer
// makes because a target reset the connection is in HTTPCode_ELB_502_Count and in the group's
// TargetConnectionErrorCount, never in its HTTPCode_Target_5XX_Count.

export const NAMESPACE = 'AWS/ApplicationELB'
const MINUTE = 60_000

export interface AlbRequest {
  at: number
  loadBalancerArn: string
  /** The group the request was routed to (absent for fixed-response, redirect, no forward). */
  targetGroupArn?: string
  /** Status the target answered with (absent when no target answered). */
  targetStatus?: number
  /** Time from sending the request to the target until its response headers arrived. */
  targetMs?: number
  /** The load balancer could not establish (or lost) the connection to the target. */
  connectionError?: boolean
  /** Status the load balancer generated itself (502, 503, 504, fixed responses...). */
  elbStatus?: number
}

export interface Publication {
  mode: 'aws' | 'progressive'
  /** 'aws': after the minute closes; 'progressive': after each flush. */
  delayMs: number
  /** 'progressive' only: how often the nodes report. Default 1000. */
  flushMs?: number
}

/** What the sandbox publishes unless told otherwise: compressed time (see above). */
export const SANDBOX_PUBLICATION: Publication = { mode: 'progressive', delayMs: 2000, flushMs: 1000 }

type Unit = 'Count' | 'Seconds'

interface MetricDef {
  unit: Unit
  /** Published with {LoadBalancer, TargetGroup} too (else only {LoadBalancer}). */
  perTargetGroup: boolean
  /** The samples one request contributes: counts give 1 when it counts, latency its seconds. */
  sample(r: AlbRequest): number | undefined
}

const inClass = (status: number | undefined, hundred: number): boolean =>
  status !== undefined && status >= hundred && status < hundred + 100

const count = (pred: (r: AlbRequest) => boolean, perTargetGroup: boolean): MetricDef => ({
  unit: 'Count',
  perTargetGroup,
  sample: (r) => (pred(r) ? 1 : undefined)
})

export const METRICS: Readonly<Record<string, MetricDef>> = {
  RequestCount: count(() => true, true),
  HTTPCode_Target_2XX_Count: count((r) => inClass(r.targetStatus, 200), true),
  HTTPCode_Target_3XX_Count: count((r) => inClass(r.targetStatus, 300), true),
  HTTPCode_Target_4XX_Count: count((r) => inClass(r.targetStatus, 400), true),
  HTTPCode_Target_5XX_Count: count((r) => inClass(r.targetStatus, 500), true),
  TargetConnectionErrorCount: count((r) => r.connectionError === true, true),
  TargetResponseTime: {
    unit: 'Seconds',
    perTargetGroup: true,
    sample: (r) => (r.targetMs === undefined ? undefined : r.targetMs / 1000)
  },
  HTTPCode_ELB_4XX_Count: count((r) => inClass(r.elbStatus, 400), false),
  HTTPCode_ELB_5XX_Count: count((r) => inClass(r.elbStatus, 500), false),
  HTTPCode_ELB_502_Count: count((r) => r.elbStatus === 502, false),
  HTTPCode_ELB_503_Count: count((r) => r.elbStatus === 503, false),
  HTTPCode_ELB_504_Count: count((r) => r.elbStatus === 504, false)
}

/** The dimension value AWS uses for a load balancer or target group ARN (the part after the colon). */
export function dimensionValue(arn: string): string {
  return arn.replace(/^arn:[^:]+:elasticloadbalancing:[^:]*:\d*:(loadbalancer\/)?/, '')
}

export interface Series {
  metricName: string
  unit: Unit
  loadBalancerArn: string
  targetGroupArn?: string
}

export interface Datapoint {
  /** Start of the period (epoch ms). */
  timestamp: number
  value: number
}

/** Statistics GetMetricData accepts that this model computes. */
export const STATISTIC = /^(Sum|Average|Minimum|Maximum|SampleCount|p(100|[1-9]?\d(\.\d{1,2})?))$/

/** How long raw requests are kept (a sandbox runs for minutes). */
const RETAIN_MS = 3 * 3600_000

export class AlbMetrics {
  publication: Publication = { ...SANDBOX_PUBLICATION }
  private readonly byMinute = new Map<number, AlbRequest[]>()
  private readonly loadBalancers = new Set<string>()
  private readonly groups = new Map<string, Set<string>>()
  private oldest = Infinity

  record(r: AlbRequest): void {
    const minute = Math.floor(r.at / MINUTE) * MINUTE
    let list = this.byMinute.get(minute)
    if (!list) {
      this.byMinute.set(minute, (list = []))
      this.oldest = Math.min(this.oldest, minute)
      this.prune(minute)
    }
    list.push(r)
    this.loadBalancers.add(r.loadBalancerArn)
    if (r.targetGroupArn) {
      let set = this.groups.get(r.loadBalancerArn)
      if (!set) this.groups.set(r.loadBalancerArn, (set = new Set()))
      set.add(r.targetGroupArn)
    }
  }

  /**
   * The time before which every request is published at `now`: requests at or after it are not
   * visible yet. 'aws': the end of the last minute whose delay has passed.
   */
  publishedBefore(now: number): number {
    const p = this.publication
    if (p.mode === 'aws') return Math.floor((now - p.delayMs) / MINUTE) * MINUTE
    const flush = Math.max(1, p.flushMs ?? 1000)
    return Math.floor((now - p.delayMs) / flush) * flush
  }

  /**
   * The series a metric name and dimension set name, when the load balancer publishes that
   * combination (and has ever seen the resources): CloudWatch answers any other with no data.
   */
  series(
    namespace: string,
    metricName: string,
    dimensions: Array<{ Name: string; Value: string }>
  ): Series | undefined {
    const def = Object.hasOwn(METRICS, metricName) ? METRICS[metricName] : undefined
    if (namespace !== NAMESPACE || !def) return undefined
    const names = dimensions.map((d) => d.Name).sort()
    const value = (name: string): string | undefined => dimensions.find((d) => d.Name === name)?.Value
    const lb = [...this.loadBalancers].find((arn) => dimensionValue(arn) === value('LoadBalancer'))
    if (!lb) return undefined
    if (names.length === 1 && names[0] === 'LoadBalancer') return { metricName, unit: def.unit, loadBalancerArn: lb }
    if (names.length === 2 && names[0] === 'LoadBalancer' && names[1] === 'TargetGroup' && def.perTargetGroup) {
      const tg = [...(this.groups.get(lb) ?? [])].find((arn) => dimensionValue(arn) === value('TargetGroup'))
      return tg ? { metricName, unit: def.unit, loadBalancerArn: lb, targetGroupArn: tg } : undefined
    }
    return undefined
  }

  /**
   * Datapoints of a series, oldest first, as CloudWatch aggregates data stored at one-minute
   * resolution: one datapoint per period that holds at least one sample, timestamped at the
   * period's start. Periods start at `startMs` rounded down (to the minute, or for a period under
   * a minute to a multiple of it) and a minute belongs to a period when its own timestamp does;
   * `endMs` is exclusive. Only what is published at `now` counts.
   */
  datapoints(s: Series, statistic: string, startMs: number, endMs: number, periodS: number, now: number): Datapoint[] {
    const def = METRICS[s.metricName]
    const periodMs = periodS * 1000
    const start = periodS >= 60 ? Math.floor(startMs / MINUTE) * MINUTE : Math.floor(startMs / periodMs) * periodMs
    const horizon = this.publishedBefore(now)
    const buckets = new Map<number, number[]>()
    for (const [minute, requests] of this.byMinute) {
      if (minute < start || minute >= endMs || minute >= horizon) continue
      const bucket = start + Math.floor((minute - start) / periodMs) * periodMs
      let samples = buckets.get(bucket)
      for (const r of requests) {
        if (r.at >= horizon || r.loadBalancerArn !== s.loadBalancerArn) continue
        if (s.targetGroupArn && r.targetGroupArn !== s.targetGroupArn) continue
        const v = def.sample(r)
        if (v === undefined) continue
        if (!samples) buckets.set(bucket, (samples = []))
        samples.push(v)
      }
    }
    return [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([timestamp, samples]) => ({ timestamp, value: statisticOf(statistic, samples) }))
  }

  /**
   * Requests routed to the group (or served by the load balancer, given its ARN), and how many got
   * a 5xx (from the target or the load balancer), in the `windowMs` of published data that ends at
   * the publication horizon: what an alarm on their 5xx share evaluates. Like a CloudWatch alarm,
   * it sees the newest published data, not the last seconds.
   */
  window(arn: string, windowMs: number, now = Date.now()): { total: number; errors: number } {
    const wholeLoadBalancer = arn.includes(':loadbalancer/')
    const to = this.publishedBefore(now)
    const from = to - windowMs
    const out = { total: 0, errors: 0 }
    for (const [minute, requests] of this.byMinute) {
      if (minute + MINUTE <= from || minute >= to) continue
      for (const r of requests) {
        if ((wholeLoadBalancer ? r.loadBalancerArn : r.targetGroupArn) !== arn || r.at < from || r.at >= to) continue
        out.total++
        if (inClass(r.targetStatus, 500) || inClass(r.elbStatus, 500)) out.errors++
      }
    }
    return out
  }

  private prune(newest: number): void {
    if (newest - this.oldest <= RETAIN_MS) return
    for (const minute of this.byMinute.keys()) if (minute < newest - RETAIN_MS) this.byMinute.delete(minute)
    this.oldest = [...this.byMinute.keys()].reduce((a, b) => Math.min(a, b), Infinity)
  }
}

/** A CloudWatch statistic over raw samples; percentiles by nearest rank. */
export function statisticOf(statistic: string, samples: number[]): number {
  switch (statistic) {
    case 'Sum':
      return samples.reduce((a, b) => a + b, 0)
    case 'SampleCount':
      return samples.length
    case 'Average':
      return samples.reduce((a, b) => a + b, 0) / samples.length
    case 'Minimum':
      return samples.reduce((a, b) => Math.min(a, b), Infinity)
    case 'Maximum':
      return samples.reduce((a, b) => Math.max(a, b), -Infinity)
  }
  const p = Number(statistic.slice(1))
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}
