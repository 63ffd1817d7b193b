//go:build tools

// Package tools records the upstream commands the local cluster builds, so that `go mod tidy`
// keeps their dependencies in go.sum. e2e/cluster/build.sh builds them with one `go build`.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
