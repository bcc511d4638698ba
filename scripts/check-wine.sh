#!/bin/sh
# check-wine.sh - the host-side integration tests, run from the Linux build
# against winapi-hostd.exe under Wine: the Linux test programs talk TCP to
# the Windows daemon, which maps the very files they made.
#
#   scripts/check-wine.sh [--compare] [--no-apt] [[--builddir] DIR] [TEST...]
#
# TESTs default to tests/Makefile.am's host tests (HOST_CHECKS and the host
# shell tests), the FUSE tests (which skip without /dev/fuse) and, against
# Wine only, test_win_service.sh (the installer and the Windows service, in
# a prefix of its own).  Steps:
#  1. installs wine64 and wine (--no-install-recommends; not with --no-apt);
#  2. builds winapi-hostd.exe and its installer (scripts/build-windows.sh);
#  3. builds the test programs in the Linux build: DIR, else the in-tree
#     build if there is one, else _build/linux;
#  4. makes one Wine prefix for the run, _build/wine/prefix.PID;
#  5. runs each test through tests/run-test.sh with WINAPI_TEST_HOSTD=wine
#     (test_win_service.sh directly: it makes its own prefix and needs no
#     test daemon), one at a time (every test points the prefix's C: at its
#     own directory), logs in _build/wine/results/wine/, the closing counts in
#     _build/wine/results/totals ("wine: N passed, N failed, N skipped");
#  6. stops every Wine process of the prefix and removes it, also when
#     interrupted.
# --compare first runs the same tests against the POSIX daemon and prints
# both hosts' counts side by side.  The tests run directly, not through
# `make check`, so the Linux build's own test logs are left alone.
# Exit status: 0 when every test passed (or skipped, but not with CI=true)
# against Wine.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/_build/wine
compare=no apt=yes builddir=
while [ $# -gt 0 ]; do
    case $1 in
    --compare) compare=yes ;;
    --no-apt) apt=no ;;
    --builddir) builddir=$(cd "$2" && pwd); shift ;;
    --builddir=*) builddir=$(cd "${1#*=}" && pwd) ;;
    -h | --help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-wine: unknown option $1" >&2; exit 2 ;;
    *)
        # A build directory (scripts/test.sh passes one), else the tests.
        [ -z "$builddir" ] && [ -f "$1/config.status" ] || break
        builddir=$(cd "$1" && pwd)
        ;;
    esac
    shift
done

say() { echo "check-wine: $*" >&2; }

# 1, 2: Wine and the .exe.
if [ $apt = yes ] && ! command -v wine >/dev/null; then
    say "installing wine64 and wine"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=60 update -qq
    apt-get -o DPkg::Lock::Timeout=60 -o Acquire::Retries=3 install -y -qq \
        --no-install-recommends wine64 wine >/dev/null
fi
command -v wine >/dev/null || { say "wine is not installed"; exit 1; }
if [ $apt = yes ]; then
    WINAPI_HOSTD_EXE=$("$top/scripts/build-windows.sh" | tail -n 1)
else
    WINAPI_HOSTD_EXE=$("$top/scripts/build-windows.sh" --no-apt | tail -n 1)
fi
export WINAPI_HOSTD_EXE
WINAPI_HOSTD_SETUP=$top/_build/win64/winapi-hostd-setup.exe
export WINAPI_HOSTD_SETUP

# 3: the Linux build and its test programs.
if [ -z "$builddir" ]; then
    if [ -f "$top/config.status" ]; then
        builddir=$top
    else
        builddir=$top/_build/linux
        [ -x "$top/configure" ] || (cd "$top" && autoreconf -fi)
        if [ ! -f "$builddir/config.status" ]; then
            say "configuring the Linux build in $builddir"
            mkdir -p "$builddir"
            (cd "$builddir" && "$top/configure" >configure.out 2>&1) ||
                { tail -n 30 "$builddir/configure.out" >&2; exit 1; }
        fi
    fi
fi
# Regenerated first if Makefile.am changed: make's remaking of a makefile
# read with -f - goes wrong.
make -s -C "$builddir/tests" Makefile >/dev/null
make_vars() {
    printf 'winapi-print:\n\t@echo $(%s)\n' "$1" |
        make -s --no-print-directory -C "$builddir/tests" -f Makefile -f - winapi-print
}
if [ $# -eq 0 ]; then
    host_tests=$(make_vars 'HOST_CHECKS) $(HOST_SCRIPTS) $(HOST_SHELL_TESTS')
    fuse_tests=$(make_vars 'FUSE_CHECKS) $(FUSE_SCRIPTS) $(FUSE_SHELL_TESTS')
    set -- $host_tests $fuse_tests test_win_service.sh
else
    fuse_tests=
fi
[ $# -gt 0 ] || { say "no tests to run"; exit 1; }
# Each once, in order: results are kept by test name.
set -- $(printf '%s\n' "$@" | awk '!seen[$0]++')
progs=
for t in "$@"; do
    case $t in *.sh | *.py) ;; *) progs="$progs $t" ;; esac
done
say "building the test programs in $builddir"
make -s -j1 -C "$builddir/protocol" >/dev/null
[ $compare = no ] || make -s -j1 -C "$builddir/hostd" >/dev/null
# test_client is what test_client.sh runs.
# shellcheck disable=SC2086
make -s -j1 -C "$builddir/tests" $progs test_client >/dev/null
if [ -n "$fuse_tests" ] && ! make -s -j1 -C "$builddir/fusefs" >/dev/null 2>&1; then
    say "fusefs does not build; leaving out the FUSE tests ($fuse_tests)"
    for f in $fuse_tests; do
        set -- $(printf '%s\n' "$@" | grep -vxF "$f")
    done
fi

# 4, 6: one prefix for the run, whatever happens.
. "$top/tests/wine-env.sh"
mkdir -p "$out"
prefix=$out/prefix.$$
cleanup() {
    wine_prefix_destroy "$prefix"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
say "making the Wine prefix $prefix"
wine_prefix_create "$prefix"

# 5: the tests.  Result lines "host test status checks failures" in $out/results/summary.
export top_builddir="$builddir" top_srcdir="$top" CK_DEFAULT_TIMEOUT=60
unset WINAPI_WINE_PREFIX WINAPI_TEST_HOSTD
run_tests() {
    host=$1
    shift
    rm -rf "${out:?}/results/$host"
    mkdir -p "$out/results/$host"
    for t in "$@"; do
        case $t in
        *.sh | *.py) path=$top/tests/$t ;;
        *) path=$builddir/tests/$t ;;
        esac
        log=$out/results/$host/$t.log
        start=$(date +%s)
        rc=0
        case $t in
        test_win_service.sh)
            # Windows only; it installs into a fresh prefix of its own.
            [ "$host" = wine ] || continue
            timeout 600 "$path" >"$log" 2>&1 </dev/null || rc=$?
            ;;
        *)
            WINAPI_TEST_HOSTD=$host timeout 1800 "$top/tests/run-test.sh" "$path" >"$log" 2>&1 \
                </dev/null || rc=$?
            ;;
        esac
        case $rc in
        0) status=PASS ;;
        77) status=SKIP ;;
        *) status=FAIL ;;
        esac
        # Check's own count, "95%: Checks: 21, Failures: 1, Errors: 0", as "21 1".
        counts=$(awk '/^[0-9]+%: Checks: / { gsub(",", ""); c = $3; b = $5 + $7 }
                      END { if (c != "") print c, b }' "$log")
        echo "$host $t $status ${counts:-- -}" >>"$out/results/summary"
        say "$host: $status: $t ($(($(date +%s) - start)) s${counts:+, Check cases run and failed: $counts})"
        if [ $status = FAIL ]; then
            sed 's/^/    /' "$log" | tail -n 40 >&2
        fi
    done
}
rm -f "$out/results/summary"
if [ $compare = yes ]; then
    run_tests posix "$@"
fi
WINAPI_WINE_PREFIX=$prefix
export WINAPI_WINE_PREFIX
run_tests wine "$@"

# The closing note: per test and per host, then the totals.
echo
printf '%-22s' test
[ $compare = yes ] && printf ' %-22s' "POSIX host"
printf ' %-22s\n' "Wine host (.exe)"
for t in "$@"; do
    printf '%-22s' "$t"
    for host in posix wine; do
        [ $host = posix ] && [ $compare = no ] && continue
        awk -v h=$host -v t="$t" '$1 == h && $2 == t {
            c = $4 == "-" ? "" : sprintf(" (%d/%d checks)", $4 - $5, $4)
            printf " %-22s", $3 c }' "$out/results/summary"
    done
    echo
done
echo
for host in posix wine; do
    [ $host = posix ] && [ $compare = no ] && continue
    awk -v h=$host '$1 == h && $4 != "-" { c += $4; f += $5 }
        END { printf "%s host: %d Check cases run, %d failed\n", h, c, f }' "$out/results/summary"
done
# The last lines, also in results/totals for a caller's summary.
for host in posix wine; do
    [ $host = posix ] && [ $compare = no ] && continue
    awk -v h=$host '$1 == h { n[$3]++ }
        END { printf "%s: %d passed, %d failed, %d skipped\n", h, n["PASS"], n["FAIL"], n["SKIP"] }' \
        "$out/results/summary"
done | tee "$out/results/totals"
if grep -q '^wine [^ ]* FAIL' "$out/results/summary"; then
    exit 1
fi
if [ "${CI:-}" = true ] && grep -q '^wine [^ ]* SKIP' "$out/results/summary"; then
    say "a test skipped; in CI every test must run"
    exit 1
fi
