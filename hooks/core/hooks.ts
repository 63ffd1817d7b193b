// The three hooks Metacontroller calls. Pure functions of (request, config, now): no I/O, no
// env, no clock of their own. `now` is used only where a timestamp must change.
import { API_GROUP, API_VERSION, labelValue, LABEL_MODULE, PLURAL } from '../../contract/index.js'
import type { HookConfig } from './config.js'
import { keepObservedChildren } from './children.js'
import { nodeSelectorOf } from './conflicts.js'
import { type KubeObject, metaOf, str } from './k8s.js'
import type { CustomizeRequest, CustomizeResponse, SyncRequest, SyncResponse } from './metacontroller.js'
import { observe } from './observe.js'
import type { GTP5GModuleSpec } from './api.js'
import { policyDenial } from './policy.js'
import { parseSpec } from './spec.js'
import { computeStatus, invalidSpecStatus, type RefusalReason } from './status.js'

/** Sync again this often while waiting for nodes to unload, to notice the finalize timeout. */
export const FINALIZE_RESYNC_SECONDS = 10

/** metadata.generation when it is one (a non-negative integer); conditions then carry it as observedGeneration. */
function generationOf (parent: KubeObject): number | undefined {
  const generation = metaOf(parent).generation
  return Number.isSafeInteger(generation) && (generation as number) >= 0 ? generation as number : undefined
}

export function customize (req: CustomizeRequest, config: HookConfig): CustomizeResponse {
  const name = req.parent.metadata.name
  return {
    relatedResources: [
      { apiVersion: 'v1', resource: 'pods', namespace: config.targetNamespace, labelSelector: { matchLabels: { [LABEL_MODULE]: labelValue(name) } } },
      { apiVersion: 'v1', resource: 'nodes', labelSelector: { matchLabels: nodeSelectorOf(req.parent) } },
      // Every module, to find the older owner of a contested node.
      { apiVersion: `${API_GROUP}/${API_VERSION}`, resource: PLURAL }
    ]
  }
}

/** The spec to act on, or why not: invalid, or refused by the installer policy. */
function acceptedSpec (parent: KubeObject, config: HookConfig): { ok: true, spec: GTP5GModuleSpec } | { ok: false, reason: RefusalReason, message: string } {
  const parsed = parseSpec(parent.spec)
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: parsed.message }
  const denial = policyDenial(parsed.spec, config)
  if (denial !== undefined) return { ok: false, reason: 'PolicyDenied', message: denial.message }
  return parsed
}

export function sync (req: SyncRequest, config: HookConfig, now: Date): SyncResponse {
  if (req.finalizing === true) return finalize(req, config, now)
  const parent = req.parent
  const generation = generationOf(parent)
  const parsed = acceptedSpec(parent, config)
  if (!parsed.ok) {
    // Nothing the spec asks for is applied; the DaemonSet that runs stays exactly as it is.
    return { status: invalidSpecStatus(parent.status, parsed.message, generation, now, parsed.reason), children: keepObservedChildren(req) }
  }
  const { daemonSet, tally, contested, tooManyContested } = observe(req, parsed.spec, config, 'install')
  const status = computeStatus({ version: parsed.spec.version, tally, contested, tooManyContested, finalizing: undefined, generation, previous: parent.status, now })
  // A DaemonSet that cannot exclude every contested node is not applied; the one that runs stays.
  return { status, children: tooManyContested ? keepObservedChildren(req) : [daemonSet] }
}

export function finalize (req: SyncRequest, config: HookConfig, now: Date): SyncResponse {
  const parent = req.parent
  const generation = generationOf(parent)
  const parsed = acceptedSpec(parent, config)
  if (!parsed.ok) {
    // Without a valid spec we cannot know whether to unload, and an unload DaemonSet would run
    // the very image or source the policy refuses; leaving gtp5g loaded is the safe side.
    return { status: invalidSpecStatus(parent.status, parsed.message, generation, now, parsed.reason), children: keepObservedChildren(req), finalized: true }
  }
  const { daemonSet, tally, contested, tooManyContested } = observe(req, parsed.spec, config, 'unload')
  // Without unloadOnDelete gtp5g stays loaded. Nor is it unloaded when the unload DaemonSet
  // could not keep off the nodes an older module owns: it would take their data plane down.
  if (!parsed.spec.unloadOnDelete || tooManyContested) {
    const status = computeStatus({ version: parsed.spec.version, tally: { ...tally, done: [], failed: [] }, contested, tooManyContested, finalizing: 'keep', generation, previous: parent.status, now })
    return { status, children: [], finalized: true }
  }
  const status = computeStatus({ version: parsed.spec.version, tally, contested, tooManyContested, finalizing: 'unload', generation, previous: parent.status, now })
  const allUnloaded = tally.done.length === tally.desired
  const deleted = Date.parse(str(metaOf(parent).deletionTimestamp) ?? '')
  const timedOut = !Number.isNaN(deleted) && now.getTime() - deleted >= config.finalizeTimeoutSeconds * 1000
  if (allUnloaded || timedOut) {
    return { status, children: [daemonSet], finalized: true }
  }
  return { status, children: [daemonSet], finalized: false, resyncAfterSeconds: FINALIZE_RESYNC_SECONDS }
}
