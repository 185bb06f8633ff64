package main

import (
	"log/slog"
	"os"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/internal/hostpath"
)

// pathChoice is a configured path, by its key, and where it was found.
type pathChoice struct {
	key string
	hostpath.Resolved
}

// resolveConfigPaths points every file the configuration names at where a
// HostProcess container finds it (see internal/hostpath): files to read
// where they exist, files and folders sluice writes where they or their
// parent folder exist.
func resolveConfigPaths(cfg *config.Config) []pathChoice {
	var chosen []pathChoice
	cfg.MapFiles(func(r config.FileRef) string {
		use := hostpath.Create
		if r.Use == config.ReadFile {
			use = hostpath.Read
		}
		res := hostpath.Resolve(r.Path, use)
		chosen = append(chosen, pathChoice{r.Key, res})
		return res.Path
	})
	return chosen
}

// logPathChoices says, in a HostProcess container, which path was used for
// each configured one; elsewhere every path is used as given and there is
// nothing to say.
func logPathChoices(log *slog.Logger, chosen []pathChoice) {
	if os.Getenv(hostpath.SandboxEnv) == "" {
		return
	}
	for _, c := range chosen {
		log.Info("configured path resolved", "key", c.key, "path", c.Given, "used", c.Path, "found", string(c.Where))
	}
}
