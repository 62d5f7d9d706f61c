import type { InstanceHealth } from '../aws/elbv2.js'
import type { Operation } from '../config/inputs.js'
import type { AutoScalingReport, FleetGroupsReport } from '../fleet/auto-scaling.js'
import type { CommandReport } from '../fleet/deploy-commands.js'
import type { HookRun } from '../fleet/run-once.js'
import type { StepAnalysis } from '../plan/canary-judgement.js'
import type { PlanReport } from '../plan/deploy-plan.js'
import type { Weights } from '../plan/forward-action.js'
import type { PreviewReport } from '../plan/preview-rule.js'

/** How an operation ended; also the `result` output. */
export type Result = 'succeeded' | 'paused' | 'rolled-back' | 'failed' | 'unchanged'

/** What a run did, collected as it goes; the job summary and the outputs are built from it. */
export interface RunReport {
  operation: Operation
  dryRun: boolean
  result: Result
  /** One line saying what happened, and on failure what to do next. */
  headline: string
  startedAt: number
  finishedAt: number
  version?: string
  /** Link to the workflow run, when known. */
  runUrl?: string
  fleets: FleetReport[]
  routes: RouteReport[]
  plan?: PlanReport
  timeline: TimelineEntry[]
  /** The canary judge's verdict on each step it judged, with the numbers. */
  analysis?: StepAnalysis[]
  commands?: CommandReport
  /** The run-once hooks that ran (before-traffic-commands, contract-commands), in order. */
  hooks?: HookRun[]
  /** The preview route: planned, open, or removed. */
  preview?: PreviewReport
  /** Whether the previous fleet is still a safe rollback target (status). */
  rollbackSafety?: { safe: boolean; line: string }
  failure?: FailureReport
  /** What the run did to the Auto Scaling group of the fleet it worked on (group fleets only). */
  autoScaling?: AutoScalingReport
  warnings: string[]
  /** The step's outputs (also what the summary's facts are drawn from). */
  outputs: RunOutputs
}

export interface RunOutputs {
  live?: string
  idle?: string
  previous?: string
  deployed?: string
  commandId?: string
  instanceIds?: string[]
  /** Target group ARN -> percent of traffic at the end (the first route's, when routes differ). */
  weights?: Weights
}

export interface FleetReport {
  targetGroupArn: string
  name: string
  /** Role before and after this run, as recorded on AWS or seen in the weights. */
  roleBefore?: string
  roleAfter?: string
  versionBefore?: string
  versionAfter?: string
  deployedAt?: string
  deployedBy?: string
  /** Percent of traffic (averaged over routes when they differ) before and after. */
  weightBefore: number
  weightAfter: number
  instances: InstanceHealth[]
  /** The Auto Scaling groups behind the fleet; absent for a fleet of plain instances. */
  autoScaling?: FleetGroupsReport
}

export interface RouteReport {
  arn: string
  label: string
  before: Weights
  after: Weights
}

export interface TimelineEntry {
  /** 1-based step number; 0 for the restore after a failure. */
  step: number
  /** Percent of traffic on the new fleet. */
  weight: number
  startedAt: number
  heldMs: number
  outcome: 'held' | 'failed' | 'paused' | 'restored' | 'cancelled'
  /** What the checks saw during the hold, e.g. "alarm web-5xx OK", "3/3 targets healthy". */
  checks: string[]
}

export interface FailureReport {
  /** What failed, in the user's words: "alarm web-5xx went to ALARM". */
  what: string
  at: number
  /** The traffic step it failed at (1-based), 0 before traffic moved. */
  step: number
  weight: number
}

/** An empty report for a run starting now: filled in as the run goes. */
export function newReport(
  config: { operation: Operation; dryRun: boolean; version: string },
  startedAt: number,
  runUrl?: string
): RunReport {
  return {
    operation: config.operation,
    dryRun: config.dryRun,
    result: 'unchanged',
    headline: '',
    startedAt,
    finishedAt: startedAt,
    version: config.operation === 'deploy' ? config.version : undefined,
    runUrl,
    fleets: [],
    routes: [],
    timeline: [],
    analysis: [],
    warnings: [],
    outputs: {}
  }
}
