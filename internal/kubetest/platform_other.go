//go:build !windows

package kubetest

// platformSkip is empty: etcd and kube-apiserver run here.
const platformSkip = ""
