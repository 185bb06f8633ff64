{{/* The chart's name, or nameOverride. */}}
{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the release name when it already holds the chart's name. */}}
{{- define "sluice.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sluice.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest, else repository:tag (the appVersion when tag is empty). */}}
{{- define "sluice.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The grace period: the value, or shutdownTimeoutSeconds + 10; never at or below shutdownTimeoutSeconds. */}}
{{- define "sluice.gracePeriod" -}}
{{- $shutdown := int .Values.shutdownTimeoutSeconds -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- if eq $grace 0 -}}{{- $grace = add $shutdown 10 -}}{{- end -}}
{{- if le $grace $shutdown -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above shutdownTimeoutSeconds (%d): kubelet would kill sluice while it drains its queue" $grace $shutdown) -}}
{{- end -}}
{{- $grace -}}
{{- end -}}

{{/*
The bytes in a memory quantity such as 256Mi or 500M (values.schema.json
allows only these forms).
*/}}
{{- define "sluice.bytes" -}}
{{- $q := toString . -}}
{{- $digits := regexFind "^[0-9]+" $q -}}
{{- $unit := trimPrefix $digits $q -}}
{{- $units := dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 -}}
{{- if or (not $digits) (not (hasKey $units $unit)) -}}
{{- fail (printf "memory quantity %q: want digits with an optional unit of k, M, G, Ki, Mi or Gi" $q) -}}
{{- end -}}
{{- mul (int64 $digits) (index $units $unit) -}}
{{- end -}}

{{/* The resources of one DaemonSet: its own, else the shared ones. Needs a memory limit. */}}
{{- define "sluice.resources" -}}
{{- $res := (index .root.Values .os).resources | default .root.Values.resources -}}
{{- if not (and $res.limits $res.limits.memory) -}}
{{- fail (printf "%s: resources.limits.memory is required: GOMEMLIMIT is derived from it" .os) -}}
{{- end -}}
{{- if not (and $res.requests $res.requests.memory) -}}
{{- fail (printf "%s: resources.requests.memory is required" .os) -}}
{{- end -}}
{{- toYaml $res -}}
{{- end -}}

{{/* GOMEMLIMIT in bytes: goMemLimitPercent of the memory limit. */}}
{{- define "sluice.goMemLimit" -}}
{{- $res := include "sluice.resources" . | fromYaml -}}
{{- $limit := include "sluice.bytes" $res.limits.memory | int64 -}}
{{- div (mul $limit (int64 .root.Values.goMemLimitPercent)) 100 -}}
{{- end -}}

{{/*
sluice.yaml for one operating system: config from the values, with the keys
the chart owns set from the other values.
*/}}
{{- define "sluice.config" -}}
{{- $v := .root.Values -}}
{{- range $v.env -}}
{{- if has .name (list "NODE_NAME" "GOMEMLIMIT") -}}
{{- fail (printf "env %s is set by the chart (NODE_NAME from the downward API, GOMEMLIMIT from the memory limit)" .name) -}}
{{- end -}}
{{- end -}}
{{- range $key := list "data_dir" "metrics" "shutdown_timeout" -}}
{{- if hasKey $v.config $key -}}
{{- fail (printf "config.%s is set by the chart: use %s" $key (get (dict "data_dir" "windows.dataDir and linux.dataDir" "metrics" "metrics.port" "shutdown_timeout" "shutdownTimeoutSeconds") $key)) -}}
{{- end -}}
{{- end -}}
{{- $cfg := deepCopy $v.config -}}
{{- $inputs := get $cfg "inputs" | default dict -}}
{{- $files := get $inputs "files" | default dict -}}
{{- if hasKey $files "include" -}}
{{- fail "config.inputs.files.include is set by the chart: use windows.include and linux.include" -}}
{{- end -}}
{{- $_ := set $files "include" (index $v .os).include -}}
{{- $_ = set $inputs "files" $files -}}
{{- $_ = set $cfg "inputs" $inputs -}}
{{- $_ = set $cfg "data_dir" (index $v .os).dataDir -}}
{{- $_ = set $cfg "metrics" (dict "address" (printf ":%d" (int $v.metrics.port))) -}}
{{- $_ = set $cfg "shutdown_timeout" (printf "%ds" (int $v.shutdownTimeoutSeconds)) -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
The folder the ConfigMap is mounted at, per operating system: a folder of
its own, since a Secret mounted inside a ConfigMap volume could be removed
by kubelet's updates of it.
*/}}
{{- define "sluice.configDir" -}}
{{- if eq . "windows" -}}C:\etc\sluice\config{{- else -}}/etc/sluice/config{{- end -}}
{{- end -}}

{{/* Whether the ClusterRole also grants namespaces. */}}
{{- define "sluice.namespaceLabels" -}}
{{- $k := .Values.config.kubernetes | default dict -}}
{{- if $k.namespace_labels -}}true{{- end -}}
{{- end -}}
