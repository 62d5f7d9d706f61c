// Keeps a sandbox running for a run of the action from source, e.g. with GitHub's
// @github/local-action (see CONTRIBUTING.md): writes a dotenv file with the AWS endpoint, dummy
// credentials, the runner's variables and the action's inputs (a canary deploy of v2 to the idle
// fleet), prints the command to run, and serves until Ctrl-C.
//
//   npm run sandbox:serve -- [--env-file .sandbox/local-action.env]

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { inputEnvName, REPO_ROOT } from './run-action.js'
import { startSandbox } from './sandbox.js'

const args = process.argv.slice(2)
const envFileArg = args.includes('--env-file') ? args[args.indexOf('--env-file') + 1] : undefined
const envFile = path.resolve(envFileArg ?? path.join(REPO_ROOT, '.sandbox', 'local-action.env'))

const sb = await startSandbox({ healthIntervalMs: 500 })
const inputs: Record<string, string> = {
  'listener-arns': sb.listenerArn,
  strategy: 'canary',
  'canary-steps': '10,50,100',
  'step-wait': '5s',
  'health-timeout': '60s',
  'command-timeout': '60s',
  alarms: 'web-green-5xx',
  version: 'v2',
  commands: 'echo v2 > version && echo ok > behaviour && ./restart'
}
const env: Record<string, string> = {
  ...sb.env,
  GITHUB_REPOSITORY: 'acme/web',
  GITHUB_RUN_ID: '1',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_JOB: 'deploy',
  GITHUB_WORKFLOW: 'deploy',
  GITHUB_ACTOR: 'octocat',
  GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
  GITHUB_SERVER_URL: 'https://github.com',
  ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [inputEnvName(name), value]))
}
mkdirSync(path.dirname(envFile), { recursive: true })
writeFileSync(
  envFile,
  Object.entries(env)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n') + '\n'
)

console.log(`Sandbox up: AWS endpoint ${sb.endpointUrl}, traffic through ${sb.proxyUrl}`)
console.log(`Inputs and environment in ${path.relative(process.cwd(), envFile)}; run the action from source with:`)
console.log(`  npx @github/local-action@7.0.1 run . src/main.ts ${path.relative(process.cwd(), envFile)}`)
console.log('Ctrl-C stops the sandbox.')

const stop = async (): Promise<void> => {
  await sb.stop()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
setInterval(() => undefined, 1 << 30)
