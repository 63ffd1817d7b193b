// Where the local cluster's upstream binaries live: built by e2e/cluster/build.sh into a cache
// keyed by version (never inside the repository), plus Metacontroller from a directory the user
// provides. No tap import here: the demo and the cluster scripts use it too.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root directory. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url))

export const CACHE_DIR = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'gtp5g-operator')

/** The directory e2e/cluster/build.sh fills with links to kube-apiserver, kubectl, etcd, kwok, helm... */
export const TOOLS_BIN = process.env.GTP5G_TOOLS_BIN ?? path.join(CACHE_DIR, 'cluster-bin')

export const METACONTROLLER_VERSION = 'v4.17.2'

/** Holds `metacontroller` (the binary) and `crds/` (its CRDs); see the README for how to provide it. */
export const METACONTROLLER_DIR = process.env.METACONTROLLER_DIR ?? path.join(CACHE_DIR, `metacontroller-${METACONTROLLER_VERSION}`)

export type Tool = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl' | 'etcd' | 'kwok' | 'helm'

/** Absolute path of a built tool, or undefined when e2e/cluster/build.sh has not built it here. */
export function toolPath (name: Tool): string | undefined {
  const file = path.join(TOOLS_BIN, name)
  return existsSync(file) ? file : undefined
}
