// The second child of a module with spec.scheduling: a one-replica Deployment running the
// operator image's scheduling agent, which keeps one Gthulhu strategy per rule in the Manager.
// Pure: the hooks never talk to the Manager; the agent does, and reports through its pod.
import {
  AGENT_BINARY, AGENT_CONTAINER, AGENT_CREDENTIALS_DIR, AGENT_ENV, AGENT_STATE_DIR, type AgentMode, type AgentRule,
  agentLabels, agentName, LABEL_AGENT, LABEL_TEMPLATE_HASH, labelValue, shortHash
} from '../../contract/index.js'
import type { Scheduling } from './api.js'
import type { HookConfig } from './config.js'
import type { KubeObject } from './k8s.js'

/** The rules as the agent receives them (GTHULHU_RULES), in spec order. */
function agentRules (scheduling: Scheduling): AgentRule[] {
  return scheduling.rules.map(r => ({
    name: r.name,
    commandRegex: r.commandRegex,
    podSelector: Object.fromEntries(Object.entries(r.podSelector).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)),
    namespaces: [...r.namespaces],
    priority: r.priority,
    executionTimeNs: r.executionTimeNs
  }))
}

interface BuiltAgent {
  deployment: KubeObject
  templateHash: string
}

function podSpec (moduleName: string, scheduling: Scheduling, config: HookConfig, mode: AgentMode): Record<string, unknown> {
  return {
    // The agent talks to the Gthulhu Manager only, never to the Kubernetes API.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{
      name: AGENT_CONTAINER,
      image: config.agentImage,
      imagePullPolicy: 'IfNotPresent',
      command: [AGENT_BINARY],
      env: [
        { name: AGENT_ENV.managerUrl, value: scheduling.managerUrl },
        { name: AGENT_ENV.owner, value: moduleName },
        { name: AGENT_ENV.mode, value: mode },
        { name: AGENT_ENV.rules, value: JSON.stringify(agentRules(scheduling)) },
        { name: AGENT_ENV.credentialsDir, value: AGENT_CREDENTIALS_DIR },
        { name: AGENT_ENV.stateDir, value: AGENT_STATE_DIR }
      ],
      // A Node.js start, like the installer's check (9 to 17 s measured on a slow node under a
      // real kubelet, where 5 s and one failure kept a pod not-ready for good). Failures the
      // agent cannot fix end its process with a termination message, so the probe only says
      // "still working"; it need not be quick.
      readinessProbe: {
        exec: { command: [AGENT_BINARY, 'check'] },
        periodSeconds: 10,
        timeoutSeconds: 30,
        failureThreshold: 3
      },
      // The container's memory peak under a real kubelet was 98 MiB (memory.peak, the probe's
      // Node.js starts included; e2e/realnode.test.ts): 128 MiB left too little room.
      resources: {
        requests: { cpu: '10m', memory: '80Mi' },
        limits: { memory: '192Mi' }
      },
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] }
      },
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [
        { name: 'credentials', mountPath: AGENT_CREDENTIALS_DIR, readOnly: true },
        { name: 'state', mountPath: AGENT_STATE_DIR }
      ]
    }],
    volumes: [
      // Every key: a Secret without `password` then reads as AuthFailed, not as a pod stuck mounting.
      { name: 'credentials', secret: { secretName: scheduling.credentialsSecret.name } },
      { name: 'state', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }
    ]
  }
}

export function buildAgent (moduleName: string, scheduling: Scheduling, config: HookConfig, mode: AgentMode): BuiltAgent {
  const labels = agentLabels(moduleName)
  const template = podSpec(moduleName, scheduling, config, mode)
  const templateHash = shortHash(JSON.stringify(template), 10)
  return {
    templateHash,
    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: agentName(moduleName), namespace: config.targetNamespace, labels },
      spec: {
        replicas: 1,
        // Never two agents of one module at once: both would reconcile the same strategies.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { [LABEL_AGENT]: labelValue(moduleName) } },
        template: {
          metadata: { labels: { ...labels, [LABEL_TEMPLATE_HASH]: templateHash } },
          spec: template
        }
      }
    }
  }
}
