package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/enrich/podcache"
	"github.com/sluicelog/sluice/enrich/podcache/podcachetest"
	"github.com/sluicelog/sluice/record"
)

const node = "aks-nodepool1-000001"

// enrichScale fills a pod cache with pods, then runs the Stage over paths
// files of them (two containers per pod) in turn, as a node's tailer would
// hand them over.
func enrichScale(pods, paths, batch int) error {
	list := &v1.PodList{Items: make([]v1.Pod, pods)}
	for i := range list.Items {
		list.Items[i] = benchPod(i)
	}
	raw, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode the pod list: %w", err)
	}
	list = nil
	cs := fake.NewClientset()
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, k8sruntime.Object, error) {
		var l v1.PodList
		err := json.Unmarshal(raw, &l) // as a client decodes the API server's answer: no string shared
		return true, &l, err
	})

	heap0 := liveHeap()
	cache := podcache.NewForClient(podcachetest.New(cs), podcache.Config{Node: node})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cacheDone := make(chan struct{})
	go func() { defer close(cacheDone); cache.Run(ctx) }()
	defer func() { cancel(); <-cacheDone }()
	start := time.Now()
	for synced, _, _ := cache.Status(); !synced; synced, _, _ = cache.Status() {
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("the pod cache did not sync in 5 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
	heap1 := liveHeap()
	fmt.Printf("enrich: %d pods cached in %v; %.0f B of heap per pod (JSON list of %d B per pod, kept apart)\n",
		pods, time.Since(start).Round(time.Millisecond), float64(heap1-heap0)/float64(pods), len(raw)/pods)
	runtime.KeepAlive(raw)

	batches := make([]*record.Batch, paths)
	for i := range batches {
		p := i / 2 % pods
		path := fmt.Sprintf("/var/log/pods/team-%d_checkout-7d9f8c6b5-%05x_7f5b3c1e-2d4a-4b6c-8e9f-%012x/%s/0.log",
			p%5, p, p, []string{"app", "istio-proxy"}[i%2])
		recs := make([]record.Record, batch)
		for j := range recs {
			recs[j] = record.Record{Path: path, Body: []byte("level=info msg=\"request served\"")}
		}
		batches[i] = record.NewBatch(recs, nil)
	}
	s := enrich.NewStage(enrich.StageConfig{Node: node, Pods: cache})
	in, out := make(chan *record.Batch, 16), make(chan *record.Batch, 16)
	stageDone := make(chan struct{})
	go func() { defer close(stageDone); s.Run(ctx, in, out) }()
	defer func() { cancel(); <-stageDone }()
	pass := func() (misses int) {
		go func() {
			for _, b := range batches {
				for i := range b.Records {
					b.Records[i].Attrs = nil
				}
				in <- b
			}
		}()
		for range batches {
			if b := <-out; len(b.Records[0].Attrs) < 10 {
				misses++
			}
		}
		return misses
	}
	heap2 := liveHeap()
	if m := pass(); m > 0 {
		return fmt.Errorf("%d of %d paths not enriched from the cache", m, paths)
	}
	heap3 := liveHeap()
	fmt.Printf("enrich: %d paths known to the Stage: %.0f B of heap per path\n", paths, float64(heap3-heap2)/float64(paths))

	const passes = 20
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	start = time.Now()
	for range passes {
		pass()
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&ms)
	n := float64(passes * paths)
	fmt.Printf("enrich: %d paths in turn, batches of %d: %.0f ns per batch, %.1f ns per record, %.2f allocs per batch\n",
		paths, batch, float64(elapsed.Nanoseconds())/n, float64(elapsed.Nanoseconds())/n/float64(batch), float64(ms.Mallocs-mallocs)/n)
	return nil
}

func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// benchPod is a Deployment's pod with an application container and a
// sidecar, labels, annotations and managed fields, as the API server
// returns it.
func benchPod(i int) v1.Pod {
	name := fmt.Sprintf("checkout-7d9f8c6b5-%05x", i)
	started := metav1.NewTime(time.Unix(1_790_000_000+int64(i), 0))
	fields := `{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}}`
	ctr := func(n, image string) (v1.Container, v1.ContainerStatus) {
		return v1.Container{Name: n, Image: image, Env: []v1.EnvVar{{Name: "MODE", Value: "production"}}},
			v1.ContainerStatus{Name: n, Ready: true, Image: image, ImageID: image + "@sha256:" + fmt.Sprintf("%064x", i),
				ContainerID: fmt.Sprintf("containerd://%064x", i*2+len(n)),
				State:       v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: started}}}
	}
	app, appSt := ctr("app", "registry.example.com/shop/checkout:1.4.2")
	side, sideSt := ctr("istio-proxy", "docker.io/istio/proxyv2:1.24.1")
	return v1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: fmt.Sprintf("team-%d", i%5), UID: types.UID(fmt.Sprintf("7f5b3c1e-2d4a-4b6c-8e9f-%012x", i)),
			ResourceVersion: fmt.Sprint(1000 + i), CreationTimestamp: started,
			Labels: map[string]string{"app": "checkout", "app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop",
				"app.kubernetes.io/version": "1.4.2", "pod-template-hash": "7d9f8c6b5", "security.istio.io/tlsMode": "istio"},
			Annotations:     map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "checkout-7d9f8c6b5", UID: "rs-uid"}},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: "Update", APIVersion: "v1",
				Time: &started, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}},
		},
		Spec: v1.PodSpec{NodeName: node, Containers: []v1.Container{app, side}},
		Status: v1.PodStatus{Phase: v1.PodRunning, PodIP: fmt.Sprintf("10.244.%d.%d", i/250, i%250+2), StartTime: &started,
			ContainerStatuses: []v1.ContainerStatus{appSt, sideSt}},
	}
}
