// What the core needs to know about its deployment; the server shell fills it from the env.

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

export const OPEN_POLICY: Readonly<InstallerPolicy> = Object.freeze({ allowedImagePrefixes: [], allowedSourcePrefixes: [], requireSourceSha256: false })

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
}
