// What kube-apiserver checks of a pod template's node affinity, written from the rules in
// k8s.io/kubernetes pkg/apis/core/validation (ValidateNodeSelector and its helpers), so unit
// tests refuse what the API server would refuse. The e2e suite checks the same objects against
// the real API server; this is the fast guard in between.

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

interface Requirement { key?: unknown, operator?: unknown, values?: unknown }

function valuesOf (rq: Requirement): string[] {
  return Array.isArray(rq.values) ? rq.values.map(String) : []
}

function labelKeyProblems (key: string, at: string): string[] {
  const [prefix, name] = key.includes('/') ? key.split('/', 2) as [string, string] : [undefined, key]
  const problems: string[] = []
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) problems.push(`${at}.key: prefix must be a DNS subdomain`)
  if (name.length > 63 || !LABEL_NAME.test(name)) problems.push(`${at}.key: name part must be a label name`)
  return problems
}

function fieldRequirementProblems (rq: Requirement, at: string): string[] {
  const problems: string[] = []
  const values = valuesOf(rq)
  if (rq.operator !== 'In' && rq.operator !== 'NotIn') problems.push(`${at}.operator: not a valid selector operator`)
  else if (values.length !== 1) problems.push(`${at}.values: must be only one value when \`operator\` is 'In' or 'NotIn' for node field selector`)
  if (rq.key !== 'metadata.name') problems.push(`${at}.key: not a valid field selector key`)
  for (const v of values) {
    if (v.length > 253 || !DNS_SUBDOMAIN.test(v)) problems.push(`${at}.values: ${v} is not a valid node name`)
  }
  return problems
}

function expressionProblems (rq: Requirement, at: string): string[] {
  const problems = labelKeyProblems(String(rq.key ?? ''), at)
  const values = valuesOf(rq)
  switch (rq.operator) {
    case 'In': case 'NotIn':
      if (values.length === 0) problems.push(`${at}.values: must be specified when \`operator\` is 'In' or 'NotIn'`)
      break
    case 'Exists': case 'DoesNotExist':
      if (values.length > 0) problems.push(`${at}.values: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`)
      break
    case 'Gt': case 'Lt':
      if (values.length !== 1) problems.push(`${at}.values: must be specified single value when \`operator\` is 'Lt' or 'Gt'`)
      break
    default:
      problems.push(`${at}.operator: not a valid selector operator`)
  }
  for (const v of values) {
    if (v.length > 63 || !LABEL_VALUE.test(v)) problems.push(`${at}.values: ${v} is not a valid label value`)
  }
  return problems
}

/** The API server's complaints about `spec.template.spec.affinity` of a DaemonSet; empty when it accepts it. */
export function nodeAffinityProblems (podSpec: { affinity?: unknown }): string[] {
  const affinity = podSpec.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown } } } | undefined
  const required = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
  if (required === undefined) return []
  const base = 'affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'
  const terms = Array.isArray(required.nodeSelectorTerms) ? required.nodeSelectorTerms as Array<{ matchExpressions?: Requirement[], matchFields?: Requirement[] }> : []
  if (terms.length === 0) return [`${base}: must have at least one node selector term`]
  return terms.flatMap((term, i) => [
    ...(term.matchExpressions ?? []).flatMap((rq, j) => expressionProblems(rq, `${base}[${i}].matchExpressions[${j}]`)),
    ...(term.matchFields ?? []).flatMap((rq, j) => fieldRequirementProblems(rq, `${base}[${i}].matchFields[${j}]`))
  ])
}
