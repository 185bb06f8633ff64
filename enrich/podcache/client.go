package podcache

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
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
	rc, err := restConfig(c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: make a client for %s: %w", rc.Host, err)
	}
	return NewForClient(cs, c), nil
}

func restConfig(kubeconfig string) (*rest.Config, error) {
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
		rc, err = inClusterConfig()
		if errors.Is(err, rest.ErrNotInCluster) {
			return nil, fmt.Errorf("kubernetes: no API server to talk to: sluice is not running in a pod "+
				"(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset) and no kubeconfig is set: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("kubernetes: read the in-cluster config (the pod's service account token and CA): %w", err)
		}
	}
	rc.UserAgent = "sluice"
	// Protobuf decodes pods several times faster than JSON, with less garbage.
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	rc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return rc, nil
}

// inClusterConfig is rest.InClusterConfig, falling back to the service
// account under $CONTAINER_SANDBOX_MOUNT_POINT: a Windows HostProcess
// container on containerd 1.6 finds its volumes there, not at their mount
// path, and client-go only looks at the mount path.
func inClusterConfig() (*rest.Config, error) {
	rc, err := rest.InClusterConfig()
	if err == nil || errors.Is(err, rest.ErrNotInCluster) {
		return rc, err
	}
	root := os.Getenv("CONTAINER_SANDBOX_MOUNT_POINT")
	if root == "" {
		return nil, err
	}
	dir := filepath.Join(root, "var", "run", "secrets", "kubernetes.io", "serviceaccount")
	token := filepath.Join(dir, "token")
	if _, statErr := os.Stat(token); statErr != nil {
		return nil, fmt.Errorf("%w (nor under CONTAINER_SANDBOX_MOUNT_POINT: %v)", err, statErr)
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	return &rest.Config{
		Host:            "https://" + net.JoinHostPort(host, port),
		TLSClientConfig: rest.TLSClientConfig{CAFile: filepath.Join(dir, "ca.crt")},
		BearerTokenFile: token, // client-go re-reads it, as projected tokens rotate
	}, nil
}
