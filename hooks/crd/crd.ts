// The GTP5GModule CustomResourceDefinition, built from the same TypeBox schemas the hooks
// validate with. scripts/gen-crd.ts writes it to crds/; a test fails when crds/ is stale.
import { type TSchema, Type } from '@sinclair/typebox'
import { API_GROUP, API_VERSION, CATEGORY, KIND, PLURAL, SHORT_NAME, SINGULAR } from '../../contract/index.js'
import { GTP5GModuleSpec, GTP5GModuleStatus, PRINTER_COLUMNS } from '../core/api.js'
import { type JsonSchema, structuralViolations, toStructural } from './structural.js'

export const CRD_NAME = `${PLURAL}.${API_GROUP}`

const Root = Type.Object({
  apiVersion: Type.Optional(Type.String({ description: 'APIVersion defines the versioned schema of this representation of an object.' })),
  kind: Type.Optional(Type.String({ description: 'Kind is a string value representing the REST resource this object represents.' })),
  // ObjectMeta's schema belongs to the API server: a CRD may only say that metadata is an object.
  metadata: Type.Optional(Type.Object({})),
  spec: GTP5GModuleSpec,
  status: Type.Optional(GTP5GModuleStatus)
}, {
  description: 'GTP5GModule loads the gtp5g kernel module (free5GC\'s GTP-U data plane) at an exact version on the selected nodes, ' +
    'building it against each node\'s kernel. Cluster-scoped: kernel modules belong to nodes, not namespaces.'
})

function withStatusDetails (root: JsonSchema): JsonSchema {
  // Conditions are a map keyed by type: server-side apply and strategic merge then treat them as such.
  const status = (root.properties as Record<string, JsonSchema>).status as JsonSchema
  const conditions = (status.properties as Record<string, JsonSchema>).conditions as JsonSchema
  conditions['x-kubernetes-list-type'] = 'map'
  conditions['x-kubernetes-list-map-keys'] = ['type']
  return root
}

function openApiSchema (root: TSchema = Root): JsonSchema {
  const schema = withStatusDetails(toStructural(root))
  const violations = structuralViolations(schema)
  if (violations.length > 0) throw new Error(`the GTP5GModule schema is not structural:\n${violations.join('\n')}`)
  return schema
}

export function buildCrd (): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'gtp5g-operator', 'app.kubernetes.io/component': 'crd' }
    },
    spec: {
      group: API_GROUP,
      scope: 'Cluster',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [SHORT_NAME], categories: [CATEGORY] },
      versions: [{
        name: API_VERSION,
        served: true,
        storage: true,
        // Metacontroller writes status through the status subresource and refuses parents without it.
        subresources: { status: {} },
        additionalPrinterColumns: PRINTER_COLUMNS.map(c => ({ ...c })),
        schema: { openAPIV3Schema: openApiSchema() }
      }]
    }
  }
}
