package main

import (
	"context"
	"testing"
	"time"
)

func TestAwaitFirstSync(t *testing.T) {
	ctx := context.Background()
	if !(podCache{}).awaitFirstSync(ctx, time.Hour) {
		t.Error("without a pod cache: not ready")
	}
	ch := make(chan struct{})
	soon := podCache{synced: ch}
	go func() { time.Sleep(10 * time.Millisecond); close(ch) }()
	if !soon.awaitFirstSync(ctx, time.Hour) {
		t.Error("a cache that syncs: reported not synced")
	}
	never := podCache{synced: make(chan struct{})}
	if never.awaitFirstSync(ctx, 30*time.Millisecond) {
		t.Error("a cache that never syncs: reported synced")
	}
	if !never.awaitFirstSync(ctx, 0) {
		t.Error("no wait (wait_for_pod 0s): should not wait at all")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if never.awaitFirstSync(cancelled, time.Hour) {
		t.Error("a cancelled start: reported synced")
	}
}
