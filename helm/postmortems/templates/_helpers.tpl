{{/* The chart's name, or nameOverride. */}}
{{- define "postmortems.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: the release name, with the chart's unless it already holds it. */}}
{{- define "postmortems.fullname" -}}
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

{{/* The name of one component's resources; called with (dict "root" $ "component" "api"). */}}
{{- define "postmortems.componentName" -}}
{{- printf "%s-%s" (include "postmortems.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "postmortems.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postmortems.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "postmortems.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "postmortems.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Called with (dict "root" $ "component" "api"), as the two below. */}}
{{- define "postmortems.componentSelectorLabels" -}}
{{ include "postmortems.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "postmortems.componentLabels" -}}
{{ include "postmortems.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "postmortems.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "postmortems.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read their secret settings from. */}}
{{- define "postmortems.secretName" -}}
{{- default (include "postmortems.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "postmortems.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Environment variables as a YAML map of strings, for a ConfigMap's data or a Secret's stringData:
the chart's own ("managed") and the user's ("extra"), which may not name one of the chart's.
Strings are taken as written, other values as JSON (the service reads lists and maps as JSON).
Called with (dict "managed" (dict ...) "extra" .Values.config.extra "field" "config.extra").
*/}}
{{- define "postmortems.environment" -}}
{{- range $name, $_ := .extra }}
{{- if hasKey $.managed $name }}
{{- fail (printf "%s.%s: the chart sets this variable from a value of its own (see values.yaml)" $.field $name) }}
{{- end }}
{{- end }}
{{- $lines := list }}
{{- range $name, $value := merge (deepCopy .managed) .extra }}
{{- $lines = append $lines (printf "%s: %s" $name (ternary $value (toJson $value) (kindIs "string" $value) | quote)) }}
{{- end }}
{{- join "\n" $lines }}
{{- end }}

{{/* The settings of every pod: the ConfigMap's data. */}}
{{- define "postmortems.settings" -}}
{{- $config := .Values.config }}
{{- $managed := dict
  "POSTMORTEMS_LOG_LEVEL" $config.logLevel
  "POSTMORTEMS_LOG_FORMAT" $config.logFormat
  "POSTMORTEMS_PUBLIC_URL" $config.publicUrl
  "POSTMORTEMS_DB_POOL_SIZE" $config.dbPoolSize
  "POSTMORTEMS_WORKER_CONCURRENCY" $config.workerConcurrency
  "POSTMORTEMS_SHUTDOWN_GRACE_SECONDS" $config.shutdownGraceSeconds
  "POSTMORTEMS_WORKER_METRICS_PORT" .Values.worker.metricsPort
  "POSTMORTEMS_RUN_WORKER" false
}}
{{- include "postmortems.environment" (dict "managed" $managed "extra" ($config.extra | default dict) "field" "config.extra") }}
{{- end }}

{{/* The secret settings: the Secret's stringData (unused with secrets.existingSecret). */}}
{{- define "postmortems.secretSettings" -}}
{{- $secrets := .Values.secrets }}
{{- $managed := dict "POSTMORTEMS_DATABASE_URL" $secrets.databaseUrl }}
{{- with $secrets.secretKeys }}
{{- $_ := set $managed "POSTMORTEMS_SECRET_KEYS" (join "," .) }}
{{- end }}
{{- with $secrets.secretKey }}
{{- $_ := set $managed "POSTMORTEMS_SECRET_KEY" . }}
{{- end }}
{{- include "postmortems.environment" (dict "managed" $managed "extra" ($secrets.extra | default dict) "field" "secrets.extra") }}
{{- end }}

{{/* What every pod's spec holds (the service account aside: see migration-job.yaml). */}}
{{- define "postmortems.podCommon" -}}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
# Service links would add <SERVICE>_PORT and the like for every Service in the namespace:
# for a Service named postmortems-..., variables the service reads as its own settings.
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
volumes:
  # The root filesystem is read-only; temporary files go here.
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* Where one component's pods run (the fields set of them); called with its values (.Values.api). */}}
{{- define "postmortems.placement" -}}
{{- $placement := dict }}
{{- range $field := list "nodeSelector" "tolerations" "affinity" }}
{{- with index $ $field }}
{{- $_ := set $placement $field . }}
{{- end }}
{{- end }}
{{- with $placement }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/* What every container holds. */}}
{{- define "postmortems.container" -}}
image: {{ include "postmortems.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end }}

{{/* The settings and secrets of the API and worker containers. */}}
{{- define "postmortems.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "postmortems.fullname" . }}
  - secretRef:
      name: {{ include "postmortems.secretName" . }}
{{- end }}

{{/* Annotations of the API and worker pods: a change of settings or secrets rolls them. */}}
{{- define "postmortems.podAnnotations" -}}
checksum/config: {{ include "postmortems.settings" . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include "postmortems.secretSettings" . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}
