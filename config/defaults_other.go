//go:build !windows

package config

// Linux nodes: kubelet's symlinks to container logs and the usual state folder.
const (
	defaultInclude = "/var/log/containers/*.log"
	defaultDataDir = "/var/lib/sluice"
)
