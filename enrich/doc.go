// Package enrich adds pod metadata to records on their way from the inputs
// to the buffer.
//
// Stage is the pipeline stage: it runs between the tailer and the buffer,
// takes pod metadata from a pod cache (package podcache) and may hold a
// file's batches for a short while until that file's pod is known. Without
// a pod cache it adds what the file path says and never holds anything.
//
// Attributes: records of one path share one []record.Attr whose cap equals
// its len, so that enriching costs no allocation: a later stage may append to
// a record's Attrs (the append copies) but must never write to Attrs[i] in
// place. Enrichment only appends to Attrs; it never changes a record's body,
// path, offset or order, and never calls a batch's Ack: the buffer does,
// once the batch is durable, so a held batch holds back its file's
// checkpoint too.
//
// Where attributes come from: the pod cache, when it knows the pod (see
// podmeta.Pod.RecordAttrs for the list); otherwise the log file's path alone
// (namespace, pod, pod_uid or container_id depending on the layout,
// container; see package kubepath), plus node. A path that is not a kubelet
// log path gets node only, and is counted through Events.Miss. Attribute
// names are podmeta.Keys; the Stage and the pod cache must be given the same.
//
// Guarantees of the Stage: it never drops a batch and never reorders the
// batches of one file; it holds a file's batches at most Wait (plus one
// check interval, Wait/10 between 10ms and 1s) waiting for the pod, while
// other files' batches keep flowing. What is held is bounded per file and
// for the whole node (NodeMaxHeldBytes, 64 MiB by default): past a bound
// the oldest held batch goes out early with path-derived attributes, still
// ahead of its file's later batches. What the Stage knows of a path is
// forgotten a few minutes after its last batch, unless it holds some. Batches held when Run's context ends
// are neither forwarded nor acknowledged, so their lines are read again
// after a restart: delivery stays at least once.
//
// When the API server is down: pods the cache had before keep enriching in
// full (nothing expires them without word from the API server). A file
// whose pod the cache does not have (a pod started during the outage, or
// every pod when the API server has never answered since sluice started)
// is held once for Wait, then shipped with path-derived attributes, and not
// held again; once the cache has the pod, its later batches are enriched in
// full.
//
// Known limitations:
//   - Pods are looked up by uid when the path has one (pods layout), then
//     by namespace and name (the directory of a static pod carries its
//     config hash, not the mirror pod's uid; the containers layout has no
//     uid). So the files of a pod purged from the cache (deleted more than
//     the cache's grace period ago) and still being read when a new pod of
//     the same name exists (a StatefulSet's) get the new pod's metadata;
//     the container_id from a containers-layout path stays right.
//   - A file of a pod the API server does not know at all (a static pod
//     without a mirror pod) waits Wait once, each time sluice starts.
//   - A batch is held as a whole under its first record's path; the tailer's
//     batches hold one file, and a record of another path in the same batch
//     is enriched with what is known at once, without waiting.
//   - Held bytes are counted by record body; a held batch also keeps alive
//     the tailer's read slab its bodies point into.
package enrich
