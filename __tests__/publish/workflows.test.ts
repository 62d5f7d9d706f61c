// Every workflow a user copies from the README, and every workflow and configuration in .github/,
// parses with GitHub's workflow parser, and the README's workflows carry what a deploy needs to
// work when copied: an OIDC token, one deploy at a time, and only inputs the action declares.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { workflowErrors } from '../__fixtures__/github-parser.js'
import { codeBlocks, readme, REPO_ROOT } from '../__fixtures__/readme.js'

interface Workflow {
  on?: unknown
  permissions?: Record<string, string> | string
  concurrency?: { group?: string; 'cancel-in-progress'?: boolean } | string
  jobs: Record<
    string,
    {
      permissions?: Record<string, string> | string
      concurrency?: Workflow['concurrency']
      steps?: Array<{ uses?: string; with?: Record<string, unknown> }>
    }
  >
}

const readmeWorkflows = codeBlocks(readme()).filter((b) => b.lang === 'yaml' || b.lang === 'yml')
const workflowDir = path.join(REPO_ROOT, '.github', 'workflows')
const repoWorkflows = readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f))
const actionInputs = Object.keys(
  (parse(readFileSync(path.join(REPO_ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs
)
const usesThisAction = (uses: string | undefined): boolean => /^OWNER\/REPO@/.test(uses ?? '')

describe('the README workflows', () => {
  it('are there to check (every yaml block in the README is a whole workflow)', () => {
    expect(readmeWorkflows.length).toBeGreaterThanOrEqual(4)
  })

  it('include the preview-then-approve workflow', () => {
    expect(readmeWorkflows.some((b) => /preview-header/.test(b.body) && /operation: promote/.test(b.body))).toBe(true)
  })

  it.each(readmeWorkflows.map((b) => [`line ${b.line}`, b] as const))(
    "the workflow at README %s parses with GitHub's workflow parser",
    (_line, block) => {
      expect(workflowErrors(`README.md:${block.line}`, block.body)).toEqual([])
    }
  )

  it.each(readmeWorkflows.map((b) => [`line ${b.line}`, b] as const))(
    'the workflow at README %s can assume a role, runs one deploy at a time and uses only declared inputs',
    (_line, block) => {
      const workflow = parse(block.body) as Workflow
      for (const [name, job] of Object.entries(workflow.jobs)) {
        const steps = job.steps ?? []
        if (!steps.some((s) => usesThisAction(s.uses))) continue
        // configure-aws-credentials with role-to-assume needs the job's OIDC token.
        const permissions = job.permissions ?? workflow.permissions
        expect([name, typeof permissions === 'object' ? permissions['id-token'] : permissions]).toEqual([name, 'write'])
        const concurrency = job.concurrency ?? workflow.concurrency
        expect([name, typeof concurrency === 'object' ? concurrency['cancel-in-progress'] : concurrency]).toEqual([
          name,
          false
        ])
        for (const step of steps.filter((s) => usesThisAction(s.uses))) {
          const unknown = Object.keys(step.with ?? {}).filter((input) => !actionInputs.includes(input))
          expect([name, unknown]).toEqual([name, []])
        }
      }
    }
  )
})

describe('the repository workflows', () => {
  it.each(repoWorkflows)(".github/workflows/%s parses with GitHub's workflow parser", (file) => {
    expect(workflowErrors(file, readFileSync(path.join(workflowDir, file), 'utf8'))).toEqual([])
  })

  it('include CI, the release and CodeQL', () => {
    expect(repoWorkflows).toEqual(expect.arrayContaining(['ci.yml', 'release.yml', 'codeql.yml']))
  })

  it('the parser rejects what GitHub rejects (a workflow without on:)', () => {
    expect(
      workflowErrors('x.yml', 'jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n')
    ).toEqual([expect.stringMatching(/Required property is missing: on/)])
  })
})

describe('dependabot', () => {
  const file = path.join(REPO_ROOT, '.github', 'dependabot.yml')
  const config = existsSync(file)
    ? (parse(readFileSync(file, 'utf8')) as {
        version: number
        updates: Array<{
          'package-ecosystem': string
          directory: string
          schedule: { interval: string }
          groups?: Record<string, { patterns?: string[] }>
        }>
      })
    : undefined

  it('updates npm and GitHub Actions weekly, the AWS SDK clients as one group', () => {
    expect(config?.version).toBe(2)
    const byEcosystem = Object.fromEntries((config?.updates ?? []).map((u) => [u['package-ecosystem'], u]))
    expect(Object.keys(byEcosystem).sort()).toEqual(['github-actions', 'npm'])
    for (const update of Object.values(byEcosystem)) {
      expect(update.directory).toBe('/')
      expect(update.schedule.interval).toMatch(/^(daily|weekly|monthly)$/)
    }
    const awsGroup = Object.values(byEcosystem.npm.groups ?? {}).find((g) => g.patterns?.includes('@aws-sdk/*'))
    expect(awsGroup).toBeDefined()
  })
})
