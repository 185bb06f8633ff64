package main

import (
	"log/slog"
	"testing"
	"time"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/enrich/podmeta"
)

// An explicit 0s for kubernetes.delete_grace and wait_for_pod means none:
// the pod cache and the stage read 0 as their default and a negative value
// as none (podcache.Config.Grace, enrich.StageConfig.Wait), so 0 must not
// reach them as 0.
func TestKubernetesZeroMeansNone(t *testing.T) {
	for _, tc := range []struct {
		yaml        string
		grace, wait time.Duration // want; negative: none
	}{
		{yaml: "", grace: 5 * time.Minute, wait: 5 * time.Second},
		{yaml: "kubernetes: {delete_grace: 0s, wait_for_pod: 0s}\n", grace: -1, wait: -1},
		{yaml: "kubernetes: {delete_grace: 2m, wait_for_pod: 1s}\n", grace: 2 * time.Minute, wait: time.Second},
	} {
		cfg, err := config.Parse([]byte("outputs: {stdout: {}}\n" + tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		pc := podCacheConfig(cfg.Kubernetes, "n1", podmeta.Keys{}, log, nil)
		sc := stageConfig(cfg.Kubernetes, nil, podmeta.Keys{}, log, nil)
		if pc.Grace != tc.grace || sc.Wait != tc.wait {
			t.Errorf("%q: pod cache grace %v, stage wait %v; want %v, %v", tc.yaml, pc.Grace, sc.Wait, tc.grace, tc.wait)
		}
	}
}
