package ctxsleep

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep with a live context reported it ended")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan bool, 1)
	go func() { done <- Sleep(ctx, time.Hour) }()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("Sleep with an ended context reported the full wait")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Sleep did not return when its context had ended")
	}
}
