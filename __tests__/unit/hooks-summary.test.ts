// The summary's hook, preview and rollback blocks: output from instances cannot break the page,
// the curl line is shown as it is (or escaped when it could escape its block).
import { describe, expect, it } from '@jest/globals'
import type { RunReport } from '../../src/report/report.js'
import { renderSummary } from '../../src/report/summary.js'
import { canarySuccess, dryRun, EVIL, GREEN, LISTENER, T0 } from '../__fixtures__/reports.js'

const CURL = "curl -H 'X-Preview: v1.5.0' http://web-1234.eu-west-1.elb.amazonaws.com/"

function withHooks(): RunReport {
  return {
    ...canarySuccess(),
    hooks: [
      {
        hook: 'before-traffic',
        instanceId: 'i-0a1',
        startedAt: T0,
        status: 'Success',
        exitCode: 0,
        durationMs: 4200,
        outputTail: 'Applying app.0042_add_column... OK',
        commandId: 'cmd-9',
        consoleUrl: 'https://eu-west-1.console.aws.amazon.com/systems-manager/run-command/cmd-9'
      },
      {
        hook: 'contract',
        instanceId: 'i-0a1',
        startedAt: T0,
        status: 'Failed',
        exitCode: 1,
        outputTail: EVIL,
        commandId: 'cmd-10'
      }
    ],
    preview: {
      header: 'X-Preview',
      value: 'v1.5.0',
      fleet: GREEN,
      state: 'removed',
      rules: [{ listenerArn: LISTENER, routeArn: LISTENER, priority: 50000, curl: CURL }]
    }
  }
}

describe('summary: run-once hooks', () => {
  it('a table row per hook with where it ran, and each output tail escaped inside <details>', () => {
    const summary = renderSummary(withHooks())
    expect(summary).toContain('### Run-once hooks')
    expect(summary).toMatch(
      /\| `before-traffic-commands` \| i-0a1 \| Success \| 0 \| 4s \| \[SSM command\]\(https:\/\/eu-west-1\.console\.aws\.amazon\.com\/systems-manager\/run-command\/cmd-9\) \|/
    )
    expect(summary).toMatch(/\| `contract-commands` \| i-0a1 \| \*\*Failed\*\* \| 1 \| – \| cmd-10 \|/)
    expect(summary).toContain('<details><summary>before-traffic-commands on i-0a1: Success, exit 0</summary>')
    expect(summary).toContain('Applying app.0042_add_column... OK')
    expect(summary).toContain('<details><summary>contract-commands on i-0a1: Failed, exit 1</summary>')
    expect(summary).not.toContain('<script>')
    expect(summary).not.toContain('<img src=x')
    expect(summary).toContain('&lt;script&gt;')
    const contractOutput = summary.slice(summary.indexOf('<details><summary>contract-commands'))
    expect(contractOutput.slice(0, contractOutput.indexOf('</details>'))).not.toContain('`')
    expect(summary).toContain('@\u200Boctocat')
  })
})

describe('summary: preview', () => {
  it('shows the header, the rule and a curl line in a shell block while the preview is open', () => {
    const report = {
      ...withHooks(),
      result: 'paused' as const,
      preview: { ...withHooks().preview!, state: 'open' as const }
    }
    const summary = renderSummary(report)
    expect(summary).toContain('### Preview')
    expect(summary).toContain('Requests carrying `X-Preview: v1.5.0` reach **web-green** only')
    expect(summary).toContain('open until a promote or rollback ends the canary')
    expect(summary).toContain(['```sh', CURL, '```'].join('\n'))
    expect(summary).toMatch(/\| web listener f2f7dc8e \| 50000 \| – \|/)
  })
  it('says the preview was removed, and drops the curl line that no longer works', () => {
    const summary = renderSummary(withHooks())
    expect(summary).toContain('removed when the run ended')
    expect(summary).not.toContain(CURL)
  })
  it('a curl line that could break out of its block is escaped inline instead', () => {
    const report = withHooks()
    report.preview = {
      ...report.preview!,
      state: 'open',
      value: 'v`1',
      rules: [{ ...report.preview!.rules[0], curl: "curl -H 'X: v`1\n# x' http://lb/" }]
    }
    const summary = renderSummary(report)
    expect(summary).not.toContain('```sh')
    expect(summary).toContain('&#96;')
    expect(summary).not.toMatch(/^# x/m)
  })
  it('a dry run says the preview would open', () => {
    const report = { ...dryRun(), preview: { ...withHooks().preview!, state: 'planned' as const } }
    expect(renderSummary(report)).toContain('would open')
  })
})

describe('summary: rollback target', () => {
  it.each([
    [true, '✅ web-blue &#40;v1&#41; is a safe rollback target'],
    [false, '⛔ web-blue &#40;v1&#41; is NOT a safe rollback target']
  ])('safe %p', (safe, shown) => {
    const line = safe ? 'web-blue (v1) is a safe rollback target' : 'web-blue (v1) is NOT a safe rollback target'
    const summary = renderSummary({ ...canarySuccess(), rollbackSafety: { safe, line } })
    expect(summary).toContain(`### Rollback\n\n${shown}`)
  })
})
