import { describe, expect, it } from '@jest/globals'
import { type GitHubRun, runIdentity } from '../../../src/runtime/run-identity.js'

function githubRun(overrides: Partial<GitHubRun> & { repository?: string } = {}): GitHubRun {
  const { repository = 'acme/web', ...rest } = overrides
  return {
    runId: 1658821493,
    runAttempt: 2,
    sha: 'ffac537e6cbbf934b08745a378932722df287a53',
    actor: 'octocat',
    workflow: 'deploy',
    job: 'canary',
    serverUrl: 'https://github.com',
    get repo() {
      // Like @actions/github's context outside a workflow run.
      if (!repository)
        throw new Error("context.repo requires a GITHUB_REPOSITORY environment variable like 'owner/repo'")
      const [owner, repo] = repository.split('/')
      return { owner, repo }
    },
    ...rest
  }
}

describe('runIdentity from the GitHub context', () => {
  it('names the run, its attempt and who started it, with a link to this attempt', () => {
    const run = runIdentity(githubRun())
    expect(run).toMatchObject({
      url: 'https://github.com/acme/web/actions/runs/1658821493/attempts/2',
      repository: 'acme/web',
      runId: '1658821493',
      attempt: 2,
      sha: 'ffac537e6cbbf934b08745a378932722df287a53',
      actor: 'octocat',
      workflow: 'deploy',
      job: 'canary'
    })
    expect(run.id).toMatch(/^1658821493-2-canary-[0-9a-f]{6}$/)
  })

  it('two jobs of one run get different ids', () => {
    expect(runIdentity(githubRun({ job: 'canary' })).id).not.toBe(runIdentity(githubRun({ job: 'canary' })).id)
  })

  it('on GitHub Enterprise Server the link uses its server URL', () => {
    expect(runIdentity(githubRun({ serverUrl: 'https://ghe.example.com' })).url).toMatch(
      /^https:\/\/ghe\.example\.com\/acme\/web\/actions\/runs\//
    )
  })

  it.each([
    [
      'outside a workflow run (no repository, no run id)',
      githubRun({ repository: '', runId: NaN, runAttempt: NaN, job: '' })
    ],
    ['a run id of 0, as the context reports a missing one', githubRun({ runId: 0 })]
  ])('%s: a local run, attempt 1, an id that is still unique', (_case, github) => {
    const run = runIdentity(github, 'dev-box')
    expect(run.url).toBe('local run on dev-box')
    expect(run.attempt).toBe(github.runAttempt > 0 ? github.runAttempt : 1)
    expect(run.id).toMatch(/^local-\d+-[\w-]+-[0-9a-f]{6}$/)
  })

  it('keeps the id within the characters a tag value allows', () => {
    expect(runIdentity(githubRun({ job: 'deploy (eu, prod)' })).id).toMatch(/^[A-Za-z0-9_.:/=+\-@]+$/)
  })
})
