package podcache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/enrich/podcache/podcachetest"
	"github.com/sluicelog/sluice/record"
)

// TestStageCatchesUp runs the Stage on a Cache whose API server is
// unreachable at first: a file is held for Wait and shipped with what its
// path says, and once the cache has synced, the file's next batch is
// enriched in full.
func TestStageCatchesUp(t *testing.T) {
	pod := simplePod("shop", "web-7d9f", "7f5b3c1e-2d4a-4b6c-8e9f-0a1b2c3d4e5f", map[string]string{"app": "web"})
	cs := fake.NewClientset(pod)
	var failed atomic.Bool
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failed.CompareAndSwap(false, true) {
			return true, nil, &url.Error{Op: "Get", URL: "https://10.0.0.1/api/v1/pods", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}
		}
		return false, nil, nil
	})
	c := start(t, cs, Config{})
	s := enrich.NewStage(enrich.StageConfig{Node: testNode, Pods: c.Cache, Wait: 20 * time.Millisecond})
	in, out := make(chan *record.Batch), make(chan *record.Batch)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, in, out) }()
	defer func() { cancel(); <-done }()

	path := `C:\var\log\pods\shop_web-7d9f_7f5b3c1e-2d4a-4b6c-8e9f-0a1b2c3d4e5f\main\0.log`
	send := func() []record.Attr {
		t.Helper()
		in <- record.NewBatch([]record.Record{{Path: path, Body: []byte("x")}}, nil)
		select {
		case b := <-out:
			return b.Records[0].Attrs
		case <-time.After(patience):
			t.Fatal("no batch out")
			return nil
		}
	}
	pathOnly := attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", string(pod.UID), "container", "main", "node", testNode)
	if got := send(); !reflect.DeepEqual(got, pathOnly) {
		t.Fatalf("while unreachable: %v, want the path's %v", got, pathOnly)
	}
	c.ev.syncedOnce(t)
	want := attrs("namespace", "shop", "pod", "web-7d9f", "pod_uid", string(pod.UID), "container", "main",
		"container_image", "busybox:1.37", "node", testNode, "label.app", "web")
	if got := send(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after sync: %v, want %v", got, want)
	}
}

// BenchmarkStageOnCache measures the Stage on hits in a real Cache, per
// record: batches of 512 records from 16 files of 16 realistic pods in turn.
func BenchmarkStageOnCache(b *testing.B) {
	const batch = 512
	var pods []runtime.Object
	for i := range 16 {
		pods = append(pods, realisticPod(i, testNode))
	}
	cs := fake.NewClientset(pods...)
	ev := newRecorder()
	c := NewForClient(podcachetest.New(cs), Config{Node: testNode, Events: ev})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() { c.Run(ctx) })
	ev.syncedOnce(b)
	s := enrich.NewStage(enrich.StageConfig{Node: testNode, Pods: c})
	in, out := make(chan *record.Batch, 4), make(chan *record.Batch, 4)
	wg.Go(func() { s.Run(ctx, in, out) })
	batches := make([]*record.Batch, len(pods))
	for i, o := range pods {
		p := o.(*v1.Pod)
		path := fmt.Sprintf(`C:\var\log\pods\%s_%s_%s\app\0.log`, p.Namespace, p.Name, p.UID)
		recs := make([]record.Record, batch)
		for j := range recs {
			recs[j].Path = path
		}
		batches[i] = record.NewBatch(recs, nil)
		in <- batches[i]
		if got := (<-out).Records[0].Attrs; len(got) < 10 {
			b.Fatalf("not a hit: %v", got)
		}
	}
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	n := 0
	for b.Loop() {
		bt := batches[n%len(batches)]
		for i := range bt.Records {
			bt.Records[i].Attrs = nil
		}
		in <- bt
		<-out
		n++
	}
	goruntime.ReadMemStats(&ms)
	recs := float64(n * batch)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recs, "ns/record")
	b.ReportMetric(float64(ms.Mallocs-mallocs)/recs, "allocs/record")
}
