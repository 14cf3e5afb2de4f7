{{/* Names */}}
{{- define "syncgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "syncgate.fullname" -}}
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

{{- define "syncgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "syncgate.sidecar" -}}
{{- if eq .Values.topology "argocd-sidecar" }}true{{ end -}}
{{- end -}}

{{/* The namespace of the pods that mount the ConfigMaps: Argo CD's for the sidecars. */}}
{{- define "syncgate.workloadNamespace" -}}
{{- if include "syncgate.sidecar" . -}}{{ .Values.argocd.namespace }}{{- else -}}{{ .Release.Namespace }}{{- end -}}
{{- end -}}

{{/* Labels */}}
{{- define "syncgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "syncgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "syncgate.labels" -}}
helm.sh/chart: {{ include "syncgate.chart" . }}
{{ include "syncgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: syncgate
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* metadata.labels + annotations for an object; pass (dict "ctx" $ "component" "gate") */}}
{{- define "syncgate.metadata" -}}
labels:
  {{- include "syncgate.labels" .ctx | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
{{- with .ctx.Values.commonAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "syncgate.serviceAccountName" -}}
{{- if include "syncgate.sidecar" . -}}
{{- .Values.argocd.repoServer.serviceAccountName -}}
{{- else if .Values.serviceAccount.create -}}
{{- default (include "syncgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "syncgate.serviceAccountNamespace" -}}
{{- if include "syncgate.sidecar" . }}{{ .Values.argocd.namespace }}{{ else }}{{ .Release.Namespace }}{{ end -}}
{{- end -}}

{{/* Image: by digest; the tag (default appVersion) only as a fallback. */}}
{{- define "syncgate.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "syncgate.gatePort" -}}
{{- splitList ":" .Values.gate.listen | last -}}
{{- end -}}

{{- define "syncgate.gateExposed" -}}
{{- if hasPrefix "0.0.0.0:" .Values.gate.listen }}true{{ end -}}
{{- end -}}

{{/* Hardened container securityContext; pass (dict "uid" N "gid" N) */}}
{{- define "syncgate.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .gid }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "syncgate.configMapName" -}}{{ include "syncgate.fullname" . }}-config{{- end -}}
{{- define "syncgate.policiesConfigMapName" -}}{{ include "syncgate.fullname" . }}-policies{{- end -}}
{{- define "syncgate.trustConfigMapName" -}}{{ include "syncgate.fullname" . }}-trust{{- end -}}
{{- define "syncgate.pluginConfigMapName" -}}{{ include "syncgate.fullname" . }}-argocd-plugin{{- end -}}
{{- define "syncgate.tlsSecretName" -}}
{{- if .Values.webhook.tls.certManager.enabled -}}{{ include "syncgate.fullname" . }}-webhook-tls{{- else -}}{{ .Values.webhook.tls.secretName }}{{- end -}}
{{- end -}}

{{/* The shipped policy files: files/policies/**.y(a)ml minus test material (the loader's convention). */}}
{{- define "syncgate.builtinPolicyFiles" -}}
{{- $out := dict -}}
{{- if .Values.policies.builtin -}}
{{- range $path, $_ := .Files.Glob "files/policies/**" -}}
{{- $rel := trimPrefix "files/policies/" $path -}}
{{- $base := base $rel | lower -}}
{{- $isYaml := or (hasSuffix ".yaml" $base) (hasSuffix ".yml" $base) -}}
{{- $isTest := or (has "tests" (splitList "/" (dir $rel))) (eq $base "syncgate-test.yaml") (eq $base "syncgate-test.yml") (hasSuffix ".test.yaml" $base) (hasSuffix ".test.yml" $base) -}}
{{- if and $isYaml (not $isTest) -}}
{{- $_ := set $out (printf "builtin.%s" ($rel | replace "/" ".")) $path -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The gate's config.yaml (validated by the gate against src/config/schema.ts at start). */}}
{{- define "syncgate.config" -}}
{{- $policyPaths := list -}}
{{- range $key, $_ := (include "syncgate.builtinPolicyFiles" . | fromJson) -}}
{{- $policyPaths = append $policyPaths (printf "/etc/syncgate/policies/%s" $key) -}}
{{- end -}}
{{- range $name, $_ := .Values.policies.custom -}}
{{- $policyPaths = append $policyPaths (printf "/etc/syncgate/policies/custom.%s" $name) -}}
{{- end -}}
{{- $exceptionPaths := list -}}
{{- range $name, $_ := .Values.policies.exceptions -}}
{{- $exceptionPaths = append $exceptionPaths (printf "/etc/syncgate/policies/exception.%s" $name) -}}
{{- end -}}
{{- $keyrings := list -}}
{{- range $name, $_ := .Values.trust.keyrings -}}
{{- $keyrings = append $keyrings (printf "/etc/syncgate/trust/%s" $name) -}}
{{- end -}}
{{- $trust := dict "keyrings" $keyrings "rules" .Values.trust.rules -}}
{{- if .Values.trust.allowedSigners -}}
{{- $signers := list -}}
{{- range $name, $_ := .Values.trust.allowedSigners -}}
{{- $signers = append $signers (printf "/etc/syncgate/trust/%s" $name) -}}
{{- end -}}
{{- $_ := set $trust "allowedSigners" $signers -}}
{{- end -}}
{{- $config := dict
  "listen" .Values.gate.listen
  "log" (dict "level" .Values.gate.logLevel)
  "audit" (dict "path" "/var/lib/syncgate/audit.jsonl")
  "trust" $trust
  "policies" (dict "paths" $policyPaths "exceptions" $exceptionPaths "defaultMode" .Values.policies.defaultMode "modes" .Values.policies.modes "bindings" .Values.policies.bindings)
  "sealing" (dict "kubernetes" (dict "namespace" .Release.Namespace) "delivery" "apiserver")
-}}
{{- if not (include "syncgate.sidecar" .) -}}
{{- $timeoutMs := max 1000 (sub (mul (int .Values.webhook.timeoutSeconds) 1000) 1000) -}}
{{- $_ := set $config "admission" (dict "listen" (printf "0.0.0.0:%d" (int .Values.webhook.port)) "certFile" "/etc/syncgate/tls/tls.crt" "keyFile" "/etc/syncgate/tls/tls.key" "timeoutMs" $timeoutMs) -}}
{{- end -}}
{{- $merged := mustMergeOverwrite $config (deepCopy .Values.config) -}}
{{- toYaml $merged -}}
{{- end -}}

{{/* Checksum of everything mounted from ConfigMaps, so a change rolls the pods. */}}
{{- define "syncgate.configChecksum" -}}
{{- $parts := list (include "syncgate.config" .) (toJson .Values.trust) (toJson .Values.policies) (include "syncgate.builtinPolicyFiles" .) -}}
{{- range $key, $path := (include "syncgate.builtinPolicyFiles" . | fromJson) -}}
{{- $parts = append $parts ($.Files.Get $path) -}}
{{- end -}}
{{- $parts | join "\n" | sha256sum -}}
{{- end -}}

{{/* A probe command over loopback (the gate may listen on 127.0.0.1 only). */}}
{{- define "syncgate.probeExec" -}}
exec:
  command:
    - node
    - -e
    - {{ printf "fetch('http://127.0.0.1:%s%s',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" (include "syncgate.gatePort" .ctx) .path | quote }}
{{- end -}}

{{/* The gate container (both topologies); pass the root context. */}}
{{- define "syncgate.gateContainer" -}}
name: syncgate
image: {{ include "syncgate.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
args:
  - serve
  - --config
  - /etc/syncgate/config/config.yaml
env:
  # The gate's own namespace: where its sealing key Secrets live (the release namespace).
  - name: POD_NAMESPACE
    {{- if include "syncgate.sidecar" . }}
    value: {{ .Release.Namespace | quote }}
    {{- else }}
    valueFrom:
      fieldRef:
        fieldPath: metadata.namespace
    {{- end }}
  - name: NODE_ENV
    value: production
  {{- with .Values.gate.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- if or (include "syncgate.gateExposed" .) (not (include "syncgate.sidecar" .)) }}
ports:
  {{- if include "syncgate.gateExposed" . }}
  - name: http
    containerPort: {{ include "syncgate.gatePort" . | int }}
    protocol: TCP
  {{- end }}
  {{- if not (include "syncgate.sidecar" .) }}
  - name: webhook
    containerPort: {{ .Values.webhook.port | int }}
    protocol: TCP
  {{- end }}
{{- end }}
{{- if include "syncgate.sidecar" . }}
startupProbe:
  {{- include "syncgate.probeExec" (dict "ctx" . "path" "/healthz") | nindent 2 }}
  {{- toYaml .Values.probes.startup | nindent 2 }}
livenessProbe:
  {{- include "syncgate.probeExec" (dict "ctx" . "path" "/healthz") | nindent 2 }}
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  {{- include "syncgate.probeExec" (dict "ctx" . "path" "/readyz") | nindent 2 }}
  {{- toYaml .Values.probes.readiness | nindent 2 }}
{{- else }}
startupProbe:
  httpGet: {path: /healthz, port: webhook, scheme: HTTPS}
  {{- toYaml .Values.probes.startup | nindent 2 }}
livenessProbe:
  httpGet: {path: /healthz, port: webhook, scheme: HTTPS}
  {{- toYaml .Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet: {path: /readyz, port: webhook, scheme: HTTPS}
  {{- toYaml .Values.probes.readiness | nindent 2 }}
{{- end }}
resources:
  {{- toYaml .Values.gate.resources | nindent 2 }}
securityContext:
  {{- include "syncgate.containerSecurityContext" (dict "uid" .Values.securityContext.runAsUser "gid" .Values.securityContext.runAsGroup) | nindent 2 }}
volumeMounts:
  - name: syncgate-config
    mountPath: /etc/syncgate/config
    readOnly: true
  - name: syncgate-policies
    mountPath: /etc/syncgate/policies
    readOnly: true
  - name: syncgate-trust
    mountPath: /etc/syncgate/trust
    readOnly: true
  - name: syncgate-audit
    mountPath: /var/lib/syncgate
  - name: syncgate-tmp
    mountPath: /tmp
  # The only API credentials in the pod: a short-lived projected token, in this container only.
  - name: syncgate-kube-api
    mountPath: /var/run/secrets/kubernetes.io/serviceaccount
    readOnly: true
  {{- if not (include "syncgate.sidecar" .) }}
  - name: syncgate-tls
    mountPath: /etc/syncgate/tls
    readOnly: true
  {{- end }}
{{- end -}}

{{/* Volumes of the gate container; pass the root context. */}}
{{- define "syncgate.gateVolumes" -}}
- name: syncgate-config
  configMap:
    name: {{ include "syncgate.configMapName" . }}
- name: syncgate-policies
  configMap:
    name: {{ include "syncgate.policiesConfigMapName" . }}
- name: syncgate-trust
  configMap:
    name: {{ include "syncgate.trustConfigMapName" . }}
- name: syncgate-audit
  {{- toYaml .Values.audit.volume | nindent 2 }}
- name: syncgate-tmp
  emptyDir:
    sizeLimit: 64Mi
- name: syncgate-kube-api
  projected:
    defaultMode: 0444
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3600
      - configMap:
          name: kube-root-ca.crt
          items:
            - key: ca.crt
              path: ca.crt
      - downwardAPI:
          items:
            - path: namespace
              fieldRef:
                fieldPath: metadata.namespace
{{- if not (include "syncgate.sidecar" .) }}
- name: syncgate-tls
  secret:
    secretName: {{ include "syncgate.tlsSecretName" . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/* The Argo CD config management plugin container; pass the root context. */}}
{{- define "syncgate.cmpContainer" -}}
name: syncgate-cmp
image: {{ include "syncgate.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
# The argocd binary, copied into var-files by the repo-server's copyutil init container.
command: [/var/run/argocd/argocd-cmp-server]
env:
  - name: SYNCGATE_URL
    value: {{ printf "http://127.0.0.1:%s" (include "syncgate.gatePort" .) | quote }}
  - name: HOME
    value: /tmp
  {{- with .Values.argocd.cmp.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
resources:
  {{- toYaml .Values.argocd.cmp.resources | nindent 2 }}
securityContext:
  {{- include "syncgate.containerSecurityContext" (dict "uid" 999 "gid" 999) | nindent 2 }}
volumeMounts:
  - name: var-files
    mountPath: /var/run/argocd
  - name: plugins
    mountPath: /home/argocd/cmp-server/plugins
  - name: syncgate-plugin
    mountPath: /home/argocd/cmp-server/config/plugin.yaml
    subPath: plugin.yaml
    readOnly: true
  # Its own /tmp, never the repo-server's (Argo CD's guard against path traversal between tools).
  - name: syncgate-cmp-tmp
    mountPath: /tmp
{{- end -}}

{{- define "syncgate.cmpVolumes" -}}
- name: syncgate-plugin
  configMap:
    name: {{ include "syncgate.pluginConfigMapName" . }}
- name: syncgate-cmp-tmp
  emptyDir: {}
{{- end -}}

{{/* The ConfigManagementPlugin (plugin.yaml). Also shipped as deploy/argocd/plugin.yaml. */}}
{{- define "syncgate.pluginYaml" -}}
apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: {{ .Values.argocd.plugin.name }}
spec:
  {{- with .Values.argocd.plugin.version }}
  version: {{ . | quote }}
  {{- end }}
  # No discover rule: an Application uses the gate only when it names the plugin
  # (spec.source.plugin.name). Enforce that with an AppProject or the admission webhook.
  generate:
    # Renders the source, asks the gate at $SYNCGATE_URL with ARGOCD_APP_* metadata, prints the
    # manifests only if the gate allows the sync; otherwise exits non-zero with reasons on stderr.
    command: [node, /app/dist/bundle/syncgate.js, argocd, generate]
  preserveFileMode: false
{{- end -}}
