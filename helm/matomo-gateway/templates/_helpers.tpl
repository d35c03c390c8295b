{{/* Names, labels and the values the gateway's configuration is computed from. */}}

{{- define "matomo-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "matomo-gateway.fullname" -}}
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

{{- define "matomo-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "matomo-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "matomo-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "matomo-gateway.labels" -}}
helm.sh/chart: {{ include "matomo-gateway.chart" . }}
{{ include "matomo-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "matomo-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "matomo-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "matomo-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The Secret holding the Redis password, or "" when there is none. */}}
{{- define "matomo-gateway.redisSecretName" -}}
{{- if .Values.redis.existingSecret }}
{{- .Values.redis.existingSecret }}
{{- else if .Values.redis.password }}
{{- printf "%s-redis" (include "matomo-gateway.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Secret holding the Matomo token, or "" when there is none. */}}
{{- define "matomo-gateway.tokenSecretName" -}}
{{- if .Values.matomoTokenExistingSecret }}
{{- .Values.matomoTokenExistingSecret }}
{{- else if .Values.matomoToken }}
{{- printf "%s-matomo-token" (include "matomo-gateway.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The --redis URL. The password is not in it: the Deployment puts it in MGW_REDIS_PASSWORD from the
Secret and Kubernetes expands $(MGW_REDIS_PASSWORD) in MATOMO_GATEWAY_REDIS, so it never reaches the
ConfigMap, the pod spec or argv.
*/}}
{{- define "matomo-gateway.redisUrl" -}}
{{- $r := .Values.redis }}
{{- $auth := "" }}
{{- if include "matomo-gateway.redisSecretName" . }}{{ $auth = ":$(MGW_REDIS_PASSWORD)@" }}{{ end }}
{{- if ne $r.backendType "standalone" }}
{{- if not (has $r.backendType (list "sentinel" "cluster")) }}
{{- fail (printf "redis.backendType must be standalone, sentinel or cluster, not %q" $r.backendType) }}
{{- end }}
{{- $hosts := splitList "," (toString $r.host) }}
{{- $ports := splitList "," (toString $r.port) }}
{{- if ne (len $hosts) (len $ports) }}
{{- fail "redis.host and redis.port must list the same number of entries (QueuedTracking_NumHostsNotMatchNumPorts)" }}
{{- end }}
{{- $nodes := list }}
{{- range $i, $h := $hosts }}
{{- $h = trim $h }}
{{- $p := trim (index $ports $i) }}
{{- if or (not $h) (hasPrefix "/" $h) (hasPrefix "tls://" $h) }}
{{- fail (printf "redis.host entry %q: each entry is a host name or address (no unix socket or tls://)" $h) }}
{{- end }}
{{- if not (regexMatch "^[0-9]+$" $p) }}
{{- fail (printf "redis.port entry %q is not a port number" $p) }}
{{- end }}
{{- if contains ":" $h }}{{ $h = printf "[%s]" $h }}{{ end }}
{{- $nodes = append $nodes (printf "%s:%s" $h $p) }}
{{- end }}
{{- if eq $r.backendType "sentinel" }}
{{- $master := trim (toString $r.sentinelMasterName) }}
{{- if not $master }}
{{- fail "redis.sentinelMasterName must be set for backendType sentinel" }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9._-]+$" $master) }}
{{- fail (printf "redis.sentinelMasterName %q: letters, digits, '.', '_' and '-' only" $master) }}
{{- end }}
{{- printf "redis-sentinel://%s%s/%s?master=%s" $auth (join "," $nodes) (toString (int64 $r.database)) $master }}
{{- else }}
{{- /* A cluster has database 0 only; QueuedTracking ignores redisDatabase with cluster, and so does the chart. */}}
{{- printf "redis-cluster://%s%s" $auth (join "," $nodes) }}
{{- end }}
{{- else }}
{{- $host := trim (toString $r.host) }}
{{- if or (contains "," $host) (hasPrefix "/" $host) (hasPrefix "tls://" $host) }}
{{- fail (printf "redis.host %q: standalone takes one host name or address (no list, unix socket or tls://)" $host) }}
{{- end }}
{{- if contains ":" $host }}{{ $host = printf "[%s]" $host }}{{ end }}
{{- printf "redis://%s%s:%s/%s" $auth $host (trim (toString $r.port)) (toString (int64 $r.database)) }}
{{- end }}
{{- end }}

{{/* A TOML value: strings as JSON strings (a subset of TOML basic strings), whole numbers as integers. */}}
{{- define "matomo-gateway.tomlValue" -}}
{{- if kindIs "bool" . }}{{ . }}
{{- else if kindIs "string" . }}{{ toJson . }}
{{- else if or (kindIs "float64" .) (kindIs "float32" .) }}
{{- if eq (float64 .) (floor .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if or (kindIs "int" .) (kindIs "int64" .) }}{{ . }}
{{- else }}{{ fail (printf "config: unsupported value %v (strings, numbers and booleans only)" .) }}
{{- end }}
{{- end }}

{{/* ceil((drain delay + drain timeout) / 1000) + extra, strictly longer than the gateway's drain. */}}
{{- define "matomo-gateway.terminationGracePeriodSeconds" -}}
{{- $d := .Values.drain }}
{{- if lt (int64 $d.terminationGraceExtraSeconds) 1 }}
{{- fail "drain.terminationGraceExtraSeconds must be at least 1" }}
{{- end }}
{{- $ms := add (int64 $d.delayMs) (int64 $d.timeoutMs) }}
{{- add (div (add $ms 999) 1000) (int64 $d.terminationGraceExtraSeconds) }}
{{- end }}

{{/* The queue workers' labels: their own name, so the gateway's Services never select them. */}}
{{- define "matomo-gateway.workerSelectorLabels" -}}
app.kubernetes.io/name: {{ printf "%s-queue-worker" (include "matomo-gateway.name" .) | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: queue-worker
{{- end }}

{{- define "matomo-gateway.workerLabels" -}}
helm.sh/chart: {{ include "matomo-gateway.chart" . }}
{{ include "matomo-gateway.workerSelectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
