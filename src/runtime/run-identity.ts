import { randomBytes } from 'node:crypto'
import { context } from '@actions/github'

/** This run, as other runs see it in the lock, and as a person finds it again. */
export interface RunIdentity {
  id: string
  url: string
  repository?: string
  runId?: string
  attempt: number
  sha?: string
  actor?: string
  workflow?: string
  job?: string
}

/**
 * The fields of @actions/github's `context` this action reads (the toolkit every action uses to
 * know its run). `repo` throws outside a workflow run, when GITHUB_REPOSITORY is not set.
 */
export interface GitHubRun {
  runId: number
  runAttempt: number
  sha: string
  actor: string
  workflow: string
  job: string
  serverUrl: string
  readonly repo: { owner: string; repo: string }
}

/** This workflow run as other runs and people see it: a lock id and a link. */
export function runIdentity(run: GitHubRun = context, host = process.env.HOSTNAME): RunIdentity {
  const repository = repositoryOf(run)
  const runId = Number.isInteger(run.runId) && run.runId > 0 ? String(run.runId) : undefined
  const attempt = Number.isInteger(run.runAttempt) && run.runAttempt > 0 ? run.runAttempt : 1
  const url =
    repository && runId
      ? `${run.serverUrl}/${repository}/actions/runs/${runId}/attempts/${attempt}`
      : `local run on ${host ?? 'this machine'}`
  // The suffix tells apart two jobs of one run, which share run id and attempt.
  const id = `${runId ?? 'local'}-${attempt}-${run.job || 'job'}-${randomBytes(3).toString('hex')}`.replace(
    /[^A-Za-z0-9_.:/=+\-@]/g,
    '-'
  )
  return {
    id,
    url,
    repository,
    runId,
    attempt,
    sha: run.sha || undefined,
    actor: run.actor || undefined,
    workflow: run.workflow || undefined,
    job: run.job || undefined
  }
}

function repositoryOf(run: GitHubRun): string | undefined {
  try {
    const { owner, repo } = run.repo
    return `${owner}/${repo}`
  } catch {
    return undefined
  }
}
