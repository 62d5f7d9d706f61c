// @actions/workflow-parser imports its schema files (`../action-v1.0.min.json`,
// `../workflow-v1.0.min.json`) without an import attribute, as a bundler expects. Jest's ESM
// runtime deprecates that, so jest.config.js maps those two imports here: the same files, read as
// JSON. Nothing about the schemas changes.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../node_modules/@actions/workflow-parser/dist'
)

export function parserSchema(file: 'action-v1.0.min.json' | 'workflow-v1.0.min.json'): unknown {
  return JSON.parse(readFileSync(path.join(dist, file), 'utf8'))
}
