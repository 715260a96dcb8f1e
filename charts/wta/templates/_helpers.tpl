{{/*
Names, labels, the image and the operator's RBAC rules, shared by every template.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "wta.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, or <release>-<chart> (just <release> when it
already contains the chart name). Truncated to leave room for the "-operator" suffix within 63.
*/}}
{{- define "wta.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "wta.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "wta.labels" -}}
helm.sh/chart: {{ include "wta.chart" . }}
app.kubernetes.io/name: {{ include "wta.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wta
{{- end }}

{{/* Labels that select one component's pods: (dict "context" $ "component" "gateway"). */}}
{{- define "wta.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wta.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of one component's objects: common labels plus its selector labels. */}}
{{- define "wta.componentLabels" -}}
{{ include "wta.labels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "wta.gateway.fullname" -}}
{{ include "wta.fullname" . }}-gateway
{{- end }}

{{- define "wta.operator.fullname" -}}
{{ include "wta.fullname" . }}-operator
{{- end }}

{{- define "wta.gateway.serviceAccountName" -}}
{{- if .Values.gateway.serviceAccount.create }}
{{- default (include "wta.gateway.fullname" .) .Values.gateway.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.gateway.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "wta.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "wta.operator.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest, or repository:tag (tag defaults to appVersion). */}}
{{- define "wta.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* WTA_NATS_URL, from the Secret when one is named, else the plain URL. */}}
{{- define "wta.natsUrlEnv" -}}
- name: WTA_NATS_URL
{{- if .Values.nats.existingSecret.name }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.existingSecret.name }}
      key: {{ .Values.nats.existingSecret.key }}
{{- else }}
  value: {{ .Values.nats.url | quote }}
{{- end }}
{{- end }}

{{/* The gateway's NATS URL: its own user's Secret when one is named, else the operator's URL. */}}
{{- define "wta.gatewayNatsUrlEnv" -}}
{{- with .Values.nats.gatewayExistingSecret }}
{{- if .name }}
- name: WTA_NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- else }}
{{- include "wta.natsUrlEnv" $ }}
{{- end }}
{{- end }}
{{- end }}

{{/* The database of the gateway's handoff API and staff console, when one is given. */}}
{{- define "wta.gatewayDatabaseUrlEnv" -}}
{{- with .Values.gateway.databaseExistingSecret }}
{{- if .name }}
- name: WTA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end }}

{{/* The /tmp emptyDir every container writes to (the root filesystem is read-only). */}}
{{- define "wta.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/*
The operator's rules: exactly the verbs it uses. They are read from the ClusterRole of
files/operator-rbac.yaml, an exact copy of operator/wta_operator/rbac.yaml (tests/chart checks it),
so the operator's tests and the chart grant the same. They go into a ClusterRole, or into a Role in
each watched namespace and in the release namespace (where it writes the gateway's routes Secret).
*/}}
{{- define "wta.operator.rules" -}}
{{- $rules := list }}
{{- range $document := splitList "\n---" (.Files.Get "files/operator-rbac.yaml") }}
{{- $object := fromYaml $document }}
{{- if eq (get $object "kind") "ClusterRole" }}
{{- $rules = get $object "rules" }}
{{- end }}
{{- end }}
{{- if not $rules }}
{{- fail "files/operator-rbac.yaml has no ClusterRole rules: copy operator/wta_operator/rbac.yaml there" }}
{{- end }}
{{- toYaml $rules }}
{{- end }}

{{/* Pod-level scheduling and security shared by both Deployments: (dict "context" $ "values" .Values.gateway). */}}
{{- define "wta.podPlacement" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
