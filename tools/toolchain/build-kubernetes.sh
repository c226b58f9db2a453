#!/usr/bin/env bash
# Builds a real Kubernetes control plane and the ECK operator from pinned Go modules (for the tests that run the
# program against them): kube-apiserver, kubectl and kube-controller-manager (k8s.io/kubernetes), etcd
# (go.etcd.io/etcd/server/v3) and elastic-operator (github.com/elastic/cloud-on-k8s/v3). Same cache and rules as
# build.sh: keyed by version, idempotent, nothing third-party in the repository. Prints the bin folder.
KUBERNETES_VERSION=1.37.2
ETCD_VERSION=3.6.16
ECK_VERSION=3.5.0

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bin="$cache/toolchain/kubernetes-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}-eck-${ECK_VERSION}/bin"
require_go
mkdir -p "$bin" "$work"

version_flags=""
for package in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  version_flags+=" -X $package.gitVersion=v${KUBERNETES_VERSION} -X $package.gitMajor=${KUBERNETES_VERSION%%.*}"
  minor=${KUBERNETES_VERSION#*.}; version_flags+=" -X $package.gitMinor=${minor%%.*}"
done
for command in kube-apiserver kubectl kube-controller-manager; do
  build "$command" kubernetes "$KUBERNETES_VERSION" "$version_flags" "k8s.io/kubernetes/cmd/$command"
done
build etcd etcd "$ETCD_VERSION" "" go.etcd.io/etcd/server/v3
build elastic-operator eck-operator "$ECK_VERSION" \
  "-X github.com/elastic/cloud-on-k8s/v3/pkg/about.version=${ECK_VERSION}" github.com/elastic/cloud-on-k8s/v3/cmd

[[ "$("$bin/kube-apiserver" --version)" == "Kubernetes v${KUBERNETES_VERSION}" ]] || fail "kube-apiserver reports the wrong version"
echo "$bin"
