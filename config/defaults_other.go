//go:build !windows

package config

// Linux nodes: kubelet's symlinks to container logs and the usual state
// folder. A deleted file held open blocks no one on Linux, so one with
// unread lines is kept until read.
const (
	defaultInclude        = "/var/log/containers/*.log"
	defaultDataDir        = "/var/lib/sluice"
	defaultReleaseDeleted = 0
)
