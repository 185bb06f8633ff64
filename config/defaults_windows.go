package config

// Windows nodes: kubelet keeps the same layout under C:\, and HostProcess
// containers see the host's drive.
const (
	defaultInclude = `C:\var\log\containers\*.log`
	defaultDataDir = `C:\ProgramData\sluice`
)
