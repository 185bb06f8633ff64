package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/sluicelog/sluice/config"
	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/enrich/podcache"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/metrics"
)

// podCache is the running pod metadata cache; stop ends it and waits.
type podCache struct {
	source enrich.PodSource // nil: path-derived fields only
	stop   func()
	synced <-chan struct{} // closed at the cache's first sync; nil without a cache
}

// firstSyncWait bounds how long the tailer waits for the pod cache's first
// list before it reads (never longer than wait_for_pod). The list usually
// arrives in well under a second; reading before it would make every
// file's first lines wait for their pod in memory, up to 8 MiB per file,
// which at a node's start is what set sluice's peak memory. An API server
// that is down costs this much delay once, then lines flow as before.
const firstSyncWait = 2 * time.Second

// awaitFirstSync returns once the pod cache has its first list, after
// limit, or when ctx ends, and says which.
func (p podCache) awaitFirstSync(ctx context.Context, limit time.Duration) bool {
	if p.synced == nil || limit <= 0 {
		return true
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	select {
	case <-p.synced:
		return true
	case <-ctx.Done():
		return false
	case <-deadline.C:
		return false
	}
}

// startPodCache starts the node's pod cache when kubernetes.enabled asks for
// it (auto: inside a cluster, or with a kubeconfig). It does not wait for
// the first list; the caller bounds that wait (awaitFirstSync).
func startPodCache(cfg config.Kubernetes, keys podmeta.Keys, log *slog.Logger, m *metrics.Registry, ready *metrics.Readiness) (podCache, error) {
	none := podCache{stop: func() {}}
	node := nodeName(cfg)
	inCluster := os.Getenv("KUBERNETES_SERVICE_HOST") != ""
	switch {
	case cfg.Enabled == "false":
		return none, nil
	case cfg.Enabled == "auto" && !inCluster && cfg.Kubeconfig == "":
		log.Info("kubernetes: not in a cluster and no kubeconfig; records carry the fields of their file path only")
		return none, nil
	case node == "":
		if cfg.Enabled == "auto" {
			log.Warn("kubernetes: no node name (set NODE_NAME from spec.nodeName, or kubernetes.node_name); records carry the fields of their file path only")
			return none, nil
		}
		return none, fmt.Errorf("kubernetes: no node name: set NODE_NAME from spec.nodeName, or kubernetes.node_name")
	}
	cache, err := podcache.New(podCacheConfig(cfg, node, keys, log, m))
	if err != nil {
		return none, fmt.Errorf("kubernetes: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { cache.Run(ctx); done <- struct{}{} }()
	go func() { reportPodCache(ctx, cache, ready); done <- struct{}{} }()
	log.Info("kubernetes: watching the pods of this node", "node", node)
	return podCache{source: cache, stop: func() { cancel(); <-done; <-done }, synced: cache.FirstSync()}, nil
}

// podCacheConfig maps the kubernetes keys onto the pod cache.
func podCacheConfig(cfg config.Kubernetes, node string, keys podmeta.Keys, log *slog.Logger, m *metrics.Registry) podcache.Config {
	return podcache.Config{
		Node: node, Kubeconfig: cfg.Kubeconfig, Grace: zeroIsNone(cfg.DeleteGrace), NamespaceLabels: cfg.NamespaceLabels,
		Annotations: cfg.Annotations, Keys: keys, Logger: log.With("component", "kubernetes"), Events: m,
	}
}

// stageConfig maps the kubernetes keys onto the enrichment stage.
func stageConfig(cfg config.Kubernetes, pods enrich.PodSource, keys podmeta.Keys, log *slog.Logger, m *metrics.Registry) enrich.StageConfig {
	return enrich.StageConfig{
		Node: nodeName(cfg), Pods: pods, Keys: keys, Wait: zeroIsNone(cfg.WaitForPod), Events: m,
		NodeMaxHeldBytes: int(cfg.MaxHeldBytes), Logger: log.With("component", "enrich"),
	}
}

// zeroIsNone maps a configured duration onto a component that reads 0 as
// its default and a negative value as none: in the configuration an explicit
// 0s means none, and the configuration's defaults are never 0.
func zeroIsNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// reportPodCache keeps /readyz's kubernetes note in step with the cache.
func reportPodCache(ctx context.Context, c *podcache.Cache, ready *metrics.Readiness) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		synced, err, since := c.Status()
		switch {
		case err != nil:
			ready.Note("kubernetes", fmt.Sprintf("API server failing since %s (records go out with path fields after their wait): %v",
				since.UTC().Format(time.RFC3339), err))
		case !synced:
			ready.Note("kubernetes", "pod cache not synced yet")
		default:
			ready.Note("kubernetes", "")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
