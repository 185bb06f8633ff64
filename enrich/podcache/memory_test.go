package podcache

import (
	"context"
	"encoding/json"
	"runtime"
	"testing"

	v1 "k8s.io/api/core/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/sluicelog/sluice/enrich/podcache/podcachetest"
)

// memoryPods is how many pods the memory measurement caches: several times
// what one node runs, so that the cache's fixed costs weigh little.
const memoryPods = 1000

// maxBytesPerPod is the budget TestMemoryPerPod holds the cache to.
const maxBytesPerPod = 2048

// bytesPerPod measures the heap the cache keeps for n realistic pods: the
// live heap after a GC, with the cache synced, minus the same before it
// started. The API server's answer is decoded from JSON on each list, as a
// real client does, so no string is shared with the test's own copy.
func bytesPerPod(tb testing.TB, n int) float64 {
	tb.Helper()
	list := &v1.PodList{Items: make([]v1.Pod, n)}
	for i := range list.Items {
		list.Items[i] = *realisticPod(i, testNode)
	}
	raw, err := json.Marshal(list)
	if err != nil {
		tb.Fatal(err)
	}
	list = nil
	cs := fake.NewClientset()
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, k8sruntime.Object, error) {
		var l v1.PodList
		err := json.Unmarshal(raw, &l)
		return true, &l, err
	})
	ev := newRecorder()
	before := liveHeap()
	c := NewForClient(podcachetest.New(cs), Config{Node: testNode, Events: ev})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	ev.syncedOnce(tb)
	after := liveHeap()
	if got := c.store.len(); got != n {
		tb.Fatalf("%d pods cached, want %d", got, n)
	}
	runtime.KeepAlive(raw)
	return float64(after-before) / float64(n)
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerPod holds the cache to its budget per pod.
func TestMemoryPerPod(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("memory is measured without -race and -short")
	}
	got := bytesPerPod(t, memoryPods)
	t.Logf("%.0f bytes per cached pod (%d realistic pods)", got, memoryPods)
	if got > maxBytesPerPod {
		t.Fatalf("%.0f bytes per cached pod, budget %d", got, maxBytesPerPod)
	}
}

// BenchmarkMemoryPerPod reports the heap the cache keeps per pod; the time
// it reports is that of listing and transforming 1,000 pods.
func BenchmarkMemoryPerPod(b *testing.B) {
	var got float64
	for b.Loop() {
		got = bytesPerPod(b, memoryPods)
	}
	b.ReportMetric(got, "bytes/pod")
}
