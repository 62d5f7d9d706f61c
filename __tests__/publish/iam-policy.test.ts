// The README's IAM policies as documents (the end-to-end completeness test proves the deploy
// role's actions against the calls the action makes), and a check that needs no sandbox: every
// AWS SDK command the source can send is granted, so a call on a path no scenario reaches (an
// error path, the post step) still has its permission.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from '@jest/globals'
import { IAM_PREFIX_OF_SDK_PACKAGE } from '../__fixtures__/iam.js'
import { allowedActions, asList, readmePolicy, REPO_ROOT } from '../__fixtures__/readme.js'

/** Every `XxxCommand` (and `paginateXxx`) imported from an AWS SDK client in src/, as an IAM action. */
function sdkActionsInSource(dir: string): { actions: string[]; unknownPackages: string[] } {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  const actions = new Set<string>()
  const unknownPackages = new Set<string>()
  for (const file of files) {
    const source = readFileSync(path.join(dir, file), 'utf8')
    for (const m of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      const names = m[1]
        .split(',')
        .map(
          (n) =>
            n
              .trim()
              .replace(/^type\s+/, '')
              .split(/\s+as\s+/)[0]
        )
        .filter(Boolean)
      const operations = names.flatMap(
        (n) => /^(?!.*Client$)([A-Z]\w+)Command$/.exec(n)?.[1] ?? /^paginate([A-Z]\w+)$/.exec(n)?.[1] ?? []
      )
      if (operations.length === 0) continue
      const prefix = IAM_PREFIX_OF_SDK_PACKAGE[m[2]]
      if (!prefix) unknownPackages.add(m[2])
      else for (const op of operations) actions.add(`${prefix}:${op}`)
    }
  }
  return { actions: [...actions].sort(), unknownPackages: [...unknownPackages] }
}

const deployRole = readmePolicy('deploy-role-policy')

describe("the deploy role's policy", () => {
  it('is a valid policy: Version 2012-10-17, unique Sids, Allow statements, no wildcard actions', () => {
    expect(deployRole.Version).toBe('2012-10-17')
    const sids = deployRole.Statement.map((s) => s.Sid)
    expect(new Set(sids).size).toBe(sids.length)
    for (const statement of deployRole.Statement) {
      expect(statement.Effect).toBe('Allow')
      expect(asList(statement.Resource).length).toBeGreaterThan(0)
      for (const action of asList(statement.Action)) expect(action).toMatch(/^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$/)
    }
  })

  it('grants every AWS SDK command the source imports', () => {
    const { actions, unknownPackages } = sdkActionsInSource(path.join(REPO_ROOT, 'src'))
    expect(unknownPackages).toEqual([])
    expect(actions.length).toBeGreaterThan(10)
    const granted = allowedActions(deployRole)
    expect(actions.filter((a) => !granted.includes(a))).toEqual([])
  })

  it('leaves composite alarms readable: cloudwatch:DescribeAlarms is granted on *', () => {
    const statements = deployRole.Statement.filter((s) => asList(s.Action).includes('cloudwatch:DescribeAlarms'))
    expect(statements.map((s) => asList(s.Resource))).toEqual([['*']])
  })

  it('scopes ssm:SendCommand to documents and tagged instances, never *', () => {
    const resources = deployRole.Statement.filter((s) => asList(s.Action).includes('ssm:SendCommand')).flatMap((s) =>
      asList(s.Resource)
    )
    expect(resources.length).toBeGreaterThan(0)
    for (const r of resources)
      expect(r).toMatch(/^arn:aws:(ssm:[a-z0-9-]+:\d*:document\/|ec2:[a-z0-9-]+:\d{12}:instance\/)/)
  })
})

describe('the other README policies', () => {
  it('the trust policy accepts exactly the push on main and the production environment, for STS', () => {
    const trust = readmePolicy('deploy-role-trust')
    expect(trust.Statement).toHaveLength(1)
    const [statement] = trust.Statement
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity')
    const equals = statement.Condition?.StringEquals ?? {}
    expect(equals['token.actions.githubusercontent.com:aud']).toBe('sts.amazonaws.com')
    expect(asList(equals['token.actions.githubusercontent.com:sub']).sort()).toEqual([
      'repo:OWNER/REPO:environment:production',
      'repo:OWNER/REPO:ref:refs/heads/main'
    ])
  })

  it("the instance role's log statements are what SSM's CloudWatch output needs", () => {
    expect(allowedActions(readmePolicy('instance-role-log-policy'))).toEqual([
      'logs:CreateLogGroup',
      'logs:CreateLogStream',
      'logs:DescribeLogGroups',
      'logs:DescribeLogStreams',
      'logs:PutLogEvents'
    ])
  })
})
