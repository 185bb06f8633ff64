package podcache

import "strings"

// minCronDigits is the shortest suffix taken for a CronJob's schedule stamp.
// The CronJob controller names a Job "<cronjob>-<scheduled time in minutes
// since 1970>", which has had 8 digits since 1989 and will until 2160; more
// digits are accepted so the rule does not expire then.
const minCronDigits = 8

// workload names what a person deployed, from a pod's controller owner:
// the Deployment behind a ReplicaSet, the CronJob behind a Job, else the
// owner itself. Only the pod is at hand (sluice does not watch ReplicaSets
// or Jobs, which would cost RBAC grants and memory), so two names are
// derived:
//
//   - ReplicaSet "<deploy>-<hash>" with the pod's label pod-template-hash
//     equal to <hash> is Deployment "<deploy>". The label is what the
//     Deployment controller put into the name, so this is exact; a
//     ReplicaSet without that label or suffix (made by hand) stays itself.
//   - Job "<cronjob>-<digits>", with 8 or more digits after the last dash,
//     is CronJob "<cronjob>". This is a heuristic: a Job made by hand and
//     named like "backup-20260101" is taken for a CronJob "backup".
func workload(kind, name string, labels map[string]string) (string, string) {
	switch kind {
	case "ReplicaSet":
		if base, ok := trimDashSuffix(name, labels["pod-template-hash"]); ok {
			return "Deployment", base
		}
	case "Job":
		if i := strings.LastIndexByte(name, '-'); i > 0 && len(name)-i-1 >= minCronDigits && allDigits(name[i+1:]) {
			return "CronJob", name[:i]
		}
	}
	return kind, name
}

// trimDashSuffix returns name without "-"+suffix, if it ends so and
// something is left.
func trimDashSuffix(name, suffix string) (string, bool) {
	n := len(name) - len(suffix) - 1
	if suffix == "" || n <= 0 || name[n] != '-' || name[n+1:] != suffix {
		return "", false
	}
	return name[:n], true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
