package podcache

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"

	"github.com/sluicelog/sluice/enrich/podcache/coreapi"
)

// Client lists and watches what the cache keeps: the pods and namespaces
// of core/v1, as package coreapi has them. New makes one over a REST client; package podcachetest adapts
// a clientset, such as client-go's fake, for tests.
//
// A Client that cannot stream lists (a watch that sends the initial
// objects first) says so with a method IsWatchListSemanticsUnSupported
// returning true; client-go's reflector then lists and watches.
type Client interface {
	ListPods(ctx context.Context, o metav1.ListOptions) (*coreapi.PodList, error)
	WatchPods(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
	ListNamespaces(ctx context.Context, o metav1.ListOptions) (*coreapi.NamespaceList, error)
	WatchNamespaces(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
}

// coreScheme knows coreapi's pods and namespaces as core/v1's and the
// meta/v1 types their requests and responses carry (list options, watch
// events, Status), and nothing else: client-go's kubernetes/scheme
// registers every API group, and even k8s.io/api/core/v1 alone would link
// and load all of core's generated code, for two resources.
var coreScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(coreapi.AddToScheme(s))
	return s
}()

var (
	coreCodecs         = serializer.NewCodecFactory(coreScheme)
	coreParameterCodec = runtime.NewParameterCodec(coreScheme)
)

// coreClient is the Client New makes: what client-go's typed core/v1
// client does for the two resources, over a REST client with coreScheme.
type coreClient struct {
	rest rest.Interface
}

var _ Client = (*coreClient)(nil)

// newCoreClient configures rc the way client-go's typed core/v1 client
// does (API path, group version, codecs) and makes a REST client from it
// that asks for JSON, the one encoding coreapi's types decode from; rc's
// rate limits, user agent and auth apply as given.
func newCoreClient(rc *rest.Config) (*coreClient, error) {
	c := *rc
	c.APIPath = "/api"
	c.GroupVersion = &coreapi.SchemeGroupVersion
	c.ContentType = runtime.ContentTypeJSON
	c.AcceptContentTypes = runtime.ContentTypeJSON
	c.NegotiatedSerializer = rest.CodecFactoryForGeneratedClient(coreScheme, coreCodecs).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	r, err := rest.RESTClientFor(&c)
	if err != nil {
		return nil, err
	}
	return &coreClient{rest: r}, nil
}

// ListPods lists the pods of all namespaces.
func (c *coreClient) ListPods(ctx context.Context, o metav1.ListOptions) (*coreapi.PodList, error) {
	l := &coreapi.PodList{}
	return l, c.list(ctx, podsResource, o, l)
}

// WatchPods watches the pods of all namespaces.
func (c *coreClient) WatchPods(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return c.watch(ctx, podsResource, o)
}

// ListNamespaces lists the namespaces.
func (c *coreClient) ListNamespaces(ctx context.Context, o metav1.ListOptions) (*coreapi.NamespaceList, error) {
	l := &coreapi.NamespaceList{}
	return l, c.list(ctx, namespacesResource, o, l)
}

// WatchNamespaces watches the namespaces.
func (c *coreClient) WatchNamespaces(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return c.watch(ctx, namespacesResource, o)
}

func (c *coreClient) list(ctx context.Context, r resource, o metav1.ListOptions, into runtime.Object) error {
	return c.rest.Get().Resource(resourceName(r)).VersionedParams(&o, coreParameterCodec).
		Timeout(timeoutOf(o)).Do(ctx).Into(into)
}

func (c *coreClient) watch(ctx context.Context, r resource, o metav1.ListOptions) (watch.Interface, error) {
	o.Watch = true
	return c.rest.Get().Resource(resourceName(r)).VersionedParams(&o, coreParameterCodec).
		Timeout(timeoutOf(o)).Watch(ctx)
}

// timeoutOf bounds a request by the options' TimeoutSeconds, as the typed
// clients do: the reflector sets it on watches so that the server ends them
// and they restart.
func timeoutOf(o metav1.ListOptions) time.Duration {
	if o.TimeoutSeconds == nil {
		return 0
	}
	return time.Duration(*o.TimeoutSeconds) * time.Second
}
