// Package kubetest runs a real Kubernetes control plane, etcd and
// kube-apiserver on 127.0.0.1, for the tests of sluice's pod-metadata
// informer, so that list, watch, RBAC refusals and an API server that goes
// away mid-run are what a real API server does rather than what a fake
// clientset imitates. It is test support: only _test.go files import it.
//
// Start takes both binaries from $KUBEBUILDER_ASSETS, else from
// kube-1.37.2 in $SLUICE_TEST_TOOLS or ~/.cache/sluice-test-tools, where
// scripts/install-kube-apiserver.sh (called by install-test-tools.sh) builds
// them, and runs them through controller-runtime's envtest with a folder of
// the test's own. Nothing is ever downloaded. Without the binaries the test
// is skipped, or fails under CI=true. On Windows it always skips: the
// Windows test binaries run under Wine, which cannot start the Linux
// binaries. When the test fails, the end of both servers' output is logged.
//
// What envtest v0.25.2 with kube-apiserver v1.37.2 and etcd v3.6.16 was seen
// to do, and what this package relies on:
//
//   - Authorization: envtest passes --authorization-mode=RBAC by default;
//     Start sets it explicitly all the same. Users are authenticated by
//     client certificates that envtest's own CA signs; the admin user is in
//     system:masters, and a user made by AddUser has no permissions until a
//     binding grants some (a list is then a 403, apierrors.IsForbidden).
//   - --endpoint-reconciler-type=none is set, so the API server does not
//     maintain the "kubernetes" Service's endpoints: a kube-apiserver that
//     advertises 127.0.0.1 needs it. Under envtest, which passes no
//     --advertise-address, the default (lease) was seen to work as well.
//   - Start takes about 3 s (etcd, kube-apiserver, /readyz); GET /version
//     reports v1.37.2, which the install script stamps into the binary.
//   - The ServiceAccount admission plugin is disabled, so pods need no
//     service account; with no scheduler or kubelet, a pod created with
//     spec.nodeName set stays Pending and is never started. Deleted with
//     the default grace period it only gets a deletionTimestamp and stays
//     (Terminating, waiting for a kubelet that never comes); DeletePod uses
//     a grace period of 0, which removes it at once.
//   - Pod Security admission is on, as in kube-apiserver's default set of
//     admission plugins (envtest only turns ServiceAccount off): a namespace
//     labelled pod-security.kubernetes.io/enforce=<level> refuses a pod
//     above that level, and a workload object (a DaemonSet) is accepted
//     with a warning. deploy's chart tests rely on both.
//   - Restart: envtest's APIServer.Stop and Start run the binary again on
//     the same port (about 1 s to stop, 2.5 s to be ready again; the stop
//     is that quick with watches open only because the API server runs with
//     --shutdown-watch-termination-grace-period=5s, else it waits up to 60 s
//     for them and envtest gives up after 30 s). Start
//     gives it a certificate folder of the test's own, so the serving
//     certificate and the client CA survive the restart and every
//     rest.Config and kubeconfig made before it keeps working. With the
//     temporary folder envtest makes by default, Stop removes the folder and
//     Start makes new serving certificates, and old configs then fail with
//     "x509: certificate signed by unknown authority". etcd keeps running
//     meanwhile, so every object is still there afterwards. While the API
//     server is stopped, requests fail with "connection refused".
//   - Start is not safe for tests running in parallel: envtest sets
//     controller-runtime's global logger, a data race between two Starts.
//   - envtest starts both processes in a process group of their own,
//     stops them with SIGTERM to that group, and sets no parent-death
//     signal: if the test binary is killed (a -timeout panic), they outlive
//     it and must be stopped by hand.
//   - envtest v0.25.2 does not compile for Windows (its internal process
//     package declares signalProcess twice), so on Windows this package
//     holds no envtest code at all and Start skips.
package kubetest
