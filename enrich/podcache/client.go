package podcache

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"

	"github.com/sluicelog/sluice/internal/hostpath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// New returns a Cache for c.Node that talks to the API server named by
// c.Kubeconfig, or by the pod's service account when it is empty. It fails
// when neither gives an API server to talk to; it does not contact the
// server (Run does, and retries).
func New(c Config) (*Cache, error) {
	if c.Node == "" {
		return nil, errors.New("kubernetes: the node name is empty: set it from the downward API (spec.nodeName, usually as NODE_NAME)")
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rc, err := restConfig(c.Kubeconfig, log)
	if err != nil {
		return nil, err
	}
	cl, err := newCoreClient(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: make a client for %s: %w", rc.Host, err)
	}
	return NewForClient(cl, c), nil
}

func restConfig(kubeconfig string, log *slog.Logger) (*rest.Config, error) {
	var (
		rc  *rest.Config
		err error
	)
	switch {
	case kubeconfig != "":
		rc, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: load kubeconfig %s: %w", kubeconfig, err)
		}
	default:
		rc, err = inClusterConfig(log)
		if errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("kubernetes: no API server to talk to: sluice is not running in a pod "+
				"(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset) and no kubeconfig is set: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("kubernetes: read the in-cluster config (the pod's service account token and CA): %w", err)
		}
	}
	rc.UserAgent = "sluice"
	return rc, nil
}

// serviceAccountDir is where a pod's service account volume is mounted.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// inClusterConfig is rest.InClusterConfig with the service account found
// through hostpath: a Windows HostProcess container on containerd 1.6 finds
// its volumes under $CONTAINER_SANDBOX_MOUNT_POINT, not at their mount path,
// and client-go only looks at the mount path.
func inClusterConfig(log *slog.Logger) (*rest.Config, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, rest.ErrNotInCluster
	}
	token := hostpath.Resolve(path.Join(serviceAccountDir, "token"), hostpath.Read)
	if _, err := os.ReadFile(token.Path); err != nil {
		return nil, err
	}
	ca := hostpath.Resolve(path.Join(serviceAccountDir, "ca.crt"), hostpath.Read)
	log.Info("kubernetes: using the pod's service account", "token", token.Path, "found", string(token.Where))
	return &rest.Config{
		Host:            "https://" + net.JoinHostPort(host, port),
		TLSClientConfig: rest.TLSClientConfig{CAFile: ca.Path},
		BearerTokenFile: token.Path, // client-go re-reads it, as projected tokens rotate
	}, nil
}
