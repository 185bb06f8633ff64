#!/usr/bin/env bash
# install-kube-apiserver.sh builds the pinned etcd and kube-apiserver, the
# control plane that the pod-metadata informer tests (internal/kubetest) run
# against, into $SLUICE_TEST_TOOLS/kube-1.37.2 (default
# ~/.cache/sluice-test-tools/kube-1.37.2) unless both are there already, and
# prints that folder's path on standard output. The files are named etcd and
# kube-apiserver, as envtest expects in KUBEBUILDER_ASSETS.
# It needs Go and the Go module proxy, nothing else: no root, no packages.
# scripts/install-test-tools.sh calls it too.
#
# Neither can be installed with `go install pkg@version`: both main modules
# carry replace directives, which go install refuses. So each is built from
# a throw-away wrapper module in a temporary folder that requires the pinned
# module and, for Kubernetes, replaces every k8s.io staging module with its
# published v0.X.Y release. On a cold Go cache the kube-apiserver build takes
# about 12 minutes on 2 cores and up to 2.4 GB of memory; etcd about one.
set -euo pipefail

TOOLS="${SLUICE_TEST_TOOLS:-${HOME:-/root}/.cache/sluice-test-tools}"

# Keep in step with internal/kubetest (KubeVersion, EtcdVersion, assetsSubdir).
KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
ASSETS="$TOOLS/kube-${KUBE_VERSION#v}"

KUBE_MODULE=k8s.io/kubernetes
KUBE_PKG=k8s.io/kubernetes/cmd/kube-apiserver
ETCD_MODULE=go.etcd.io/etcd/server/v3
# Staging modules that Kubernetes' go.mod replaces but that have no
# published releases on the module proxy; kube-apiserver needs neither.
UNPUBLISHED_STAGING=(k8s.io/sample-cli-plugin k8s.io/sample-controller)

log() { printf 'install-kube-apiserver: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "go not on PATH: cannot build kube-apiserver and etcd"

# dep_version prints the version of module $2 recorded in binary $1. That
# record is the version marker: a half-written file has none, and a binary
# built from another version records that one. Built from a wrapper module,
# the module holding the main package is on the "mod" line, not a "dep".
dep_version() {
	go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }'
}

installed() {
	[ -x "$ASSETS/etcd" ] && [ -x "$ASSETS/kube-apiserver" ] &&
		[ "$(dep_version "$ASSETS/etcd" "$ETCD_MODULE")" = "$ETCD_VERSION" ] &&
		[ "$(dep_version "$ASSETS/kube-apiserver" "$KUBE_MODULE")" = "$KUBE_VERSION" ]
}

if installed; then
	printf '%s\n' "$ASSETS"
	exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The build log outlives the run, so that a failure can be read in full.
buildlog="$TOOLS/kube-${KUBE_VERSION#v}-build.log"
mkdir -p "$TOOLS"
: >"$buildlog"

# gobuild runs the go command at low priority from the wrapper folder $1,
# with the caller's GOFLAGS cleared and no toolchain switch, writing all its
# output to the build log.
gobuild() {
	local dir=$1
	shift
	(cd "$dir" && GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 nice -n 10 go "$@") >>"$buildlog" 2>&1
}

# fail shows the end of the build log: module downloads and compiler output.
fail() {
	log "build log (last 60 lines of $buildlog):"
	tail -n 60 "$buildlog" >&2 || true
	die "$*"
}

build_etcd() {
	local dir="$work/etcd"
	mkdir -p "$dir"
	printf 'module sluice.local/build-etcd\n\ngo 1.26.0\n' >"$dir/go.mod"
	gobuild "$dir" get "$ETCD_MODULE@$ETCD_VERSION" || fail "cannot resolve $ETCD_MODULE@$ETCD_VERSION"
	# server/v3's own replace directives point its siblings at ../api and
	# so on; here they do not apply, so check that each sibling resolves to
	# the same release and require that one if not.
	local m v
	for m in go.etcd.io/etcd/api/v3 go.etcd.io/etcd/client/pkg/v3 go.etcd.io/etcd/client/v3 go.etcd.io/etcd/pkg/v3; do
		v="$(cd "$dir" && GOFLAGS= GOTOOLCHAIN=local go list -m -f '{{.Version}}' "$m" 2>>"$buildlog")" || v=""
		if [ "$v" != "$ETCD_VERSION" ]; then
			echo "pinning $m $v -> $ETCD_VERSION" >>"$buildlog"
			gobuild "$dir" get "$m@$ETCD_VERSION" || fail "cannot pin $m@$ETCD_VERSION"
		fi
	done
	gobuild "$dir" build -trimpath -ldflags "-s -w" -o "$work/etcd.bin" "$ETCD_MODULE" ||
		fail "cannot build $ETCD_MODULE@$ETCD_VERSION"
}

build_kube_apiserver() {
	local dir="$work/kube" gomod staging major minor patch ldflags m skip u
	mkdir -p "$dir"
	gomod="$(cd "$dir" && GOFLAGS= GOTOOLCHAIN=local go mod download -json "$KUBE_MODULE@$KUBE_VERSION" 2>>"$buildlog" |
		awk -F'"' '$2 == "GoMod" { print $4; exit }')" || true
	[ -n "$gomod" ] && [ -f "$gomod" ] || fail "cannot download $KUBE_MODULE@$KUBE_VERSION"
	major="$(cut -d. -f1 <<<"${KUBE_VERSION#v}")"
	minor="$(cut -d. -f2 <<<"$KUBE_VERSION")"
	patch="$(cut -d. -f3 <<<"$KUBE_VERSION")"
	staging="v0.$minor.$patch"
	{
		printf 'module sluice.local/build-kube-apiserver\n\n'
		grep -E '^(go|godebug) ' "$gomod"
		printf '\nrequire %s %s\n\nreplace (\n' "$KUBE_MODULE" "$KUBE_VERSION"
		# Every "k8s.io/x => ./staging/src/k8s.io/x" becomes "=> k8s.io/x v0.X.Y".
		sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$gomod" | while read -r m; do
			skip=
			for u in "${UNPUBLISHED_STAGING[@]}"; do [ "$m" = "$u" ] && skip=1; done
			[ -n "$skip" ] || printf '\t%s => %s %s\n' "$m" "$m" "$staging"
		done
		printf ')\n'
	} >"$dir/go.mod"
	grep -q "=> k8s.io/api $staging" "$dir/go.mod" || fail "found no staging replace directives in $gomod"
	cat "$dir/go.mod" >>"$buildlog"
	gobuild "$dir" get "$KUBE_PKG@$KUBE_VERSION" || fail "cannot resolve $KUBE_PKG@$KUBE_VERSION"
	# The version stamps a release build sets (hack/lib/version.sh), so that
	# --version and GET /version report the release rather than v0.0.0.
	ldflags="-s -w"
	for m in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
		ldflags+=" -X $m.gitVersion=$KUBE_VERSION -X $m.gitMajor=$major"
		ldflags+=" -X $m.gitMinor=$minor -X $m.gitTreeState=clean"
	done
	gobuild "$dir" build -trimpath -ldflags "$ldflags" -o "$work/kube-apiserver.bin" "$KUBE_PKG" ||
		fail "cannot build $KUBE_PKG@$KUBE_VERSION"
}

log "building etcd $ETCD_VERSION and kube-apiserver $KUBE_VERSION into $ASSETS (10 to 12 minutes and 2.4 GB of memory on a cold Go cache, seconds on a warm one; log in $buildlog)"
start=$SECONDS
build_etcd
log "built etcd $ETCD_VERSION in $((SECONDS - start)) s"
build_kube_apiserver
log "built kube-apiserver $KUBE_VERSION in $((SECONDS - start)) s in all"
"$work/kube-apiserver.bin" --version >>"$buildlog" 2>&1 || fail "the built kube-apiserver does not run"
"$work/etcd.bin" --version >>"$buildlog" 2>&1 || fail "the built etcd does not run"
mkdir -p "$ASSETS"
# Moved in only once both are built, so an interrupted run leaves no
# binary that passes the version check by accident.
mv -f "$work/etcd.bin" "$ASSETS/etcd"
mv -f "$work/kube-apiserver.bin" "$ASSETS/kube-apiserver"
installed || die "$ASSETS does not hold etcd $ETCD_VERSION and kube-apiserver $KUBE_VERSION after the build"
log "installed $ASSETS/etcd and $ASSETS/kube-apiserver"
printf '%s\n' "$ASSETS"
