{{/*
Checks across values that values.schema.json cannot express; rendering fails with the reason.
*/}}
{{- define "postmortems.checks" -}}
{{- $grace := .Values.config.shutdownGraceSeconds }}
{{- $apiStop := addf .Values.api.preStopSleepSeconds $grace }}
{{- if le (float64 .Values.api.terminationGracePeriodSeconds) (float64 $apiStop) }}
{{- fail (printf "api.terminationGracePeriodSeconds (%v) must exceed api.preStopSleepSeconds + config.shutdownGraceSeconds (%v), or Kubernetes kills requests still finishing" .Values.api.terminationGracePeriodSeconds $apiStop) }}
{{- end }}
{{- if le (float64 .Values.worker.terminationGracePeriodSeconds) (float64 $grace) }}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must exceed config.shutdownGraceSeconds (%v), or Kubernetes kills deliveries still finishing" .Values.worker.terminationGracePeriodSeconds $grace) }}
{{- end }}
{{- if and .Values.secrets.secretKeys .Values.secrets.secretKey }}
{{- fail "secrets.secretKeys and secrets.secretKey are both set: the service takes one or the other (secretKey is a one-key secretKeys)" }}
{{- end }}
{{- range $component := list "api" "worker" }}
{{- with (index $.Values $component).autoscaling }}
{{- if and .enabled (gt (int .minReplicas) (int .maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas (%v) is above its maxReplicas (%v)" $component .minReplicas .maxReplicas) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
