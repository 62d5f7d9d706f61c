// The README's code blocks as tests read them: the workflows a user copies, and the policies marked
// with an HTML comment (`<!-- iam:<name> ... -->`) on the line before their block.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface CodeBlock {
  lang: string
  body: string
  /** 1-based line of the opening fence. */
  line: number
  /** The `<!-- iam:NAME ... -->` marker right above the block, if any. */
  marker?: string
}

export function readme(): string {
  return readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')
}

export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n')
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i])
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i])
    const above = start > 0 ? /^<!--\s*iam:([\w-]+)/.exec(lines[start - 1]) : null
    blocks.push({ lang: open[1], body: `${body.join('\n')}\n`, line: start + 1, marker: above?.[1] })
  }
  return blocks
}

export interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action: string | string[]
  Resource: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface PolicyDocument {
  Version: string
  Statement: PolicyStatement[]
}

/** The policy in the README block marked `<!-- iam:NAME -->`. */
export function readmePolicy(name: string, markdown = readme()): PolicyDocument {
  const blocks = codeBlocks(markdown).filter((b) => b.marker === name)
  if (blocks.length !== 1)
    throw new Error(`README.md has ${blocks.length} code blocks marked <!-- iam:${name} -->, expected 1`)
  return JSON.parse(blocks[0].body) as PolicyDocument
}

export const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

/** Every action a policy allows, as written (`service:Operation`), sorted and unique. */
export function allowedActions(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => asList(s.Action)))].sort()
}
