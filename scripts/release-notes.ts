// Checks that a version is ready to release and prints its release notes: the version is semantic
// (X.Y.Z), package.json has it, and CHANGELOG.md has a section for it, whose text becomes the
// notes of the GitHub release. Used by .github/workflows/release.yml.
//
// Usage: tsx scripts/release-notes.ts <X.Y.Z>   (notes on stdout, a one-line reason on failure)

import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Keep a Changelog's sections: `## [1.2.0] - 2026-10-01` up to the next `## `. */
export function changelogSection(changelog: string, version: string): string | undefined {
  const lines = changelog.split('\n')
  const start = lines.findIndex((l) => new RegExp(`^## \\[${version.replace(/\./g, '\\.')}\\]`).test(l))
  if (start < 0) return undefined
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l))
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .filter((l) => !/^\[[^\]]+\]:\s/.test(l))
    .join('\n')
    .trim()
}

/** The release notes for `version`, or the reason it cannot be released. */
export function releaseNotes(version: string, packageVersion: string, changelog: string): { notes: string } | { error: string } {
  if (!/^\d+\.\d+\.\d+$/.test(version)) return { error: `"${version}" is not a semantic version X.Y.Z` }
  if (packageVersion !== version) return { error: `package.json has version ${packageVersion}, not ${version}: bump it in the release's pull request` }
  const section = changelogSection(changelog, version)
  if (!section) return { error: `CHANGELOG.md has no "## [${version}]" section: move the Unreleased entries under it` }
  return { notes: section }
}

function main(version: string | undefined): void {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  const result = releaseNotes(version ?? '', pkg.version, readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8'))
  if ('error' in result) {
    console.error(result.error)
    process.exit(1)
  }
  console.log(result.notes)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv[2])
