# Sourced by the ensure-deps scripts: installs Debian packages with apt-get.
#
#   source scripts/apt-install.sh
#   apt_install NAME PACKAGE...
#
# NAME prefixes every message (e.g. "ensure-deps"). Runs as root, else
# through sudo; without apt-get, or neither root nor sudo, it names the
# packages to install by hand and fails. The package index is refreshed
# once, before the install.

apt_install() {
    local name="$1"
    shift
    echo "$name: installing $*"
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "$name: apt-get not found; install these yourself: $*" >&2
        return 1
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "$name: not root and no sudo; install these yourself: $*" >&2
            return 1
        fi
    fi
    # Through env, so that sudo (which resets the environment) passes it on.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
    echo "$name: done"
}
