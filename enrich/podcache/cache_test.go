package podcache

import (
	"context"
	"reflect"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/sluicelog/sluice/enrich/podcache/podcachetest"
	"github.com/sluicelog/sluice/enrich/podmeta"
	"github.com/sluicelog/sluice/record"
)

func attrs(kv ...string) []record.Attr {
	var a []record.Attr
	for i := 0; i < len(kv); i += 2 {
		a = append(a, record.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return a
}

// simplePod is a bare pod with the given labels.
func simplePod(ns, name, uid string, labels map[string]string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Labels: labels},
		Spec:       v1.PodSpec{NodeName: testNode, Containers: []v1.Container{{Name: "main", Image: "busybox:1.37"}}},
	}
}

// TestFieldSelector checks that pods are listed and watched for this node
// only, by the API server, not filtered afterwards.
func TestFieldSelector(t *testing.T) {
	cs := fake.NewClientset()
	c := start(t, cs, Config{})
	c.ev.syncedOnce(t)
	c.watching(t, "pods")
	if _, err := cs.CoreV1().Pods("a").Create(context.Background(), simplePod("a", "p", "u", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.Cache, "a", "p", func(_ *podmeta.Pod, ok bool) bool { return ok })
	// The fake clientset records every call it was asked to make.
	seen := map[string]string{}
	for _, a := range cs.Actions() {
		if a.GetResource().Resource != "pods" {
			continue
		}
		switch a := a.(type) {
		case k8stesting.ListActionImpl:
			seen[a.GetVerb()] = a.GetListRestrictions().Fields.String()
		case k8stesting.WatchActionImpl:
			seen[a.GetVerb()] = a.GetWatchRestrictions().Fields.String()
		}
	}
	want := map[string]string{"list": "spec.nodeName=" + testNode, "watch": "spec.nodeName=" + testNode}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("restrictions %v, want %v", seen, want)
	}
}

// TestLookups follows a pod through add and updates: found by name and by
// uid, a change gives a new *Pod, an update to nothing sluice keeps gives
// the same one.
func TestLookups(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(simplePod("shop", "web", "u1", map[string]string{"app": "web"}))
	c := start(t, cs, Config{})
	c.ev.syncedOnce(t)
	c.watching(t, "pods")
	p1, ok := c.Pod("shop", "web")
	if !ok {
		t.Fatal("pod listed before the sync is not found")
	}
	if byUID, ok := c.PodByUID("u1"); !ok || byUID != p1 {
		t.Fatalf("by uid: %v %v, want the same *Pod as by name", byUID, ok)
	}
	if _, ok := c.Pod("shop", "nope"); ok {
		t.Fatal("found a pod that does not exist")
	}
	if synced, err, _ := c.Status(); !synced || err != nil {
		t.Fatalf("Status = %v, %v after sync", synced, err)
	}

	// A condition flips: nothing sluice keeps changes.
	pod := simplePod("shop", "web", "u1", map[string]string{"app": "web"})
	pod.Status.Conditions = []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionFalse}}
	pod.ResourceVersion = "" // the fake tracker sets its own
	if _, err := cs.CoreV1().Pods("shop").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Then a label changes, which is seen; the unchanged update came first,
	// so once the label shows, the first update has been handled too.
	pod.Labels["version"] = "2"
	if _, err := cs.CoreV1().Pods("shop").Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var p2 *podmeta.Pod
	waitPod(t, c.Cache, "shop", "web", func(p *podmeta.Pod, ok bool) bool { p2 = p; return ok && p != p1 })
	want := attrs("node", testNode, "label.app", "web", "label.version", "2")
	if !reflect.DeepEqual(p2.Attrs, want) {
		t.Fatalf("attrs after update %v, want %v", p2.Attrs, want)
	}
	if !reflect.DeepEqual(p1.Attrs, attrs("node", testNode, "label.app", "web")) {
		t.Fatalf("the earlier *Pod changed: %v", p1.Attrs)
	}
}

// TestUnchangedUpdateKeepsPointer checks the transform directly: a status
// update that changes nothing sluice keeps hands back the stored *Pod.
func TestUnchangedUpdateKeepsPointer(t *testing.T) {
	c := NewForClient(podcachetest.New(fake.NewClientset()), Config{Node: testNode})
	pod := realisticPod(1, testNode)
	o1, _ := c.transformPod(decoded(t, pod))
	c.onPod(o1)
	pod.Status.Conditions[1].Status = v1.ConditionFalse
	pod.ResourceVersion = "99999"
	o2, _ := c.transformPod(decoded(t, pod))
	if o2.(*podObject).pod != o1.(*podObject).pod {
		t.Fatal("an update to a condition gave a new *Pod")
	}
	pod.Status.PodIP = "10.9.9.9"
	o3, _ := c.transformPod(decoded(t, pod))
	if o3.(*podObject).pod == o1.(*podObject).pod {
		t.Fatal("a new pod IP kept the old *Pod")
	}
	if again, _ := c.transformPod(o3); again != o3 {
		t.Fatal("the transform is not idempotent")
	}
}

// TestDeleteGracePurge checks that a deleted pod is still found within the
// grace period, that a new pod of the same name takes over the name while
// the old one stays by uid, and that the janitor purges it after.
func TestDeleteGracePurge(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(simplePod("db", "pg-0", "old", nil))
	c := start(t, cs, Config{Grace: time.Minute})
	c.ev.syncedOnce(t)
	c.watching(t, "pods")
	old, _ := c.Pod("db", "pg-0")
	if err := cs.CoreV1().Pods("db").Delete(ctx, "pg-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitDeleted(t, c, "old")
	if p, ok := c.Pod("db", "pg-0"); !ok || p != old {
		t.Fatal("a pod deleted within its grace period is not found by name")
	}
	if _, err := cs.CoreV1().Pods("db").Create(ctx, simplePod("db", "pg-0", "new", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.Cache, "db", "pg-0", func(p *podmeta.Pod, ok bool) bool { return ok && p.UID == "new" })
	if p, ok := c.PodByUID("old"); !ok || p != old {
		t.Fatal("the deleted pod is gone by uid within its grace period")
	}

	c.clock.add(59 * time.Second)
	c.tick <- time.Time{}
	c.tick <- time.Time{} // the first purge is done once the janitor takes a second tick
	if _, ok := c.PodByUID("old"); !ok {
		t.Fatal("purged before the grace period ended")
	}
	c.clock.add(time.Second)
	c.tick <- time.Time{}
	waitCache(t, c.Cache, "purge", func() bool { _, ok := c.PodByUID("old"); return !ok })
	if p, ok := c.Pod("db", "pg-0"); !ok || p.UID != "new" {
		t.Fatal("purging the old pod took the new one's name")
	}
}

// waitDeleted waits until the cache has handled uid's deletion.
func waitDeleted(t *testing.T, c *started, uid string) {
	t.Helper()
	waitCache(t, c.Cache, "deletion of "+uid, func() bool {
		c.store.mu.RLock()
		defer c.store.mu.RUnlock()
		e, ok := c.store.byUID[uid]
		return ok && !e.deleted.IsZero()
	})
}

// TestNamespaceLabels checks that namespace labels are added when asked
// and follow changes to the namespace.
func TestNamespaceLabels(t *testing.T) {
	ctx := context.Background()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "payments"}}}
	cs := fake.NewClientset(ns, simplePod("shop", "web", "u1", map[string]string{"app": "web"}))
	c := start(t, cs, Config{NamespaceLabels: true})
	c.ev.syncedOnce(t)
	c.watching(t, "namespaces")
	p, _ := c.Pod("shop", "web")
	want := attrs("node", testNode, "label.app", "web", "namespace_label.team", "payments")
	if !reflect.DeepEqual(p.Attrs, want) {
		t.Fatalf("attrs %v, want %v", p.Attrs, want)
	}
	ns.Labels["tier"] = "gold"
	if _, err := cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, c.Cache, "shop", "web", func(q *podmeta.Pod, _ bool) bool { return len(q.Attrs) == len(want)+1 })
	q, _ := c.PodByUID("u1")
	want = append(want, record.Attr{Key: "namespace_label.tier", Value: "gold"})
	if !reflect.DeepEqual(q.Attrs, want) {
		t.Fatalf("attrs after the namespace changed %v, want %v", q.Attrs, want)
	}
}
