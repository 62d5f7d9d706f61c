// examples/cloudformation/alb-blue-green.yaml: well-formed against CloudFormation's resource
// schemas, shaped the way the action expects the AWS side, and granting the deploy role exactly
// the README's policy (whose completeness the end-to-end test proves).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { loadSpec, parseTemplate, templateProblems, type Template } from '../__fixtures__/cloudformation.js'
import { allowedActions, readmePolicy, REPO_ROOT, type PolicyDocument } from '../__fixtures__/readme.js'

const template = parseTemplate(
  readFileSync(path.join(REPO_ROOT, 'examples/cloudformation/alb-blue-green.yaml'), 'utf8')
)
let db: Awaited<ReturnType<typeof loadSpec>>

beforeAll(async () => {
  db = await loadSpec()
}, 60_000)

type Props = Record<string, unknown>
const resourcesOfType = (type: string): Array<[string, Props]> =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([name, r]) => [name, (r.Properties ?? {}) as Props])
const policyNamed = (role: Props, name: string): PolicyDocument =>
  (role.Policies as Array<{ PolicyName: string; PolicyDocument: PolicyDocument }>).find((p) => p.PolicyName === name)!
    .PolicyDocument

describe('the CloudFormation example', () => {
  it("is well-formed against CloudFormation's resource schemas", () => {
    expect(templateProblems(template, db)).toEqual([])
  })

  it('the check finds what CloudFormation would reject', () => {
    const broken = structuredClone(template) as Template
    const listener = broken.Resources.Listener.Properties as Props
    delete listener.DefaultActions
    listener.Prot = 'HTTP'
    ;(broken.Resources.BlueTargetGroup.Properties as Props).Port = 'eighty'
    ;(broken.Resources.GreenTargetGroup.Properties as Props).TargetGroupAttributes = [
      { Kee: 'stickiness.enabled', Value: 'true' }
    ]
    ;(broken.Resources.DeployRole.Properties as Props).RoleName = { Ref: 'Nothing' }
    broken.Resources.Extra = { Type: 'AWS::EC2::Nonsense', Properties: {} }
    expect(templateProblems(broken, db).sort()).toEqual(
      [
        'Listener: missing required property DefaultActions',
        'Listener: unknown property Prot',
        'BlueTargetGroup.Port: expected a number',
        'GreenTargetGroup.TargetGroupAttributes[0]: unknown property Kee',
        'DeployRole: Ref to undefined Nothing',
        'Extra: unknown resource type AWS::EC2::Nonsense'
      ].sort()
    )
  })

  it('has two instance target groups with health checks, each with its own instances', () => {
    const groups = resourcesOfType('AWS::ElasticLoadBalancingV2::TargetGroup')
    expect(groups.map(([, g]) => g.Name).sort()).toEqual(['web-blue', 'web-green'])
    for (const [, group] of groups) {
      expect(group).toMatchObject({
        TargetType: 'instance',
        HealthCheckEnabled: true,
        HealthCheckPath: expect.any(String)
      })
      expect((group.Targets as unknown[]).length).toBeGreaterThanOrEqual(2)
    }
    const targets = groups.flatMap(([, g]) => (g.Targets as Array<{ Id: { Ref: string } }>).map((t) => t.Id.Ref))
    expect(new Set(targets).size).toBe(targets.length)
    for (const id of targets) expect(template.Resources[id].Type).toBe('AWS::EC2::Instance')
  })

  it('has a listener forwarding to both groups, blue 100 and green 0', () => {
    const [[, listener]] = resourcesOfType('AWS::ElasticLoadBalancingV2::Listener')
    expect(listener.DefaultActions).toEqual([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: { Ref: 'BlueTargetGroup' }, Weight: 100 },
            { TargetGroupArn: { Ref: 'GreenTargetGroup' }, Weight: 0 }
          ],
          TargetGroupStickinessConfig: { Enabled: false }
        }
      }
    ])
  })

  it('gives the instances the SSM core policy and the README instance role log statements', () => {
    const role = template.Resources.InstanceRole.Properties as Props
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain('AmazonSSMManagedInstanceCore')
    expect(allowedActions(policyNamed(role, 'command-output'))).toEqual(
      allowedActions(readmePolicy('instance-role-log-policy'))
    )
  })

  it("gives the deploy role the README's policy, statement by statement, and trusts both OIDC subjects", () => {
    const role = template.Resources.DeployRole.Properties as Props
    const deploy = policyNamed(role, 'deploy')
    const readme = readmePolicy('deploy-role-policy')
    const bySid = (p: PolicyDocument) => Object.fromEntries(p.Statement.map((s) => [s.Sid, [s.Action].flat().sort()]))
    expect(bySid(deploy)).toEqual(bySid(readme))
    const trust = JSON.stringify(role.AssumeRolePolicyDocument)
    expect(trust).toContain('repo:${GitHubRepository}:ref:refs/heads/main')
    expect(trust).toContain('repo:${GitHubRepository}:environment:${ProductionEnvironment}')
    expect(trust).toContain('"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"')
  })
})
