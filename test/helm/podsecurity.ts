// The Pod Security Standards `restricted` profile (baseline included), as the pod-security
// admission plugin checks it, for pod specs rendered by the chart: one message per violation.
// https://kubernetes.io/docs/concepts/security/pod-security-standards/

export interface SecurityContext {
  privileged?: boolean
  runAsNonRoot?: boolean
  runAsUser?: number
  allowPrivilegeEscalation?: boolean
  readOnlyRootFilesystem?: boolean
  capabilities?: { add?: string[], drop?: string[] }
  seccompProfile?: { type?: string }
  appArmorProfile?: { type?: string }
  seLinuxOptions?: { type?: string, user?: string, role?: string }
  procMount?: string
  sysctls?: Array<{ name: string }>
}

export interface ContainerSpec {
  name: string
  securityContext?: SecurityContext
  ports?: Array<{ name?: string, containerPort?: number, hostPort?: number, protocol?: string }>
}

export interface PodSpec {
  hostNetwork?: boolean
  hostPID?: boolean
  hostIPC?: boolean
  securityContext?: SecurityContext
  containers: ContainerSpec[]
  initContainers?: ContainerSpec[]
  volumes?: Array<Record<string, unknown>>
}

const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'])
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'])
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'])

export function restrictedViolations (pod: PodSpec): string[] {
  const out: string[] = []
  const podSc = pod.securityContext ?? {}
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (pod[field] === true) out.push(`${field} must not be true`)
  for (const v of pod.volumes ?? []) {
    const type = Object.keys(v).find(k => k !== 'name') ?? 'unknown'
    if (!RESTRICTED_VOLUMES.has(type)) out.push(`volume ${String(v.name)}: type ${type} is not allowed`)
  }
  for (const s of podSc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) out.push(`sysctl ${s.name} is not allowed`)
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = c.securityContext ?? {}
    const at = `container ${c.name}`
    if (sc.privileged === true) out.push(`${at}: privileged`)
    if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation must be false`)
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(`${at}: runAsNonRoot must be true`)
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${at}: runAsUser must not be 0`)
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${at}: seccompProfile must be RuntimeDefault or Localhost`)
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push(`${at}: capabilities must drop ALL`)
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${at}: capability ${cap} must not be added`)
    for (const p of c.ports ?? []) if ((p.hostPort ?? 0) !== 0) out.push(`${at}: hostPort ${p.hostPort} is not allowed`)
    if ((sc.appArmorProfile?.type ?? podSc.appArmorProfile?.type) === 'Unconfined') out.push(`${at}: AppArmor must not be Unconfined`)
    const selinux = sc.seLinuxOptions ?? podSc.seLinuxOptions
    if (selinux !== undefined && (!SELINUX_TYPES.has(selinux.type ?? '') || selinux.user !== undefined || selinux.role !== undefined)) out.push(`${at}: custom SELinux options`)
    if ((sc.procMount ?? 'Default') !== 'Default') out.push(`${at}: procMount must be Default`)
  }
  return out
}
