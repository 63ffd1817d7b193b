// What the core needs to know about its deployment; the server shell fills it from the env.
export interface HookConfig {
  /** Namespace of the installer DaemonSets (the chart's release namespace). */
  targetNamespace: string
  /** Installer image used when a module sets no spec.image. */
  installerImage: string
  /** How long finalize waits for nodes to report gtp5g unloaded before it lets the module go. */
  finalizeTimeoutSeconds: number
}
