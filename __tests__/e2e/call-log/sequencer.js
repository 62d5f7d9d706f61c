// Jest's default order, except that the IAM completeness test runs last: it reads the API calls the
// other end-to-end tests made against the sandbox (see record-calls.ts). Before the run, this also
// opens a fresh directory for those calls and lists the end-to-end files of this run in it, so the
// completeness test knows whose calls to wait for. Workers inherit ACTION_CALL_LOG_DIR from here.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import process from 'node:process'
import TestSequencer from '@jest/test-sequencer'

export const COMPLETENESS_TEST = /iam-policy-complete\.e2e\.test\.ts$/

// The package is CommonJS: its class is the default export's `default` when loaded from ESM.
const DefaultSequencer = TestSequencer.default ?? TestSequencer

export default class CallLogSequencer extends DefaultSequencer {
  async sort(tests) {
    const sorted = [...(await super.sort(tests))]
    const last = sorted.filter((t) => COMPLETENESS_TEST.test(t.path))
    const ordered = [...sorted.filter((t) => !COMPLETENESS_TEST.test(t.path)), ...last]
    if (last.length > 0) openCallLog(last[0].context.config.rootDir, ordered)
    return ordered
  }
}

function openCallLog(rootDir, tests) {
  const base = path.join(rootDir, '.sandbox', 'call-log')
  // Directories of earlier runs whose Jest process is gone.
  if (existsSync(base)) {
    for (const entry of readdirSync(base)) {
      const pid = Number(/^run-(\d+)$/.exec(entry)?.[1])
      if (pid && pid !== process.pid && !alive(pid)) rmSync(path.join(base, entry), { recursive: true, force: true })
    }
  }
  const dir = path.join(base, `run-${process.pid}`)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const e2eFiles = tests
    .filter((t) => t.context.config.displayName?.name === 'e2e' && !COMPLETENESS_TEST.test(t.path))
    .map((t) => t.path)
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ e2eFiles }, null, 2))
  process.env.ACTION_CALL_LOG_DIR = dir
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
