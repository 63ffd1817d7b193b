{{/*
Names, labels and the few derived values every template shares.
*/}}

{{- define "gtp5g-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Object name prefix: the release name, plus the chart name unless the release name already
contains it (`helm install gtp5g-operator …` gives plain `gtp5g-operator`).
*/}}
{{- define "gtp5g-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gtp5g-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object; callers add app.kubernetes.io/component.
*/}}
{{- define "gtp5g-operator.labels" -}}
helm.sh/chart: {{ include "gtp5g-operator.chart" . }}
{{ include "gtp5g-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gtp5g-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gtp5g-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The hook server pods' selector (Deployment, Service, PDB, NetworkPolicy, ServiceMonitor). */}}
{{- define "gtp5g-operator.hookServerSelectorLabels" -}}
{{ include "gtp5g-operator.selectorLabels" . }}
app.kubernetes.io/component: hook-server
{{- end }}

{{/* True (non-empty) when this chart runs the hook server itself, i.e. hooks.url is unset. */}}
{{- define "gtp5g-operator.inClusterHooks" -}}
{{- if not .Values.hooks.url }}true{{ end }}
{{- end }}

{{- define "gtp5g-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gtp5g-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gtp5g-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "gtp5g-operator.installerImage" -}}
{{- printf "%s:%s" .Values.installer.image.repository (default .Chart.AppVersion .Values.installer.image.tag) }}
{{- end }}

{{/* The in-cluster base URL of the hook server (used by the helm test pod). */}}
{{- define "gtp5g-operator.serviceUrl" -}}
{{- printf "http://%s.%s.svc:8080" (include "gtp5g-operator.fullname" .) .Release.Namespace }}
{{- end }}

{{/*
Pod and container security contexts meeting Pod Security `restricted`: the hook server needs no
privilege, no writable filesystem and no Linux capability. uid 65532 is the image's USER.
*/}}
{{- define "gtp5g-operator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "gtp5g-operator.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Combinations that would render something useless: fail with a message that says what to change.
*/}}
{{- define "gtp5g-operator.validate" -}}
{{- if .Values.hooks.url }}
{{- if and (hasPrefix "http://" (lower .Values.hooks.url)) (not (regexMatch "^(?i)http://(localhost|127(\\.[0-9]{1,3}){3}|\\[::1\\]|[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.svc(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)(:[0-9]+)?(/.*)?$" .Values.hooks.url)) }}
{{- fail (printf "hooks.url (%s) must be https:// unless its host is loopback (localhost, 127.x.x.x, [::1]) or an in-cluster Service (<name>.<namespace>.svc): Metacontroller sends nodes and pods there in clear text and applies whatever DaemonSets come back" .Values.hooks.url) }}
{{- end }}
{{- if .Values.serviceMonitor.enabled }}
{{- fail "serviceMonitor.enabled scrapes the in-cluster hook server, which hooks.url turns off: unset one of them" }}
{{- end }}
{{- else if and .Values.podDisruptionBudget.enabled (ge (int .Values.podDisruptionBudget.minAvailable) (int .Values.hookServer.replicas)) }}
{{- fail (printf "podDisruptionBudget.minAvailable (%d) must be below hookServer.replicas (%d), or no node running a hook server pod could ever be drained; raise the replicas or set podDisruptionBudget.enabled=false" (int .Values.podDisruptionBudget.minAvailable) (int .Values.hookServer.replicas)) }}
{{- end }}
{{- range .Values.installerPolicy.allowedSourcePrefixes }}
{{- if and (regexMatch "^https://(www\\.)?(github\\.com|codeload\\.github\\.com|raw\\.githubusercontent\\.com)/" .) (not (regexMatch "^https://((www\\.)?github\\.com/[^/]+/[^/]+/(archive/refs/tags|releases/download)|codeload\\.github\\.com/[^/]+/[^/]+/(legacy\\.)?(tar\\.gz|zip)/refs/tags|raw\\.githubusercontent\\.com/[^/]+/[^/]+/refs/tags)/" .)) }}
{{- fail (printf "installerPolicy.allowedSourcePrefixes: %q admits any commit GitHub serves under that repository, forks' and pull requests' included; allow only tags, e.g. https://github.com/free5gc/gtp5g/archive/refs/tags/ and https://codeload.github.com/free5gc/gtp5g/tar.gz/refs/tags/" .) }}
{{- end }}
{{- end }}
{{- if and .Values.installer.createNamespace (eq .Values.installer.namespace .Release.Namespace) }}
{{- fail (printf "installer.namespace (%s) is the release namespace, which Helm does not let the chart create or label: install the release into another namespace, or set installer.createNamespace=false and label %s pod-security.kubernetes.io/enforce=privileged yourself" .Values.installer.namespace .Values.installer.namespace) }}
{{- end }}
{{- include "gtp5g-operator.validateCluster" . }}
{{- end }}

{{/*
Checks that need the cluster, so they run on install and upgrade and not in `helm template` or
`helm lint` (lookup finds nothing there): Metacontroller must be installed, and no other
controller may already serve GTP5GModules (the CRD is cluster-scoped: a second release, say with
another installer namespace, would be a second controller fighting the first over every module).
*/}}
{{- define "gtp5g-operator.validateCluster" -}}
{{- if lookup "v1" "Namespace" "" "kube-system" }}
{{- if not (.Capabilities.APIVersions.Has "metacontroller.k8s.io/v1alpha1/CompositeController") }}
{{- fail "Metacontroller is not installed in this cluster (no metacontroller.k8s.io/v1alpha1 CompositeController API), and gtp5g-operator runs on it. Install it first with its own chart:\n  helm install metacontroller oci://ghcr.io/metacontroller/metacontroller-helm --version 4.17.2 -n metacontroller --create-namespace\nthen install gtp5g-operator again." }}
{{- end }}
{{- range (lookup "metacontroller.k8s.io/v1alpha1" "CompositeController" "" "").items }}
{{- if eq (.spec.parentResource.resource | default "") "gtp5gmodules" }}
{{- $annotations := .metadata.annotations | default dict }}
{{- $release := index $annotations "meta.helm.sh/release-name" | default "" }}
{{- $namespace := index $annotations "meta.helm.sh/release-namespace" | default "" }}
{{- if not (and (eq $release $.Release.Name) (eq $namespace $.Release.Namespace)) }}
{{- if $release }}
{{- fail (printf "gtp5g-operator is already installed as release %s in namespace %s (CompositeController %s): GTP5GModule is cluster-scoped, so one release serves the whole cluster, whatever its installer namespace. Upgrade that release (helm upgrade %s -n %s ...) or uninstall it first." $release $namespace .metadata.name $release $namespace) }}
{{- else }}
{{- fail (printf "CompositeController %s already serves GTP5GModules (applied outside Helm): one controller per cluster. Delete it (kubectl delete compositecontroller %s) before installing this chart." .metadata.name .metadata.name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* installer.imagePullSecrets as the hook server's INSTALLER_IMAGE_PULL_SECRETS: names, comma-separated. */}}
{{- define "gtp5g-operator.installerPullSecrets" -}}
{{- $names := list }}
{{- range .Values.installer.imagePullSecrets }}{{ $names = append $names .name }}{{ end }}
{{- join "," $names }}
{{- end }}
