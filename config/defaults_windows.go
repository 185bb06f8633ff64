package config

import "time"

// Windows nodes: kubelet keeps the same layout under C:\, and HostProcess
// containers see the host's drive. A deleted file held open stays "delete
// pending" and stops kubelet's next rotation of that container's log, so
// one with unread lines (and no .gz of it) is let go after a minute.
const (
	defaultInclude        = `C:\var\log\containers\*.log`
	defaultDataDir        = `C:\ProgramData\sluice`
	defaultReleaseDeleted = time.Minute
)
