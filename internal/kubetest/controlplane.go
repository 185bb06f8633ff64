//go:build !windows

package kubetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// controlPlane is envtest's etcd and kube-apiserver, set up so that
// nothing is downloaded and the API server can be restarted in place.
type controlPlane struct {
	env     *envtest.Environment
	apiLog  *os.File
	etcdLog *os.File
}

// newControlPlane prepares, without starting anything, a control plane
// that keeps its data, certificates and output in dir.
func newControlPlane(a assets, dir string) (*controlPlane, error) {
	certDir := filepath.Join(dir, "apiserver")
	dataDir := filepath.Join(dir, "etcd")
	for _, d := range []string{certDir, dataDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	apiLog, err := os.Create(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		return nil, err
	}
	etcdLog, err := os.Create(filepath.Join(dir, "etcd.log"))
	if err != nil {
		apiLog.Close()
		return nil, err
	}
	// envtest logs through controller-runtime's global logger, which
	// otherwise prints a warning and a stack trace after 30 s. The servers'
	// own output, which says more, goes to the files shown on failure.
	ctrllog.SetLogger(logr.Discard())

	api := &envtest.APIServer{
		// Ours, not a temporary one of envtest's: see "Restart" in the
		// package documentation.
		CertDir: certDir,
		Path:    a.apiServer,
		Out:     apiLog,
		Err:     apiLog,
	}
	// shutdown-watch-termination-grace-period ends open watches when the
	// API server is told to stop. Without it (the default, 0) its HTTP
	// shutdown waits for them up to its request timeout (60 s), so with an
	// informer connected StopAPIServer ran into envtest's stop timeout and
	// failed; with it, Stop takes about 1 s with watches open too.
	api.Configure().
		Set("authorization-mode", "RBAC").
		Set("endpoint-reconciler-type", "none").
		Set("shutdown-watch-termination-grace-period", "5s")
	etcd := &envtest.Etcd{
		DataDir: dataDir,
		Path:    a.etcd,
		Out:     etcdLog,
		Err:     etcdLog,
	}
	useExisting := false
	env := &envtest.Environment{
		ControlPlane: envtest.ControlPlane{APIServer: api, Etcd: etcd},
		// Both paths are set above, so this only documents where they are;
		// DownloadBinaryAssets false means envtest never downloads.
		BinaryAssetsDirectory:    a.dir,
		DownloadBinaryAssets:     false,
		UseExistingCluster:       &useExisting, // whatever $USE_EXISTING_CLUSTER says
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  stopTimeout,
	}
	return &controlPlane{env: env, apiLog: apiLog, etcdLog: etcdLog}, nil
}

// start runs etcd, then kube-apiserver, and returns the admin's config.
func (c *controlPlane) start() (*rest.Config, error) {
	cfg, err := c.env.Start()
	if err != nil {
		return nil, err
	}
	return rest.CopyConfig(cfg), nil
}

func (c *controlPlane) addUser(name string, groups []string) (*rest.Config, error) {
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, &rest.Config{})
	if err != nil {
		return nil, err
	}
	return rest.CopyConfig(u.Config()), nil
}

func (c *controlPlane) stopAPIServer() error {
	fmt.Fprintf(c.apiLog, "=== kubetest: stopping kube-apiserver at %s\n", time.Now().Format(time.RFC3339Nano))
	return c.env.ControlPlane.APIServer.Stop()
}

// startAPIServer runs kube-apiserver again: envtest keeps its port, and
// since its certificate folder is ours, the certificates too.
func (c *controlPlane) startAPIServer() error {
	fmt.Fprintf(c.apiLog, "=== kubetest: starting kube-apiserver again at %s\n", time.Now().Format(time.RFC3339Nano))
	return c.env.ControlPlane.APIServer.Start()
}

// stop ends both processes (stopping a stopped API server does nothing)
// and closes the output files.
func (c *controlPlane) stop() error {
	err := c.env.Stop()
	return errors.Join(err, c.apiLog.Close(), c.etcdLog.Close())
}

// logs are the files holding the processes' output.
func (c *controlPlane) logs() []string {
	return []string{c.apiLog.Name(), c.etcdLog.Name()}
}
