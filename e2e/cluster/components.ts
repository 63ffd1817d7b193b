// The local cluster's components, one row each: the command that starts it and the check that
// says it is ready. LocalCluster (cluster.ts) decides when to start them; this table says how.
import { writeFileSync, readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import path from 'node:path'
import { METACONTROLLER_DIR, REPO, type Tool, toolPath } from './tools.js'
import type { Pki } from './certs.js'

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kwok' | 'metacontroller' | 'hooks'
export const COMPONENTS: readonly ComponentName[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'metacontroller', 'hooks']
/** Where the API server of a `realNode` cluster sends CONNECT requests for kubelets. */
export const egressSocket = (dir: string): string => path.join(dir, 'node-egress.sock')

export interface Ports {
  etcd: number
  etcdPeer: number
  apiserver: number
  controllerManager: number
  scheduler: number
  kwok: number
  metacontrollerMetrics: number
  metacontrollerHealth: number
  hooks: number
}

/** What a row needs to know of its cluster. */
export interface ComponentContext {
  /** The cluster directory. */
  dir: string
  kubeconfig: string
  pki: Pki
  ports: Ports
  /** The installer namespace `up` recorded; the hook server is always started with it. */
  targetNamespace: string
  /** Whether `up` readied the API server for a real node (see UpOptions.realNode). */
  realNode: boolean
  /** Extra kwok flags, after ours (ClusterOptions.kwokArgs). */
  kwokArgs: readonly string[]
  /** Extra environment of the hook server (ClusterOptions.hookEnv). */
  hookEnv: Readonly<Record<string, string>>
}

export interface Command { bin: string, args: string[], env?: Record<string, string> }

export interface Component {
  command: (c: ComponentContext) => Command
  /** One health check, false while the component is not (yet) ready. */
  healthy: (c: ComponentContext) => Promise<boolean>
}

const tool = (t: Tool): string => toolPath(t) as string

/** The flags kube-controller-manager and kube-scheduler share. */
const secureComponent = (c: ComponentContext, name: ComponentName, port: number): string[] => [
  `--kubeconfig=${c.kubeconfig}`, `--authentication-kubeconfig=${c.kubeconfig}`, `--authorization-kubeconfig=${c.kubeconfig}`,
  // Without these, both components retry reading the extension-apiserver CA bundle forever.
  '--authentication-skip-lookup=true', `--client-ca-file=${c.pki.ca}`,
  '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${path.join(c.dir, 'certs', name)}`,
  '--leader-elect=false'
]

/** The egress selector configuration of a cluster made with `realNode` (else nothing). */
function realNodeArgs (c: ComponentContext): string[] {
  if (!c.realNode) return []
  const file = path.join(c.dir, 'egress-selector.yaml')
  // Traffic to nodes, pods and services ("cluster") goes as HTTP CONNECT through a unix socket
  // to e2e/node/proxy.ts, which admits the real node's kubelet only and dials its qemu hostfwd
  // port on 127.0.0.1: the guest's own address is not routable from here.
  writeFileSync(file, JSON.stringify({
    apiVersion: 'apiserver.k8s.io/v1beta1',
    kind: 'EgressSelectorConfiguration',
    egressSelections: [{ name: 'cluster', connection: { proxyProtocol: 'HTTPConnect', transport: { uds: { udsName: egressSocket(c.dir) } } } }]
  }, null, 2) + '\n')
  return [
    `--egress-selector-config-file=${file}`, '--kubelet-preferred-address-types=InternalIP',
    // The kubelet admits x509 clients of the cluster's CA (e2e/node/guest/kubelet.yaml).
    `--kubelet-client-certificate=${c.pki.adminCert}`, `--kubelet-client-key=${c.pki.adminKey}`
  ]
}

export const COMPONENT_TABLE: Readonly<Record<ComponentName, Component>> = {
  etcd: {
    command: c => ({
      bin: tool('etcd'),
      args: [
        '--name=local', `--data-dir=${path.join(c.dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${c.ports.etcd}`, `--advertise-client-urls=http://127.0.0.1:${c.ports.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${c.ports.etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${c.ports.etcdPeer}`,
        `--initial-cluster=local=http://127.0.0.1:${c.ports.etcdPeer}`,
        // A throw-away test cluster: durability is not worth an fsync per write here.
        '--unsafe-no-fsync', '--log-level=warn'
      ]
    }),
    healthy: async c => await httpOk(`http://127.0.0.1:${c.ports.etcd}/health`)
  },
  'kube-apiserver': {
    command: c => ({
      bin: tool('kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${c.ports.etcd}`,
        '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${c.ports.apiserver}`,
        `--tls-cert-file=${c.pki.serverCert}`, `--tls-private-key-file=${c.pki.serverKey}`, `--client-ca-file=${c.pki.ca}`,
        '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${c.pki.saPub}`,
        `--service-account-signing-key-file=${c.pki.saKey}`, '--service-cluster-ip-range=10.96.0.0/16',
        '--authorization-mode=Node,RBAC', '--allow-privileged=true', '--enable-priority-and-fairness=false',
        // The kubernetes Service's endpoints may not point at loopback; nothing here needs them.
        '--endpoint-reconciler-type=none', '--profiling=false', `--cert-dir=${path.join(c.dir, 'certs', 'kube-apiserver')}`,
        ...realNodeArgs(c)
      ]
    }),
    healthy: async c => await httpsOk(`https://127.0.0.1:${c.ports.apiserver}/readyz`, c.pki)
  },
  'kube-controller-manager': {
    command: c => ({
      bin: tool('kube-controller-manager'),
      args: [
        ...secureComponent(c, 'kube-controller-manager', c.ports.controllerManager),
        `--service-account-private-key-file=${c.pki.saKey}`, `--root-ca-file=${c.pki.ca}`,
        // Each controller as its own ServiceAccount, as kubeadm runs it: the chart's admission
        // policy admits installer pods created by the DaemonSet controller's identity only.
        '--use-service-account-credentials=true', '--concurrent-daemonset-syncs=5',
        // No real kubelets or volumes: node IPAM and the volume controllers have nothing to do.
        '--controllers=*,-node-ipam-controller,-persistentvolume-binder-controller,-persistentvolume-expander-controller,-persistentvolume-attach-detach-controller'
      ]
    }),
    healthy: async c => await httpsOk(`https://127.0.0.1:${c.ports.controllerManager}/healthz`)
  },
  'kube-scheduler': {
    command: c => ({ bin: tool('kube-scheduler'), args: secureComponent(c, 'kube-scheduler', c.ports.scheduler) }),
    healthy: async c => await httpsOk(`https://127.0.0.1:${c.ports.scheduler}/healthz`)
  },
  kwok: {
    command: c => ({
      bin: tool('kwok'),
      args: [
        `--kubeconfig=${c.kubeconfig}`, `--server-address=127.0.0.1:${c.ports.kwok}`,
        '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--enable-crds=Stage', '--node-lease-duration-seconds=40',
        ...c.kwokArgs
      ]
    }),
    // Only that it answers: LocalCluster.startKwok proves that it acts.
    healthy: async c => await httpOk(`http://127.0.0.1:${c.ports.kwok}/healthz`)
  },
  metacontroller: {
    command: c => ({
      bin: path.join(METACONTROLLER_DIR, 'metacontroller'),
      args: [
        `--kubeconfig=${c.kubeconfig}`, `--metrics-address=127.0.0.1:${c.ports.metacontrollerMetrics}`,
        `--health-probe-bind-address=127.0.0.1:${c.ports.metacontrollerHealth}`,
        // A CompositeController installed a moment ago is picked up within seconds.
        '--discovery-interval=5s', '--zap-log-level=info', '--client-go-qps=50', '--client-go-burst=100'
      ]
    }),
    healthy: async c => await httpOk(`http://127.0.0.1:${c.ports.metacontrollerHealth}/readyz`)
  },
  hooks: {
    command: c => ({
      bin: process.execPath,
      args: [path.join(REPO, 'dist/hooks/server/main.js')],
      env: { HOST: '127.0.0.1', PORT: String(c.ports.hooks), TARGET_NAMESPACE: c.targetNamespace, LOG_LEVEL: 'info', ...c.hookEnv }
    }),
    healthy: async c => await httpOk(`http://127.0.0.1:${c.ports.hooks}/readyz`)
  }
}

async function httpOk (url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
    return res.ok
  } catch {
    return false
  }
}

/** An HTTPS health check; with a PKI it authenticates as the admin and verifies the server. */
async function httpsOk (url: string, pki?: Pki): Promise<boolean> {
  return await new Promise(resolve => {
    const tls = pki === undefined
      ? { rejectUnauthorized: false }
      : { ca: readFileSync(pki.ca), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) }
    const req = httpsRequest(url, { ...tls, timeout: 2000 }, res => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => { resolve(false) })
    req.on('timeout', () => { req.destroy(); resolve(false) })
    req.end()
  })
}
