import * as core from '@actions/core'
import { createClients } from './aws/clients.js'
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Route } from './aws/elbv2.js'
import { systemClock } from './runtime/clock.js'
import type { Config } from './config/inputs.js'
import type { RunContext } from './runtime/context.js'
import { deploy } from './operations/deploy.js'
import { DeployError, InputErrors } from './config/errors.js'
import { actionsLog } from './runtime/log.js'
import { setOutputs } from './report/outputs.js'
import { saveProgress } from './runtime/progress.js'
import { promote } from './operations/promote.js'
import type { RunReport } from './report/report.js'
import { newReport } from './report/report.js'
import { rollback } from './operations/rollback.js'
import { runIdentity } from './runtime/run-identity.js'
import { status } from './operations/status.js'
import { retire } from './operations/retire.js'
import { renderSummary } from './report/summary.js'

const OPERATIONS: Record<Config['operation'], (config: Config, ctx: RunContext) => Promise<RunReport>> = {
  deploy,
  promote,
  rollback,
  status,
  retire
}

/** What the first stage (main.ts) has already done by the time this module is loaded. */
export interface Started {
  startedAt: number
  config?: Config
  /** The parse error, when the inputs could not be used. */
  inputError?: unknown
  elb?: ElasticLoadBalancingV2Client
  routes?: Promise<Route[]>
}

/** The main step: one operation, outputs and the job summary out. */
export async function runOperation(started: Started): Promise<void> {
  const cancel = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (!cancel.signal.aborted) core.warning(`Received ${signal}: stopping, and restoring traffic if it moved`)
    cancel.abort(new DeployError(`The run was cancelled (${signal})`))
  }
  // The runner sends SIGINT on cancel, SIGTERM 7.5 s later, then kills: handle both to restore in time.
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const { startedAt, config } = started
  try {
    if (started.inputError || !config) throw started.inputError
    for (const warning of config.warnings) core.warning(warning)
    const ctx: RunContext = {
      clients: createClients(config.region, started.elb),
      clock: systemClock,
      log: actionsLog,
      run: runIdentity(),
      signal: cancel.signal,
      saveProgress,
      routesAtStart: started.routes
    }
    const report = await OPERATIONS[config.operation](config, ctx)
    setOutputs(report)
    await writeSummary(report)
    // The result as an annotation on the run's page: a notice when the step did what was asked,
    // the failure's one line otherwise.
    if (failed(report)) core.setFailed(report.headline)
    else core.notice(report.headline, { title: `${report.operation}: ${report.result}` })
  } catch (error) {
    const message =
      error instanceof DeployError ? error.message : `Unexpected error: ${(error as Error)?.stack ?? String(error)}`
    const report = newReport(config ?? { operation: 'deploy', dryRun: false, version: '' }, startedAt)
    report.result = 'failed'
    report.headline =
      error instanceof DeployError ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`
    report.finishedAt = Date.now()
    setOutputs(report)
    await writeSummary(report).catch(() => undefined)
    if (error instanceof InputErrors) {
      // One annotation per input, each the line it would be alone.
      for (const inputError of error.errors) core.error(inputError.message)
      process.exitCode = core.ExitCode.Failure
    } else {
      core.setFailed(message)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** A deploy or promote that did not get its traffic where it was asked to is a failed step. */
function failed(report: RunReport): boolean {
  if (report.result === 'failed') return true
  return report.result === 'rolled-back' && report.operation !== 'rollback'
}

async function writeSummary(report: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderSummary(report), true).write()
}
