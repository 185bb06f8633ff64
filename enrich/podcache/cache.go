package podcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/sluicelog/sluice/enrich"
	"github.com/sluicelog/sluice/enrich/podcache/coreapi"
	"github.com/sluicelog/sluice/enrich/podmeta"
)

// DefaultGrace is how long a deleted pod stays: kubelet keeps a deleted
// pod's log files for a while and the tailer may still be reading them.
const DefaultGrace = 5 * time.Minute

// Config is what a Cache needs from the daemon.
type Config struct {
	// Node is the node whose pods are watched (the field selector
	// spec.nodeName=Node); New requires it. NewForClient with an empty Node
	// watches every pod in the cluster, which only tests want.
	Node string
	// Kubeconfig is a kubeconfig file for New; empty means the in-cluster
	// config of the pod's service account.
	Kubeconfig string
	// Grace is how long a deleted pod is kept; 0 means DefaultGrace,
	// negative means it goes at once.
	Grace time.Duration
	// NamespaceLabels adds each pod's namespace's labels; it runs a second
	// informer, over all namespaces, which needs list and watch on them.
	NamespaceLabels bool
	// Annotations lists the annotation keys copied to records; none when
	// empty, because annotations are often large (last-applied
	// configuration) and rarely useful as fields.
	Annotations []string
	// Resync is the informers' resync period; 0, the default, never
	// resyncs: a resync re-reads the cache, never the API server.
	Resync time.Duration
	// Keys names the attributes; empty names take their defaults. Give the
	// enrich.Stage the same Keys.
	Keys   podmeta.Keys
	Logger *slog.Logger // nil discards logs; client-go's own logs go here too
	Events Events       // nil discards events
}

// Events receives what the daemon counts about the cache, so that this
// package picks no metrics library. Implementations must be safe for
// concurrent use and cheap: they are called from the informers' goroutines.
type Events interface {
	// WatchError reports one failed list or watch of pods or namespaces, by
	// reason (one of the Reason constants). The informer retries on its own
	// with backoff (up to about 30s apart).
	WatchError(reason string)
	// PodsCached reports how many pods the cache holds, deleted ones within
	// their grace period included, each time that may have changed.
	PodsCached(n int)
	// Synced reports, once, that the first full list of pods (and of
	// namespaces, when namespace labels are on) has been received and
	// handled.
	Synced()
}

// Cache holds the metadata of the pods on one node, from an informer that
// lists and watches only those pods, for enrichment to look up.
//
// Guarantees: lookups answer from memory and never wait for the API server,
// not even for the first sync: before it, and while the API server is
// unreachable, they answer from what is cached (nothing, at first). A pod
// stays for Grace after its deletion. A *podmeta.Pod handed out is never
// modified; a change to the pod gives a new one, and Changed is closed.
type Cache struct {
	log        *slog.Logger
	events     Events
	node       string
	grace      time.Duration
	build      *builder
	store      *store
	health     *health
	pods       cache.SharedIndexInformer
	namespaces cache.SharedIndexInformer // nil when namespace labels are off
	synced     []cache.ResourceEventHandlerRegistration
	firstSync  chan struct{} // closed at the first sync

	now  func() time.Time
	tick <-chan time.Time // the janitor's; nil: a ticker every grace/10
}

var _ enrich.PodSource = (*Cache)(nil)

// NewForClient returns a Cache that talks to the API server through cl;
// Run starts it. Tests pass a fake clientset (see package podcachetest);
// New builds a REST client.
func NewForClient(cl Client, c Config) *Cache {
	k := &Cache{
		log:       c.Logger,
		events:    c.Events,
		node:      c.Node,
		grace:     c.Grace,
		build:     newBuilder(c.Keys.WithDefaults(), c.Annotations),
		store:     newStore(),
		health:    newHealth(time.Now()),
		firstSync: make(chan struct{}),
		now:       time.Now,
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	if k.events == nil {
		k.events = nopEvents{}
	}
	if k.grace == 0 {
		k.grace = DefaultGrace
	}
	k.pods = k.newPodInformer(cl, c.Resync)
	if c.NamespaceLabels {
		k.namespaces = k.newNamespaceInformer(cl, c.Resync)
	}
	return k
}

// newPodInformer watches the pods on the node. The pod informer of package
// informers would do the same but gives no word of a list or watch that
// succeeded, which is what tells Status that the API server is back.
func (c *Cache) newPodInformer(cl Client, resync time.Duration) cache.SharedIndexInformer {
	var tweak func(*metav1.ListOptions)
	if c.node != "" {
		sel := fields.OneTermEqualSelector("spec.nodeName", c.node).String()
		tweak = func(o *metav1.ListOptions) { o.FieldSelector = sel }
	}
	return c.newInformer(listWatch(c, cl, podsResource, cl.ListPods, cl.WatchPods, tweak), &coreapi.Pod{}, podsResource, resync,
		c.transformPod, c.onPod, c.onPodDelete)
}

// newInformer is what the pod and namespace informers have in common: the
// transform, the error handler that feeds Status, the event handlers, and
// registration for the cache's sync.
func (c *Cache) newInformer(lw cache.ListerWatcher, obj runtime.Object, r resource, resync time.Duration,
	transform cache.TransformFunc, on, onDelete func(any),
) cache.SharedIndexInformer {
	inf := cache.NewSharedIndexInformerWithOptions(lw, obj,
		cache.SharedIndexInformerOptions{ResyncPeriod: resync, ObjectDescription: resourceName(r)})
	_ = inf.SetTransform(transform) // fails only once started
	_ = inf.SetWatchErrorHandlerWithContext(c.watchErrorHandler(r))
	reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    on,
		UpdateFunc: func(_, obj any) { on(obj) },
		DeleteFunc: onDelete,
	})
	c.synced = append(c.synced, reg)
	return inf
}

// listWatch lists and watches through list and watch, applying tweak to
// the options and telling the cache of each call the API server accepted.
func listWatch[L runtime.Object](c *Cache, cl Client, r resource,
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
	tweak func(*metav1.ListOptions),
) cache.ListerWatcher {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			if tweak != nil {
				tweak(&o)
			}
			l, err := list(ctx, o)
			if err != nil {
				c.reportSwallowed(ctx, r, err)
				return nil, err
			}
			c.succeeded(r)
			return l, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			if tweak != nil {
				tweak(&o)
			}
			w, err := watchFn(ctx, o)
			if err == nil {
				c.succeeded(r)
			} else {
				c.reportSwallowed(ctx, r, err)
			}
			return w, err
		},
	}
	// A fake clientset cannot stream lists; this lets the reflector know.
	return cache.ToListWatcherWithWatchListSemantics(lw, cl)
}

// reportSwallowed reports the failures that the reflector retries without
// calling its watch error handler: a refused connection (the API server is
// down) and 429. Without this, an API server that is down would show
// nowhere, neither in Status nor in metrics. It mirrors client-go's
// isWatchErrorRetriable (v0.37), which is private; other errors reach the
// handler through the reflector, so they are not reported twice.
func (c *Cache) reportSwallowed(ctx context.Context, r resource, err error) {
	if utilnet.IsConnectionRefused(err) || apierrors.IsTooManyRequests(err) {
		c.watchErrorHandler(r)(ctx, nil, err)
	}
}

// Run runs the informers and the janitor that purges deleted pods, and
// returns once ctx is done and all of them have stopped. Call it once.
// It does not wait for the first sync: see Status and Events.Synced.
func (c *Cache) Run(ctx context.Context) {
	// client-go logs through the context's logger, so its messages go to
	// the daemon's log, not to klog's global one.
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(c.log.Handler()))
	var wg sync.WaitGroup
	wg.Go(func() { c.pods.RunWithContext(ctx) })
	if c.namespaces != nil {
		wg.Go(func() { c.namespaces.RunWithContext(ctx) })
	}
	wg.Go(func() { c.awaitSync(ctx) })
	wg.Go(func() { c.janitor(ctx) })
	wg.Wait()
}

// Pod returns the pod called name in namespace: the newest one, if the name
// has been reused within the grace period.
func (c *Cache) Pod(namespace, name string) (*podmeta.Pod, bool) {
	return c.store.get(namespace, name)
}

// PodByUID returns the pod whose metadata.uid is uid.
func (c *Cache) PodByUID(uid string) (*podmeta.Pod, bool) { return c.store.getUID(uid) }

// Changed returns a channel closed at the next change of what lookups
// answer: a pod added, changed, deleted or purged, or namespace labels
// changed. Call it again for the change after that.
func (c *Cache) Changed() <-chan struct{} { return c.store.changes() }

// Status reports, for readiness: whether the first full lists have been
// received and handled; the last list or watch error, if the API server
// has not accepted one since; and since when this state has held (the
// first error of the current run of errors, else when the cache synced or
// recovered, else when it was made).
func (c *Cache) Status() (synced bool, lastErr error, since time.Time) {
	return c.health.status()
}

// FirstSync is closed once the first full lists have been received and
// handled, for a caller that would rather wait a moment than read before.
func (c *Cache) FirstSync() <-chan struct{} { return c.firstSync }

// awaitSync reports the first sync once every informer's initial list has
// been handled.
func (c *Cache) awaitSync(ctx context.Context) {
	for _, reg := range c.synced {
		select {
		case <-ctx.Done():
			return
		case <-reg.HasSyncedChecker().Done():
		}
	}
	c.health.setSynced(c.now())
	close(c.firstSync)
	n := c.store.len()
	c.log.Info("kubernetes: pod cache synced", "node", c.node, "pods", n)
	c.events.PodsCached(n)
	c.events.Synced()
}

func (c *Cache) onPod(obj any) {
	if o, ok := obj.(*podObject); ok {
		c.events.PodsCached(c.store.put(o.pod))
	}
}

func (c *Cache) onPodDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	o, ok := obj.(*podObject)
	if !ok {
		return
	}
	c.store.markDeleted(o.pod.UID, c.now())
	if c.grace < 0 {
		c.purge()
	}
}

// janitor purges deleted pods whose grace period is over.
func (c *Cache) janitor(ctx context.Context) {
	tick := c.tick
	if tick == nil {
		t := time.NewTicker(min(max(c.grace/10, time.Second), time.Minute))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			c.purge()
		}
	}
}

func (c *Cache) purge() {
	left, purged := c.store.purge(c.now().Add(-max(c.grace, 0)))
	if purged > 0 {
		c.events.PodsCached(left)
	}
}

type nopEvents struct{}

func (nopEvents) WatchError(string) {}
func (nopEvents) PodsCached(int)    {}
func (nopEvents) Synced()           {}
