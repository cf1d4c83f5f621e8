#!/bin/sh
# Install R, brms and rstan from Debian for benchmarks/brms_compare.py (make bench-brms-deps).
#
#   tools/install-brms.sh [--optional]
#
# Idempotent: does nothing when `library(brms)` already loads (beyond checking the BH link
# below). Needs apt-get and root (or sudo). With --optional (what `make bench-brms` passes), a
# machine where R cannot be installed is not an error: the script says why and exits 0, and
# brms_compare.py then says that brms was skipped.
#
# Known problem fixed here: Debian's r-cran-bh ships no include/ folder inside the BH R package
# (the Boost headers are in /usr/include, from libboost-dev), so rstan's model compilation fails
# with "Boost not found". A symbolic link <BH package folder>/include -> /usr/include fixes it.
set -u

OPTIONAL=0
[ "${1:-}" = "--optional" ] && OPTIONAL=1

fail() {
    if [ "$OPTIONAL" -eq 1 ]; then
        echo "install-brms: R/brms not installed: $*; continuing without them"
        exit 0
    fi
    echo "install-brms: $*" >&2
    exit 1
}

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

bh_link() {
    bh=$(Rscript -e 'cat(system.file(package = "BH"))' 2>/dev/null)
    [ -n "$bh" ] || fail "the BH R package is not installed"
    [ -e "$bh/include/boost" ] && return 0
    if [ -e "$bh/include" ] || [ -L "$bh/include" ]; then
        fail "$bh/include exists but holds no boost/ folder"
    fi
    [ -d /usr/include/boost ] || fail "no Boost headers in /usr/include (apt-get install libboost-dev)"
    echo "install-brms: linking $bh/include -> /usr/include (Debian's BH has no include/)"
    $SUDO ln -s /usr/include "$bh/include" || fail "could not create $bh/include"
}

if command -v Rscript >/dev/null 2>&1 \
        && Rscript -e 'suppressMessages(library(brms))' >/dev/null 2>&1; then
    echo "install-brms: R and brms already installed"
    bh_link
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (install R, brms and rstan by hand)"
if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    fail "apt-get needs root or sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update || fail "apt-get update failed"
# r-base-dev: the compiler tool chain rstan builds models with; libboost-dev: the Boost headers
# rstan compiles against (through the BH link)
$SUDO apt-get install -y --no-install-recommends r-base r-base-dev r-cran-brms r-cran-rstan \
    r-cran-bh r-cran-jsonlite libboost-dev || fail "apt-get install failed"
bh_link
Rscript -e 'suppressMessages(library(brms)); cat("install-brms: brms", format(packageVersion("brms")), "\n")' \
    || fail "brms does not load after installation"
