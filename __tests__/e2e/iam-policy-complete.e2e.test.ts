// The README's deploy-role policy is exactly what the action needs: every API action the action
// called in this run's end-to-end scenarios is in the policy, and every action in the policy was
// called by some scenario. Runs after the other end-to-end files (the sequencer orders it last)
// and reads the calls they recorded (call-log/record-calls.ts), so a scenario added by any test
// file counts, and a new API call fails here until the policy grants it.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it, jest } from '@jest/globals'
import { iamActionOfCall, isActionUserAgent } from '../__fixtures__/iam.js'
import { allowedActions, readmePolicy, REPO_ROOT } from '../__fixtures__/readme.js'
import { recordedScenarios, runManifest, waitForRecordings } from './call-log/call-log.js'

const WAIT_FOR_OTHER_FILES_MS = 9 * 60_000
jest.setTimeout(WAIT_FOR_OTHER_FILES_MS + 30_000)

const packageName = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string }).name

describe('the deploy role policy in the README', () => {
  it('grants every API action the action called in the end-to-end scenarios, and nothing they did not call', async () => {
    const dir = process.env.ACTION_CALL_LOG_DIR
    if (!dir)
      throw new Error(
        'ACTION_CALL_LOG_DIR is not set: run Jest with the config in jest.config.js (its test sequencer sets it)'
      )
    const { e2eFiles } = runManifest(dir)
    if (e2eFiles.length === 0) {
      throw new Error(
        'this run has no other end-to-end test file: run this test with them (npm test, or jest --selectProjects e2e)'
      )
    }
    const missing = await waitForRecordings(dir, e2eFiles, WAIT_FOR_OTHER_FILES_MS)
    expect({ 'test files whose calls were not recorded': missing }).toEqual({
      'test files whose calls were not recorded': []
    })

    const calledBy = new Map<string, Set<string>>()
    for (const { testFile, scenario, calls } of recordedScenarios(dir)) {
      for (const call of calls.filter((c) => isActionUserAgent(c.userAgent, packageName))) {
        const action = iamActionOfCall(call.service, call.operation)
        if (!calledBy.has(action)) calledBy.set(action, new Set())
        calledBy.get(action)!.add(`${path.basename(testFile)}: ${scenario}`)
      }
    }
    // The recording must have seen the action at all, or both lists below would pass vacuously.
    expect(calledBy.size).toBeGreaterThan(0)

    const granted = allowedActions(readmePolicy('deploy-role-policy'))
    const calledNotGranted = [...calledBy.keys()].filter((a) => !granted.includes(a)).sort()
    const grantedNeverCalled = granted.filter((a) => !calledBy.has(a))
    const where = Object.fromEntries(calledNotGranted.map((a) => [a, [...calledBy.get(a)!].slice(0, 3)]))
    expect({ 'called by the action, missing from the README policy': where }).toEqual({
      'called by the action, missing from the README policy': {}
    })
    expect({ 'in the README policy, called by no scenario': grantedNeverCalled }).toEqual({
      'in the README policy, called by no scenario': []
    })
  })
})
