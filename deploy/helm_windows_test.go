package deploy

// helmSkip skips the helm-backed tests on Windows, even under CI: the test
// tools' helm is a Linux binary that Wine cannot run, and the chart renders
// the same on any platform, so the Linux run covers it.
const helmSkip = "helm-backed tests run in the Linux test run only: under Wine the test tools' Linux helm cannot be run"
