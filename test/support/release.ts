// The chart and the release every suite, benchmark and the demo install: one name, one
// namespace, one sample module. No tap import: the demo uses this file too.
import path from 'node:path'
import { DEFAULT_TARGET_NAMESPACE } from '../../contract/index.js'
import { REPO } from '../../e2e/cluster/tools.js'

export const CHART = path.join(REPO, 'helm/gtp5g-operator')
export const RELEASE = 'gtp5g-operator'
export const HOOK_NAMESPACE = 'gtp5g-system'
/** The chart's default installer namespace (values.yaml installer.namespace; a chart test keeps them equal). */
export const INSTALLER_NAMESPACE = DEFAULT_TARGET_NAMESPACE
/** The sample module, one copy in the chart (its NOTES print it), applied by the demo and the suites alike. */
export const SAMPLE = path.join(REPO, 'helm/gtp5g-operator/examples/sample.yaml')
export const PINNED = path.join(REPO, 'helm/gtp5g-operator/examples/pinned.yaml')
