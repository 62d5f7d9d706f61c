import * as core from '@actions/core'
import { createClients } from './aws/clients.js'
import { cleanup } from './operations/cleanup.js'
import { systemClock } from './runtime/clock.js'
import { actionsLog } from './runtime/log.js'
import { loadProgress } from './runtime/progress.js'

/** The post step: runs after every main step, and undoes what an unfinished one left behind. */
export async function runPost(): Promise<void> {
  try {
    const progress = loadProgress()
    if (!progress || (progress.finished && !progress.suspended)) {
      core.info('Nothing to clean up: the main step finished')
      return
    }
    await cleanup(progress, createClients(progress.region), actionsLog, systemClock)
  } catch (error) {
    core.setFailed(`Post step: ${(error as Error).message}`)
  }
}
