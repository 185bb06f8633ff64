// Package podcache keeps the metadata of the pods on one node, from a
// client-go informer that lists and watches only those pods
// (spec.nodeName=<node>), ready for package enrich to attach to records.
//
// What it holds: for each pod, one immutable *podmeta.Pod, built when the
// pod is added or changes in a way sluice sees (a status update that only
// moves a probe or a condition keeps the old one). The informer's
// TransformFunc turns every pod into that value before anything is stored:
// the informer's store and the cache's lookup maps (by namespace/name and
// by uid) share it, and no decoded pod is kept. What is kept: name,
// namespace, uid, node, pod IP, labels, the allowlisted annotations, the
// controller owner and the workload derived from it, and each container's
// name, image (from the spec) and id (from the status): about 1.4 KiB of
// heap per realistic pod, informer and lookup maps together
// (TestMemoryPerPod holds it under 2 KiB, BenchmarkMemoryPerPod reports
// it). With namespace labels on, a second informer keeps each namespace's
// labels.
//
// For how long: a pod stays until Grace (default 5 minutes) after the API
// server reported it deleted, so that the last lines of its files, read
// after it went, are still enriched; a janitor purges it then.
//
// Through what: New makes a REST client that asks for JSON and decodes it
// into package coreapi's pods and namespaces, which hold only the fields
// read here. Not client-go's Clientset, whose scheme registers every API
// group and would add some 17 MB to the daemon and about 8 MB to its
// resident pages, nor k8s.io/api/core/v1, whose generated code would add
// 1.7 MB and 3 MiB (cmd/sluice's TestNoClientsetPackages keeps both
// out). Tests run the cache on client-go's fake clientset through package
// podcachetest.
//
// When the API server is unreachable or refuses: lookups answer from what
// is cached (nothing, before the first list); the informer's reflector
// retries with backoff on its own; Status and Events.WatchError say what is
// wrong; a 401 or 403 is logged at ERROR once per distinct message, naming
// what to grant. Nothing here blocks the pipeline: sluice ships from the
// start and enriches fully once the cache has the pods.
//
// Known limitations:
//   - The workload of a Job is taken to be a CronJob from the Job's name
//     alone (see workload); the Deployment of a ReplicaSet is exact.
//   - A pod whose status names no container id yet (not started) enriches
//     with the container id from the log path only (the containers layout).
//   - Namespace labels need list and watch on all namespaces, cluster-wide:
//     a namespace cannot be selected by the pods on a node.
//   - Pods come as JSON, not protobuf, which only k8s.io/api's generated
//     code decodes: a list of 100 pods takes about twice the CPU to decode
//     (3.3 ms against 1.6 ms), with a third of the garbage (258 KB against
//     852 KB; coreapi's BenchmarkDecodePodList).
//   - client-go's global state is left alone: its logs go to Config.Logger
//     through the context, but code elsewhere that logs through klog's
//     global logger does not.
package podcache
