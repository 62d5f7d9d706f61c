import type { Config } from '../config/inputs.js'
import { commandComment } from '../plan/command-policy.js'
import { consoleUrl, logGroupUrl } from '../aws/console-links.js'
import type { RunContext } from '../runtime/context.js'
import { DeployError } from '../config/errors.js'
import { type InstanceCommandResult, runCommand } from './run-commands.js'

/** What the deploy commands did, per instance, for the summary and the outputs. */
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

/**
 * Runs the deploy's document on the whole idle fleet (it serves no traffic, so every instance
 * takes the new code at once) and hands `report` what happened before judging it: the summary
 * shows each failed instance's output whatever comes next. Throws when more instances failed
 * than max-errors allows, since no traffic may reach a fleet whose deploy failed.
 */
export async function runDeployCommands(
  config: Config,
  ctx: RunContext,
  instanceIds: string[],
  hooks: { onSent(commandIds: string[]): void; onReport(report: CommandReport): void }
): Promise<CommandReport> {
  const outcome = await runCommand(
    ctx.clients.ssm,
    {
      instanceIds,
      document: config.document,
      parameters: config.documentParameters,
      executionTimeoutMs: config.commandTimeoutMs,
      maxConcurrency: config.maxConcurrency,
      maxErrors: config.maxErrors,
      comment: commandComment({ version: config.version, repository: ctx.run.repository, runId: ctx.run.runId }),
      cloudWatchLogGroup: config.cloudWatchLogGroup
    },
    { clock: ctx.clock, log: ctx.log, signal: ctx.signal, onSent: hooks.onSent }
  )
  const first = outcome.commandIds[0]
  const report: CommandReport = {
    commandIds: outcome.commandIds,
    documentName: config.document,
    consoleUrl: first ? consoleUrl(config.region, first) : undefined,
    logGroupUrl: config.cloudWatchLogGroup ? logGroupUrl(config.region, config.cloudWatchLogGroup) : undefined,
    total: instanceIds.length,
    succeeded: outcome.succeeded,
    failed: outcome.failed,
    instances: outcome.results
  }
  hooks.onReport(report)
  if (!outcome.withinMaxErrors) {
    const why = outcome.timedOut ? `timed out after command-timeout` : `failed`
    throw new DeployError(
      `The deploy commands ${why} on ${outcome.failed} of ${instanceIds.length} instances (max-errors ${config.maxErrors}); no traffic was moved: see the failed instances' output below`
    )
  }
  return report
}
