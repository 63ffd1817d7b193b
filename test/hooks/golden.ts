// Golden files: the whole expected object on disk, reviewed in diffs. UPDATE_GOLDEN=1 rewrites them.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export function golden (name: string, actual: string): { expected: string, path: string } {
  const path = fileURLToPath(new URL(`./golden/${name}`, import.meta.url))
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual)
  return { expected: readFileSync(path, 'utf8'), path }
}
