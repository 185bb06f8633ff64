package kubetest

// platformSkip skips on Windows, even under CI: the Windows test binaries
// run under Wine, which cannot start the Linux etcd and kube-apiserver (and
// envtest v0.25.2 does not even compile for Windows); the Linux run of the
// same tests covers the informer against them.
const platformSkip = "kube-apiserver-backed tests run in the Linux test run only: under Wine the Linux etcd and kube-apiserver cannot be started"
