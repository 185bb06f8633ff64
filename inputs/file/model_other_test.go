//go:build !linux

package file

// kubeletModel is false: on Windows (and under Wine) a deleted file the
// tailer holds stays in its folder until it is closed (delete pending), so
// kubelet's pruning leaves names the model does not track, and kubelet's
// own next cleanup of them fails. The kubelet rotation sequences run on
// Linux; TestDeletedWhileBlocked (Linux) and the kubelet tests cover the tailer's
// side of it on every platform they can.
const kubeletModel = false

// tailerHolds cannot tell which files the process holds without /proc:
// sequences then prove that the tailer has a file by its lines only.
func tailerHolds(...string) (held, known bool) { return false, false }
