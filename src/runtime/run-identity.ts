import { randomBytes } from 'node:crypto'

/** This run, as other runs see it in the lock, and as a person finds it again. */
export interface RunIdentity {
  id: string
  url: string
  repository?: string
  runId?: string
}

/** This workflow run as other runs and people see it: a lock id and a link. */
export function runIdentity(env: NodeJS.ProcessEnv = process.env): RunIdentity {
  const repository = env.GITHUB_REPOSITORY
  const runId = env.GITHUB_RUN_ID
  const attempt = env.GITHUB_RUN_ATTEMPT ?? '1'
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com'
  const url =
    repository && runId
      ? `${server}/${repository}/actions/runs/${runId}/attempts/${attempt}`
      : `local run on ${env.HOSTNAME ?? 'this machine'}`
  // The suffix tells apart two jobs of one run, which share run id and attempt. The job comes
  // straight from GITHUB_JOB (what @actions/github's context.job reads): importing that package
  // for one variable would add its whole client to the bundle and to every start.
  const id = `${runId ?? 'local'}-${attempt}-${env.GITHUB_JOB || 'job'}-${randomBytes(3).toString('hex')}`.replace(
    /[^A-Za-z0-9_.:/=+\-@]/g,
    '-'
  )
  return { id, url, repository, runId }
}
