package kubetest

import (
	"errors"

	"k8s.io/client-go/rest"
)

// errWindows is what every method says; Start skips on Windows before it
// calls any of them.
var errWindows = errors.New("kubetest: no control plane on Windows")

// controlPlane is empty on Windows: envtest v0.25.2 does not compile for
// Windows (its internal process package declares signalProcess twice), and
// the Linux binaries could not run under Wine anyway.
type controlPlane struct{}

func newControlPlane(assets, string) (*controlPlane, error)          { return nil, errWindows }
func (*controlPlane) start() (*rest.Config, error)                   { return nil, errWindows }
func (*controlPlane) addUser(string, []string) (*rest.Config, error) { return nil, errWindows }
func (*controlPlane) stopAPIServer() error                           { return errWindows }
func (*controlPlane) startAPIServer() error                          { return errWindows }
func (*controlPlane) stop() error                                    { return errWindows }
func (*controlPlane) logs() []string                                 { return nil }
