import type { Operation } from './config.js'
import type { Weights } from './forward-action.js'

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
  commands?: CommandReport
  failure?: FailureReport
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
}

export interface InstanceHealth {
  id: string
  state: string
  reason?: string
  description?: string
}

export interface RouteReport {
  arn: string
  label: string
  before: Weights
  after: Weights
}

export interface PlanReport {
  newFleet: string
  oldFleet: string
  instanceIds: string[]
  steps: Array<{ weight: number; holdMs: number }>
  /** Weights written back on failure, per route ARN. */
  restore: Record<string, Weights>
  /** True when the last step is under 100: the run stops there for a later promote. */
  pauses: boolean
  checks: string[]
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

export interface CommandReport {
  commandIds: string[]
  documentName: string
  consoleUrl?: string
  logGroupUrl?: string
  total: number
  succeeded: number
  failed: number
  instances: InstanceCommandResult[]
}

export interface InstanceCommandResult {
  instanceId: string
  status: string
  statusDetails?: string
  exitCode?: number
  durationMs?: number
  /** Last lines of output, as the instance wrote it (escaped only when rendered). */
  outputTail?: string
}

export interface FailureReport {
  /** What failed, in the user's words: "alarm web-5xx went to ALARM". */
  what: string
  at: number
  /** The traffic step it failed at (1-based), 0 before traffic moved. */
  step: number
  weight: number
}
