// The Helm chart under test and the helm binary that e2e/cluster/build.sh builds: run helm,
// render the chart into parsed objects, and read the chart's own files.
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parse, parseAllDocuments } from 'yaml'
import { TOOLS_BIN, toolPath } from '../../e2e/cluster/tools.js'
import { prerequisiteMet } from '../support/prerequisite.js'
import { CHART as CHART_DIR, HOOK_NAMESPACE as NAMESPACE, RELEASE } from '../support/release.js'

/** The release name and namespace the README recommends; the plain CompositeController is this rendering. */
export { CHART_DIR, NAMESPACE, RELEASE }

export const chart = parse(readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { name: string, version: string, appVersion: string, kubeVersion: string }
export const values = parse(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>

/** The ci/*-values.yaml files, by name. */
export const ciFiles = readdirSync(path.join(CHART_DIR, 'ci')).filter(f => f.endsWith('-values.yaml')).sort()
export const ciPath = (file: string): string => path.join(CHART_DIR, 'ci', file)
export const ciValues = (file: string): Record<string, unknown> => parse(readFileSync(ciPath(file), 'utf8')) as Record<string, unknown>

/**
 * The helm binary, or undefined after skipping the calling test file (failing it in CI): the
 * static chart tests need the real helm, and a laptop without the cluster build still runs the rest.
 */
export function helmOrSkip (): string | undefined {
  const helm = toolPath('helm')
  if (helm === undefined) prerequisiteMet(`no helm in ${TOOLS_BIN}; build it with: bash e2e/cluster/build.sh`)
  return helm
}

/**
 * The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion), passed as --kube-version:
 * a helm built with `go install` assumes v1.20 without a cluster, which the chart refuses.
 */
export const KUBE_VERSION = /^>=\s*(\d+\.\d+\.\d+)/.exec(chart.kubeVersion)?.[1] ?? '1.30.0'

export interface HelmResult { code: number, stdout: string, stderr: string }

export async function runHelm (helm: string, args: string[]): Promise<HelmResult> {
  return await new Promise(resolve => {
    execFile(helm, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

export interface Meta {
  name: string
  namespace?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** A rendered object: the fields every test reads, the rest left open. */
export interface Manifest {
  apiVersion: string
  kind: string
  metadata: Meta
  [key: string]: unknown
}

export interface RenderOptions {
  valuesFiles?: readonly string[]
  set?: readonly string[]
  namespace?: string
}

/** `helm template` → the objects it renders (tests included); throws with helm's stderr on failure. */
export async function render (helm: string, o: RenderOptions = {}): Promise<Manifest[]> {
  const res = await runHelm(helm, templateArgs(o))
  if (res.code !== 0) throw new Error(`helm template failed (${res.code}): ${res.stderr}`)
  const docs = parseAllDocuments(res.stdout)
  const objects: Manifest[] = []
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors.map(e => e.message).join('; ')}`)
    const object = doc.toJS() as Manifest | null
    if (object !== null) objects.push(object)
  }
  return objects
}

export function templateArgs (o: RenderOptions = {}): string[] {
  return [
    'template', RELEASE, CHART_DIR, '--namespace', o.namespace ?? NAMESPACE, '--kube-version', KUBE_VERSION,
    ...(o.valuesFiles ?? []).flatMap(f => ['--values', f]),
    ...(o.set ?? []).flatMap(s => ['--set', s])
  ]
}

/** The one object of a kind (and name, when several); throws when absent. */
export function one<T = Manifest> (objects: Manifest[], kind: string, name?: string): T {
  const found = objects.filter(o => o.kind === kind && (name === undefined || o.metadata.name === name))
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, rendered ${found.length}`)
  return found[0] as T
}
