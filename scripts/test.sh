#!/bin/sh
# test.sh - set up and run every test.  The README's second command, and
# what .ci/run calls.
#
# Passes, each in its own build directory under _build/:
#   default   -Werror build, `make check` (unit, daemon, client, FUSE tests;
#             the FUSE tests with kernel passthrough)
#   daemon-io the FUSE tests again with passthrough=off
#   sanitize  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   valgrind  the daemon under valgrind while the client tests drive it
#   windows   winapi-hostd.exe under Wine, driven by the same tests
#             (when scripts/check-wine.sh is present)
#   fuzz      the libFuzzer harnesses of tests/fuzz, 60 s each with ASan and
#             UBSan (scripts/fuzz.sh; FUZZ_SECONDS to change)
#   distcheck make distcheck: the release tarball builds, passes every
#             test and installs and uninstalls cleanly from a read-only copy
#   packages  the Debian packages built and checked with lintian
#             (scripts/build-debs.sh), then installed, used and purged
#             (scripts/check-debs.sh; root, changes the system)
# With CI=true a skipped test is a failure: every test must run there.
#
#   scripts/test.sh [PASS...]     default: all passes
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
passes=${*:-default daemon-io sanitize valgrind windows fuzz distcheck packages}
summary=""
failed=0

scripts/install-deps.sh

# Run `make check` in a build dir; record its counts; fail on skips in CI.
check_in() {
    name=$1 dir=$2
    shift 2
    echo "== $name: make check $*"
    rc=0
    make -C "$dir/tests" check "$@" || rc=$?
    log="$dir/tests/test-suite.log"
    [ -f "$log" ] || { summary="$summary$name: did not build
"; failed=1; return 0; }
    pass=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
    fail=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
    err=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
    skip=$(sed -n 's/^# SKIP: *//p' "$log" | head -1)
    summary="$summary$name: ${pass:-0} passed, $((${fail:-0} + ${err:-0})) failed, ${skip:-0} skipped
"
    if [ "$rc" -ne 0 ]; then
        sed -n '/^FAIL\|^ERROR/,$p' "$log" | head -200
        failed=1
    elif [ "${CI:-}" = true ] && [ "${skip:-0}" -ne 0 ]; then
        echo "$name: $skip test(s) skipped; in CI every test must run:" >&2
        grep '^SKIP' "$log" >&2
        failed=1
    fi
}

for pass in $passes; do
    case $pass in
    default)
        # Passthrough must be granted here: a silent fallback would test the
        # daemon's I/O twice and the kernel's never.
        scripts/build.sh _build/default &&
            check_in default _build/default WINAPI_TEST_PASSTHROUGH=on || failed=1
        ;;
    daemon-io)
        # The FUSE tests again with every read and write served by winapifs,
        # as where the kernel has no passthrough.
        scripts/build.sh _build/default &&
            check_in daemon-io _build/default 'TESTS=$(FUSE_SHELL_TESTS)' \
                WINAPI_TEST_PASSTHROUGH=off || failed=1
        ;;
    sanitize)
        san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
        scripts/build.sh _build/sanitize CFLAGS="-O1 -g $san" LDFLAGS="$san" &&
            ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 check_in sanitize _build/sanitize ||
            failed=1
        ;;
    valgrind)
        scripts/build.sh _build/default &&
            check_in valgrind _build/default \
                TESTS="check_client check_protocol test_client.sh" WINAPI_TEST_VALGRIND=1 || failed=1
        ;;
    windows)
        if [ -x scripts/check-wine.sh ]; then
            echo "== windows: winapi-hostd.exe under Wine, the same tests"
            scripts/build.sh _build/default && scripts/check-wine.sh _build/default || failed=1
            [ -f _build/wine/results/totals ] &&
                summary="$summary$(sed 's/^wine:/windows:/' _build/wine/results/totals)
"
        fi
        ;;
    fuzz)
        echo "== fuzz: tests/fuzz under libFuzzer, ${FUZZ_SECONDS:-60} s each"
        mkdir -p _build
        if scripts/fuzz.sh >_build/fuzz.out 2>&1; then
            summary="${summary}fuzz: $(grep -c ' ok$' _build/fuzz.out) harnesses, no findings
"
        else
            cat _build/fuzz.out
            summary="${summary}fuzz: findings or no build (_build/fuzz.out)
"
            failed=1
        fi
        ;;
    distcheck)
        echo "== distcheck: make distcheck"
        if scripts/build.sh _build/default && make -C _build/default distcheck \
                >_build/distcheck.out 2>&1; then
            summary="${summary}distcheck: $(grep -c '^PASS:' _build/distcheck.out) tests passed from the tarball
"
        else
            tail -60 _build/distcheck.out
            summary="${summary}distcheck: failed (_build/distcheck.out)
"
            failed=1
        fi
        ;;
    packages)
        echo "== packages: build, lintian, install, use, purge"
        if scripts/build-debs.sh && scripts/check-debs.sh; then
            summary="${summary}packages: $(ls _build/deb/*.deb | grep -vc dbgsym) built, lintian clean of errors, installed, used and purged
"
        else
            summary="${summary}packages: failed
"
            failed=1
        fi
        ;;
    *)
        echo "test.sh: unknown pass $pass" >&2
        exit 2
        ;;
    esac
done

printf '\n%s' "$summary"
if [ "$failed" -ne 0 ]; then
    echo "test.sh: FAILED" >&2
    exit 1
fi
echo "test.sh: all passes succeeded"
