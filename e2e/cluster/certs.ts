// The local cluster's PKI, made once per cluster directory with the openssl CLI: a CA, the
// API server's serving certificate for 127.0.0.1, an admin client certificate
// (O=system:masters) that every component and kubectl use, and the service-account key pair.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export interface Pki {
  ca: string
  caKey: string
  serverCert: string
  serverKey: string
  adminCert: string
  adminKey: string
  /** Signs service-account tokens (controller-manager) and verifies them (API server). */
  saKey: string
  saPub: string
}

export function pkiPaths (dir: string): Pki {
  const f = (name: string): string => path.join(dir, name)
  return {
    ca: f('ca.crt'),
    caKey: f('ca.key'),
    serverCert: f('apiserver.crt'),
    serverKey: f('apiserver.key'),
    adminCert: f('admin.crt'),
    adminKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub')
  }
}

const openssl = (...args: string[]): void => { execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] }) }

/** Creates what is missing under `dir` and returns the paths. Idempotent. */
export function ensurePki (dir: string): Pki {
  const pki = pkiPaths(dir)
  if (existsSync(pki.saPub)) return pki
  mkdirSync(dir, { recursive: true })
  const days = '3650'
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.caKey, '-out', pki.ca, '-days', days, '-subj', '/CN=gtp5g-local-ca')
  const signed = (cert: string, key: string, subject: string, extensions: string): void => {
    const csr = `${cert}.csr`
    const ext = `${cert}.ext`
    writeFileSync(ext, extensions)
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject)
    openssl('x509', '-req', '-in', csr, '-CA', pki.ca, '-CAkey', pki.caKey, '-CAcreateserial', '-out', cert, '-days', days, '-extfile', ext)
  }
  signed(pki.serverCert, pki.serverKey, '/CN=kube-apiserver',
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
    'extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n')
  signed(pki.adminCert, pki.adminKey, '/O=system:masters/CN=kubernetes-admin',
    'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n')
  openssl('genrsa', '-out', pki.saKey, '2048')
  openssl('rsa', '-in', pki.saKey, '-pubout', '-out', pki.saPub)
  return pki
}

/**
 * A client certificate signed by the cluster's CA, for a real node's kubelet: CN
 * system:node:<name> in group system:nodes is what the Node authorizer admits. Made once per
 * `dir`. Returns the certificate's and key's paths.
 */
export function nodeClientCert (pki: Pki, dir: string, node: string): { cert: string, key: string } {
  const cert = path.join(dir, `${node}.crt`)
  const key = path.join(dir, `${node}.key`)
  if (existsSync(cert)) return { cert, key }
  mkdirSync(dir, { recursive: true })
  const csr = `${cert}.csr`
  const ext = `${cert}.ext`
  writeFileSync(ext, 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n')
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/O=system:nodes/CN=system:node:${node}`)
  openssl('x509', '-req', '-in', csr, '-CA', pki.ca, '-CAkey', pki.caKey, '-CAcreateserial', '-out', cert, '-days', '3650', '-extfile', ext)
  return { cert, key }
}

/** A kubeconfig for the admin identity, with files referenced by absolute path. */
export function kubeconfig (pki: Pki, server: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'gtp5g-local', cluster: { server, 'certificate-authority': pki.ca } }],
    users: [{ name: 'admin', user: { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey } }],
    contexts: [{ name: 'gtp5g-local', context: { cluster: 'gtp5g-local', user: 'admin' } }],
    'current-context': 'gtp5g-local'
  }, null, 2) + '\n'
}
