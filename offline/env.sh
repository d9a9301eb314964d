# Builds PushSeal with no registry: source this file with a vendor folder, and
# every cargo, Maven and pip command after it in the same shell resolves its
# dependencies from that folder only.
#
#   source offline/env.sh VENDOR_DIR
#
# VENDOR_DIR is what offline/vendor.sh made on a connected machine (or the
# same layout from elsewhere): crates.tar.gz or crates/ (cargo vendor output),
# maven-repo.tar.gz or repository/ (a Maven local repository), and optionally
# wheels/ (Python wheels; without it pip uses its usual index). VENDOR_DIR is
# only read: archives are unpacked into PUSHSEAL_OFFLINE_DIR (default: a new
# temporary folder), which also holds the Maven repository that builds write to.
#
# Exports:
#   CARGO_HOME      a cargo home whose config.toml replaces crates-io with the
#                   vendored crates and sets net.offline (both lockfiles: the
#                   workspace's and sdk-core/fuzz's)
#   MVN_FLAGS       "-B -ntp -o -Dmaven.repo.local=…" (.ci/run and bindings/test.sh
#                   pass it to every mvn)
#   PIP_NO_INDEX, PIP_FIND_LINKS   only when VENDOR_DIR has wheels/
#   GOMODCACHE, GOPROXY=off, GOFLAGS   only when VENDOR_DIR has go-modules.tar.gz or gomod/
#   PUSHSEAL_OFFLINE=VENDOR_DIR    so scripts can say which path they took

pushseal_offline_setup() {
  local vendor="${1:?usage: source offline/env.sh VENDOR_DIR}"
  vendor="$(cd "$vendor" && pwd)" || return 1
  local work="${PUSHSEAL_OFFLINE_DIR:-}"
  if [ -z "$work" ]; then work="$(mktemp -d "${TMPDIR:-/tmp}/pushseal-offline.XXXXXX")" || return 1; fi
  mkdir -p "$work" || return 1

  local crates="$vendor/crates"
  if [ ! -d "$crates" ]; then
    if [ ! -f "$vendor/crates.tar.gz" ]; then
      echo "offline: $vendor has neither crates/ nor crates.tar.gz (make it with offline/vendor.sh)" >&2
      return 1
    fi
    crates="$work/crates"
    [ -d "$crates" ] || tar xzf "$vendor/crates.tar.gz" -C "$work" || return 1
  fi
  mkdir -p "$work/cargo-home"
  cat >"$work/cargo-home/config.toml" <<TOML
# Written by offline/env.sh: every crate comes from $crates.
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "$crates"

[net]
offline = true
TOML
  export CARGO_HOME="$work/cargo-home"

  # Maven writes into its local repository: a copy outside VENDOR_DIR.
  local repo="$work/repository"
  if [ ! -d "$repo" ]; then
    if [ -d "$vendor/repository" ]; then
      cp -R "$vendor/repository" "$repo" || return 1
    elif [ -f "$vendor/maven-repo.tar.gz" ]; then
      tar xzf "$vendor/maven-repo.tar.gz" -C "$work" || return 1
    else
      echo "offline: $vendor has neither repository/ nor maven-repo.tar.gz (make it with offline/vendor.sh)" >&2
      return 1
    fi
  fi
  export MVN_FLAGS="-B -ntp -Dstyle.color=never -o -Dmaven.repo.local=$repo"

  if [ -d "$vendor/wheels" ]; then
    export PIP_NO_INDEX=1 PIP_FIND_LINKS="$vendor/wheels"
  fi
  local gomod="$vendor/gomod"
  if [ ! -d "$gomod" ] && [ -f "$vendor/go-modules.tar.gz" ]; then
    gomod="$work/gomod"
    [ -d "$gomod" ] || tar xzf "$vendor/go-modules.tar.gz" -C "$work" || return 1
  fi
  if [ -d "$gomod" ]; then
    export GOMODCACHE="$gomod" GOPROXY=off GOFLAGS=-mod=mod
  fi
  export PUSHSEAL_OFFLINE="$vendor"
}

pushseal_offline_setup "$@"
