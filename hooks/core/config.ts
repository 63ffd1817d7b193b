// What the core needs to know about its deployment; the server shell fills it from the env.
import type { Toleration } from './api.js'

/**
 * Who may run what on the nodes. Whoever can create a GTP5GModule runs its installer image as
 * root with CAP_SYS_MODULE on every node it selects, and loads a module built from its source
 * URL: the cluster admin can narrow both here. Empty lists allow anything.
 */
export interface InstallerPolicy {
  /** spec.image must start with one of these (each ends in "/", ":" or "@"); the configured installerImage is always allowed. */
  allowedImagePrefixes: string[]
  /** The source URL, `{version}` substituted and normalized, must start with one of these (each ends in "/"). */
  allowedSourcePrefixes: string[]
  /** Refuse a module whose spec.source.sha256 is empty: only a tarball pinned by its hash is built. */
  requireSourceSha256: boolean
}

/** Resource requests and limits of the installer container, quantities as Kubernetes writes them. */
interface InstallerResources {
  requests?: Record<string, string>
  limits?: Record<string, string>
}

/**
 * Pod settings of every installer DaemonSet, set by the cluster admin (chart `installer.*`).
 * A module's own spec.tolerations or spec.imagePullSecrets, when not empty, replace the defaults.
 */
export interface InstallerPodSettings {
  /** Empty: no priority class. */
  priorityClassName: string
  resources: InstallerResources
  /** Secret names in the installer namespace, for a private installer image. */
  imagePullSecrets: string[]
  tolerations: Toleration[]
}

export const DEFAULT_INSTALLER_POD: Readonly<InstallerPodSettings> = Object.freeze({
  // Evicting the installer under pressure would leave a node without gtp5g after a reboot.
  priorityClassName: 'system-node-critical',
  // The build runs in a temp directory of the container (the cache is a hostPath and does not
  // count). A gtp5g build takes ~10 MiB; the limit is above the installer's own caps (64 MiB
  // download, 256 MiB unpacked, 8 MiB build log, plus the objects), which fail first with a
  // reason code, and stops anything else from filling the node's disk. Building with gcc needs
  // a few hundred MiB; no CPU limit so builds are not throttled.
  resources: {
    requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
    limits: { memory: '1Gi', 'ephemeral-storage': '1Gi' }
  },
  imagePullSecrets: [],
  tolerations: []
})

export interface HookConfig {
  /** Namespace of the installer DaemonSets (the chart's release namespace). */
  targetNamespace: string
  /** Installer image used when a module sets no spec.image. */
  installerImage: string
  /** The operator's own image, whose `scheduling-agent` entrypoint the agent Deployment runs (spec.scheduling). */
  agentImage: string
  /** How long finalize waits for nodes to report gtp5g unloaded before it lets the module go. */
  finalizeTimeoutSeconds: number
  policy: InstallerPolicy
  /** DEFAULT_INSTALLER_POD when not given. */
  installerPod?: InstallerPodSettings
  /**
   * Whether the Node decorator runs (chart `nodeLabels.enabled`): only then does a module keep
   * the ConfigMaps that list its installed nodes. Absent means it runs.
   */
  nodeLabels?: boolean
}
