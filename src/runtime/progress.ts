import * as core from '@actions/core'
import type { Weights } from '../plan/forward-action.js'

/**
 * Everything the post step needs to undo a run that did not finish: the single value that crosses
 * from main to post (saved with core.saveState, read back from STATE_progress).
 */
export interface Progress {
  region: string
  runId: string
  pair: [string, string]
  newFleet?: string
  stableFleet?: string
  listenerArns: string[]
  ruleArns: string[]
  /** Weights to restore on each route (by ARN) if traffic moved and the run did not finish. */
  restore?: Record<string, Weights>
  trafficMoved: boolean
  commandIds: string[]
  lockArn?: string
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
