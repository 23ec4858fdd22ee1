{{/* Names ------------------------------------------------------------------- */}}

{{- define "agentloom.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "agentloom.fullname" -}}
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

{{- define "agentloom.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "agentloom.fullname" .) }}
{{- end }}

{{- define "agentloom.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Labels: each resource adds app.kubernetes.io/component itself. ----------------- */}}

{{- define "agentloom.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agentloom.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "agentloom.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "agentloom.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The environment (docs/operations.md). Rendered twice: into the ConfigMap and
     Secret the Deployments use, and into the hook copies the migrate Job uses,
     because hooks run before the release's own resources exist. ------------- */}}

{{- define "agentloom.configData" -}}
{{- if not .Values.config.allowedHosts }}
{{- fail "config.allowedHosts is required: the host names the API answers to" }}
{{- end -}}
ALLOWED_HOSTS: {{ prepend .Values.config.allowedHosts "127.0.0.1" | uniq | join "," | quote }}
CSRF_TRUSTED_ORIGINS: {{ join "," .Values.config.csrfTrustedOrigins | quote }}
AWS_STORAGE_BUCKET_NAME: {{ required "config.s3.bucket is required: every pod must share the artifacts" .Values.config.s3.bucket | quote }}
{{- with .Values.config.s3.endpointUrl }}
AWS_S3_ENDPOINT_URL: {{ . | quote }}
{{- end }}
{{- with .Values.config.s3.region }}
AWS_S3_REGION_NAME: {{ . | quote }}
{{- end }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
AGENTLOOM_QUEUE_SHARDS: {{ .Values.config.queueShards | quote }}
{{- range $name, $value := .Values.config.extraEnv }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{- define "agentloom.secretData" -}}
SECRET_KEY: {{ required "secrets.secretKey is required (or secrets.existingSecret)" .Values.secrets.secretKey | quote }}
AGENTLOOM_ENCRYPTION_KEYS: {{ required "secrets.encryptionKeys is required (or secrets.existingSecret)" .Values.secrets.encryptionKeys | quote }}
DATABASE_URL: {{ required "secrets.databaseUrl is required (or secrets.existingSecret)" .Values.secrets.databaseUrl | quote }}
REDIS_URL: {{ required "secrets.redisUrl is required (or secrets.existingSecret)" .Values.secrets.redisUrl | quote }}
{{- with .Values.secrets.awsAccessKeyId }}
AWS_ACCESS_KEY_ID: {{ . | quote }}
{{- end }}
{{- with .Values.secrets.awsSecretAccessKey }}
AWS_SECRET_ACCESS_KEY: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.secrets.extraEnv }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Pod-level settings every Agentloom pod shares. Use with nindent 6. */}}
{{- define "agentloom.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
# The processes never call the Kubernetes API.
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod annotations: a changed ConfigMap or chart-made Secret rolls the pods. */}}
{{- define "agentloom.podAnnotations" -}}
checksum/config: {{ include "agentloom.configData" . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include "agentloom.secretData" . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* A worker's metrics port (server/ops/multiproc.py) and its scrape annotations. */}}
{{- define "agentloom.workerMetricsEnv" -}}
- name: AGENTLOOM_METRICS_PORT
  value: {{ .Values.metrics.workerPort | quote }}
- name: AGENTLOOM_METRICS_HOST
  value: "0.0.0.0"
{{- end }}

{{- define "agentloom.workerMetricsPort" -}}
ports:
  - name: metrics
    containerPort: {{ .Values.metrics.workerPort }}
{{- end }}

{{- define "agentloom.workerScrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.workerPort | quote }}
prometheus.io/path: /metrics
{{- end }}

{{/* Container fields every Agentloom container shares. Use with nindent 10. */}}
{{- define "agentloom.containerCommon" -}}
image: {{ include "agentloom.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
{{- end }}

{{/* The environment of the long-running pods. Use with nindent 10. */}}
{{- define "agentloom.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "agentloom.fullname" . }}
  - secretRef:
      name: {{ include "agentloom.secretName" . }}
{{- end }}
