import * as core from '@actions/core'
import type { Weights } from '../plan/forward-action.js'
import type { FleetRecord } from '../plan/fleet-record.js'

/**
 * Everything the post step needs to finish a run that did not (cancelled, killed, crashed): the
 * single value that crosses from main to post (saved with core.saveState, read back from
 * STATE_progress). The post step changes nothing unless this run's claim is still the pair's lock.
 */
export interface Progress {
  region: string
  /** This run's identity in the lock: the post step acts only while the lock still names it. */
  runId: string
  operation: 'deploy' | 'promote' | 'rollback' | 'retire'
  pair: [string, string]
  newFleet?: string
  stableFleet?: string
  listenerArns: string[]
  ruleArns: string[]
  /** Weights the post step writes back on each route (by ARN) should the run end with traffic moved. */
  restore?: Record<string, Weights>
  /**
   * The pair's weights this run may have left on each route (before and after its last write).
   * Anything else is someone else's change, which the post step leaves as it is.
   */
  expected?: Record<string, Weights[]>
  trafficMoved: boolean
  commandIds: string[]
  /** The records the main step would have written had it ended here, per target group. */
  records?: Record<string, FleetRecord>
  /** Parameter Store name of the pair's lock. */
  lockName?: string
  /**
   * False while the run is still taking the lock: a post step then finds it either its own (the
   * create went through just before the runner died) or not, and in neither case is that news.
   */
  lockTaken?: boolean
  /** A group of the pair has target stickiness: a restore must leave group stickiness on (AWS requires it). */
  targetSticky?: boolean
  /** With auto-rollback off the post step leaves moved traffic where it is, as the main step would. */
  autoRollback: boolean
  /**
   * Auto Scaling processes this run suspended on the new fleet's group, until they are resumed: the
   * post step resumes them, even after a finished main step that could not.
   */
  suspended?: { group: string; processes: string[] }
  /** Preview rules this run opened: the post step removes them. */
  previewRuleArns?: string[]
  /**
   * The new fleet keeps all traffic from here on (contract-commands run, or ran): the old fleet may
   * no longer work with the data, so the post step must neither restore nor mark the fleet failed.
   */
  settled?: boolean
  /** Set when main finished its work, whatever the result: post then has nothing to undo. */
  finished: boolean
}

const KEY = 'progress'

export function saveProgress(progress: Progress): void {
  core.saveState(KEY, JSON.stringify(progress))
}

export function loadProgress(): Progress | undefined {
  const text = core.getState(KEY)
  if (!text) return undefined
  try {
    return JSON.parse(text) as Progress
  } catch {
    return undefined
  }
}
