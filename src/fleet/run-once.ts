import { getInvocation } from '../aws/ssm-commands.js'
import { consoleUrl } from '../aws/console-links.js'
import type { Config } from '../config/inputs.js'
import { DeployError, messageOf } from '../config/errors.js'
import { clipComment, commandComment, elapsed, outputTail } from '../plan/command-policy.js'
import { HOOK_INPUT, type HookName, hookParameters } from '../plan/run-once-plan.js'
import type { RunContext } from '../runtime/context.js'
import { runCommand } from './run-commands.js'

/** What a run-once hook did, for the summary: where, how it ended, the end of its output. */
export interface HookRun {
  hook: HookName
  instanceId: string
  startedAt: number
  commandId?: string
  consoleUrl?: string
  status: string
  exitCode?: number
  durationMs?: number
  /** Last lines of output, as the instance wrote them (escaped only when rendered). */
  outputTail?: string
}

/**
 * Runs a hook's commands once, on one instance of the new fleet, through the deploy's document,
 * and hands `onReport` what happened before judging it (the summary shows the output whatever
 * comes next). Throws when the hook did not succeed: what follows it must not happen.
 */
export async function runOnce(
  config: Pick<
    Config,
    'document' | 'documentParameters' | 'commandTimeoutMs' | 'cloudWatchLogGroup' | 'version' | 'region'
  >,
  ctx: RunContext,
  request: { hook: HookName; lines: string[]; instanceId: string; version?: string },
  hooks: { onSent(commandIds: string[]): void; onReport(run: HookRun): void }
): Promise<HookRun> {
  const { hook, instanceId } = request
  const input = HOOK_INPUT[hook]
  const run: HookRun = { hook, instanceId, startedAt: ctx.clock.now(), status: 'Pending' }
  ctx.log.info(`Running ${input} once, on ${instanceId}`)
  let outcome: Awaited<ReturnType<typeof runCommand>>
  try {
    outcome = await runCommand(
      ctx.clients.ssm,
      {
        instanceIds: [instanceId],
        document: config.document,
        parameters: hookParameters(config.documentParameters, request.lines),
        executionTimeoutMs: config.commandTimeoutMs,
        maxConcurrency: '1',
        maxErrors: '0',
        comment: clipComment(
          commandComment({
            version: `${shortVersion(request.version ?? config.version)} ${hook}`,
            repository: ctx.run.repository,
            runId: ctx.run.runId
          })
        ),
        cloudWatchLogGroup: config.cloudWatchLogGroup
      },
      {
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
        onSent: (ids) => {
          run.commandId = ids[0]
          hooks.onSent(ids)
        }
      }
    )
  } catch (error) {
    if (ctx.signal.aborted) throw error
    hooks.onReport({ ...run, status: 'Failed' })
    throw new DeployError(`${input}: ${messageOf(error)}`)
  }
  const result = outcome.results[0]
  Object.assign(run, {
    commandId: outcome.commandIds[0],
    consoleUrl: outcome.commandIds[0] ? consoleUrl(config.region, outcome.commandIds[0]) : undefined,
    status: result?.status ?? 'Pending',
    exitCode: result?.exitCode,
    durationMs: result?.durationMs,
    outputTail: result?.outputTail
  })
  // The runner fetches output of failures only; a hook's output is worth showing either way
  // (what the migration did), and it is one call.
  if (run.status === 'Success' && run.commandId) {
    await getInvocation(ctx.clients.ssm, run.commandId, instanceId)
      .then((detail) => {
        run.outputTail = outputTail(detail.StandardOutputContent ?? '', detail.StandardErrorContent ?? '') || undefined
        run.durationMs ??= elapsed(detail.ExecutionStartDateTime, detail.ExecutionEndDateTime)
      })
      .catch((e: unknown) => ctx.log.warning(`Could not read the output of ${input} on ${instanceId}: ${messageOf(e)}`))
  }
  hooks.onReport(run)
  if (run.status !== 'Success') {
    const exit = run.exitCode !== undefined ? `exit ${run.exitCode}` : run.status
    throw new DeployError(`${input} ${outcome.timedOut ? 'timed out' : 'failed'} on ${instanceId} (${exit})`)
  }
  ctx.log.info(`${input} succeeded on ${instanceId}`)
  return run
}

function shortVersion(version: string): string {
  return /^[0-9a-f]{13,}$/i.test(version) ? version.slice(0, 12) : version
}
