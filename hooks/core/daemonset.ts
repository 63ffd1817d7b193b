// Builds the one child of a GTP5GModule: the installer DaemonSet. Pure: same input, same object,
// same key order, so Metacontroller sees no diff when nothing changed.
import {
  type Action, childLabels, daemonSetName, ENV, HOST_LIB, HOST_PATHS, INSTALLER_CONTAINER,
  LABEL_TEMPLATE_HASH, READY_FILE, selectorLabels, shortHash, sourceUrlFor, TERMINATION_LOG
} from '../../contract/index.js'
import type { GTP5GModuleSpec } from './api.js'
import { DEFAULT_INSTALLER_POD, type HookConfig } from './config.js'
import type { KubeObject } from './k8s.js'

interface DaemonSetInput {
  moduleName: string
  spec: GTP5GModuleSpec
  config: HookConfig
  action: Action
  /** Nodes an older module owns; kept off by node affinity. */
  excludedNodes: readonly string[]
}

interface BuiltDaemonSet {
  daemonSet: KubeObject
  /** Value of the template-hash label on pods of this template. */
  templateHash: string
}

function env (spec: GTP5GModuleSpec, action: Action, config: HookConfig): Array<{ name: string, value: string }> {
  const vars: Array<{ name: string, value: string }> = [{ name: ENV.version, value: spec.version }]
  if (spec.kernelVersion !== '') vars.push({ name: ENV.kernelVersion, value: spec.kernelVersion })
  vars.push(
    { name: ENV.sourceUrl, value: sourceUrlFor(spec.source.url, spec.version) },
    { name: ENV.sourceSha256, value: spec.source.sha256 },
    { name: ENV.action, value: action }
  )
  // Only when asked for: a module without btf keeps the pod template it had before btf existed.
  if (spec.btf) vars.push({ name: ENV.btf, value: 'true' })
  // The hooks judged only the first URL; the installer holds every redirect to the same policy.
  const prefixes = config.policy.allowedSourcePrefixes
  if (prefixes.length > 0) vars.push({ name: ENV.allowedSourcePrefixes, value: prefixes.join(',') })
  return vars
}

/**
 * Budget for the node-exclusion requirements in one DaemonSet. Metacontroller keeps the whole
 * applied child in its last-applied annotation, and the API server caps all annotations of an
 * object at 256 KiB together; half of that leaves room for the rest of the DaemonSet. With
 * typical node names (20 to 40 characters) it holds 1,300 to 1,700 excluded nodes.
 */
export const MAX_EXCLUSION_BYTES = 128 * 1024

// The API accepts exactly one value per matchFields requirement (ValidateNodeFieldSelectorRequirement),
// so each excluded node is its own NotIn, all in one term: requirements of a term are ANDed.
const exclusion = (node: string): Record<string, unknown> => ({ key: 'metadata.name', operator: 'NotIn', values: [node] })

/** Whether node affinity can keep these nodes off within MAX_EXCLUSION_BYTES. */
export function exclusionFits (excludedNodes: readonly string[]): boolean {
  let bytes = 0
  for (const node of excludedNodes) bytes += JSON.stringify(exclusion(node)).length + 1
  return bytes <= MAX_EXCLUSION_BYTES
}

function affinity (excludedNodes: readonly string[]): Record<string, unknown> | undefined {
  if (excludedNodes.length === 0) return undefined
  // matchFields on metadata.name: node names are unique, labels such as hostname are not.
  // The DaemonSet controller replaces this with a one-node term on each pod it creates, so
  // pods stay small however many nodes are excluded here.
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [...excludedNodes].sort().map(exclusion) }]
      }
    }
  }
}

/** The module's tolerations, or the hook server's default when it sets none. */
export function tolerationsOf (spec: GTP5GModuleSpec, config: HookConfig): GTP5GModuleSpec['tolerations'] {
  return spec.tolerations.length > 0 ? spec.tolerations : (config.installerPod ?? DEFAULT_INSTALLER_POD).tolerations
}

/** The module's pull secrets, or the hook server's default when it sets none. */
function imagePullSecretsOf (spec: GTP5GModuleSpec, config: HookConfig): string[] {
  const own = (spec.imagePullSecrets ?? []).map(s => s.name)
  return own.length > 0 ? own : (config.installerPod ?? DEFAULT_INSTALLER_POD).imagePullSecrets
}

function podSpec (input: DaemonSetInput): Record<string, unknown> {
  const { spec, config, action } = input
  const pod = config.installerPod ?? DEFAULT_INSTALLER_POD
  const podAffinity = affinity(input.excludedNodes)
  const pullSecrets = imagePullSecretsOf(spec, config)
  return {
    // The installer reports through its pod only: it needs no API access at all.
    automountServiceAccountToken: false,
    // No service-link variables: with them, a `$(NAME)` in an env value the hooks checked would
    // be expanded by the kubelet from whatever Services exist in the namespace.
    enableServiceLinks: false,
    ...(pod.priorityClassName === '' ? {} : { priorityClassName: pod.priorityClassName }),
    nodeSelector: spec.nodeSelector,
    ...(podAffinity === undefined ? {} : { affinity: podAffinity }),
    tolerations: tolerationsOf(spec, config),
    // Only when there are some: a template without them stays the template it was.
    ...(pullSecrets.length === 0 ? {} : { imagePullSecrets: pullSecrets.map(name => ({ name })) }),
    containers: [{
      name: INSTALLER_CONTAINER,
      image: spec.image ?? config.installerImage,
      imagePullPolicy: 'IfNotPresent',
      // The action as the command line too: it overrides any CMD of the image (an installer image
      // with CMD ["install"] ran the unload DaemonSet's pods as installs under a real kubelet).
      args: [action],
      env: env(spec, action, config),
      // The running installer keeps READY_FILE in step with /sys/module (after its install and
      // every watch interval), so the probe only reads it: a `cat`, where `gtp5g-installer check`
      // was a Node.js start on every probe (9 to 17 s on a VM without KVM under a real kubelet, a
      // few hundred ms on hardware). Cheap enough to run every 2 s: a loaded module's pod turns Ready at most 2 s
      // after the installer wrote the file, where a 10 s period made warm installs wait up to 10 s.
      // The generous timeout and threshold stay: a starved node's runtime may take seconds to exec.
      readinessProbe: {
        exec: { command: ['cat', READY_FILE] },
        periodSeconds: 2,
        timeoutSeconds: 30,
        failureThreshold: 3
      },
      // DEFAULT_INSTALLER_POD says why these sizes.
      resources: pod.resources,
      securityContext: {
        // Loading a module needs CAP_SYS_MODULE in the initial user namespace and nothing else:
        // modprobe/insmod use finit_module(2) and /sys/module is only read.
        privileged: false,
        allowPrivilegeEscalation: false,
        runAsUser: 0,
        capabilities: { drop: ['ALL'], add: ['SYS_MODULE'] },
        // The runtime's default filter allows init_module, finit_module and delete_module to a
        // container holding CAP_SYS_MODULE (containerd's and Docker's default profiles) and
        // still blocks what a module loader never needs (kexec, bpf, mount, ptrace, …).
        seccompProfile: { type: 'RuntimeDefault' }
      },
      terminationMessagePath: TERMINATION_LOG,
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [
        { name: 'lib-modules', mountPath: HOST_PATHS.modules, readOnly: true },
        { name: 'usr-src', mountPath: HOST_PATHS.src, readOnly: true },
        { name: 'usr-lib', mountPath: HOST_LIB.mount, readOnly: true },
        { name: 'cache', mountPath: HOST_PATHS.cache }
      ]
    }],
    volumes: [
      { name: 'lib-modules', hostPath: { path: HOST_PATHS.modules, type: 'Directory' } },
      { name: 'usr-src', hostPath: { path: HOST_PATHS.src, type: 'Directory' } },
      // Debian's linux-headers-<release> trees reach kbuild's scripts and tools (fixdep, modpost,
      // objtool, resolve_btfids) through relative links to /usr/lib/linux-kbuild-<x.y or version>,
      // which Debian ships per kernel version on its 6.12 line. The installer links the node's own
      // copy into its container before building, so the tools always match the node's headers;
      // carrying them in the image would need a new image for every Debian kernel update. Not at
      // /usr/lib itself: that would replace the image's own libraries.
      { name: 'usr-lib', hostPath: { path: HOST_LIB.host, type: 'Directory' } },
      { name: 'cache', hostPath: { path: HOST_PATHS.cache, type: 'DirectoryOrCreate' } }
    ]
  }
}

export function buildDaemonSet (input: DaemonSetInput): BuiltDaemonSet {
  const { moduleName, spec, config } = input
  const labels = childLabels(moduleName)
  const template = podSpec(input)
  // Our own hash of what we asked for: pods carrying it run the current template, which the
  // status needs to tell a finished rollout from old pods that are still ready.
  const templateHash = shortHash(JSON.stringify(template), 10)
  return {
    templateHash,
    daemonSet: {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: {
        name: daemonSetName(moduleName),
        namespace: config.targetNamespace,
        labels
      },
      spec: {
        selector: { matchLabels: selectorLabels(moduleName) },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: spec.maxUnavailable } },
        template: {
          metadata: { labels: { ...labels, [LABEL_TEMPLATE_HASH]: templateHash } },
          spec: template
        }
      }
    }
  }
}
