# wine-env.sh - run winapi-hostd.exe under Wine for a test.  Sourced (POSIX
# sh) by hostd.sh when WINAPI_TEST_HOSTD=wine, and by scripts/check-wine.sh.
#
#   wine_start_hostd STATEDIR [winapi-hostd options...]
#       C: becomes $WINAPI_TEST_CDIR, then the .exe starts in the
#       background on 127.0.0.1:0, with the test's automount root as the
#       POSIX daemon has it, and writes STATEDIR/port, STATEDIR/pid (the
#       .exe's own process), STATEDIR/log and, once it ended, STATEDIR/exit.
#   wine_stop_hostd STATEDIR
#       Ctrl-C (SIGINT, which Wine hands to the console control handler),
#       then SIGKILL after 10 s.
#   wine_prefix_create DIR / wine_prefix_destroy DIR
#       A fresh prefix (wineboot, ~10 s, ~0.7 GB); every Wine process of it
#       stopped (wineserver -k) and the directory removed.
#
# Prefixes.  scripts/check-wine.sh makes one prefix for a whole `make check`
# and exports it as WINAPI_WINE_PREFIX; tests then run one at a time, each
# pointing the prefix's C: at its own directory.  Without WINAPI_WINE_PREFIX
# a test makes a private prefix in its work directory (removed with it by
# run-test.sh) and stops its Wine processes when its last daemon stops.
# Every running daemon is registered in PREFIX/winapi-daemons/PID with its
# C: directory, so a second test that would take C: away from a running one
# waits for it, then fails, rather than pull C: from under it.
#
# C: is repointed as Wine needs it: the prefix's own drive_c/windows (Wine
# loads kernel32.dll from C:\windows), users and the rest are linked into the
# new directory first, then dosdevices/c: is replaced atomically.
#
# Options are translated for Wine: an absolute Unix path given to
# --token-file, --port-file, --key-file or --plugin becomes a Z: path (Z: is /), and --drive X=DIR
# becomes the prefix's drive X:, since the Windows host has real drives.

wine_exe=${WINAPI_HOSTD_EXE:-${top_srcdir:-.}/_build/win64/hostd/winapi-hostd.exe}

# wine_env PREFIX COMMAND...: run COMMAND with that prefix and a quiet Wine.
wine_env() {
    wine_env_prefix=$1
    shift
    env -u DISPLAY -u WAYLAND_DISPLAY WINEPREFIX="$wine_env_prefix" WINEARCH=win64 \
        WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" "$@"
}

# The Windows name of a Unix path, through Z:.
wine_winpath() {
    case $1 in
    /*) printf 'Z:%s' "$1" | tr / '\\' ;;
    *) printf '%s' "$1" ;;
    esac
}

wine_prefix_create() {
    mkdir -p "$1" || return 1
    wine_env "$1" wineboot -i >"$1.boot.log" 2>&1 && wine_env "$1" wineserver -w ||
        { echo "wine-env.sh: wineboot failed:" >&2; cat "$1.boot.log" >&2; return 1; }
    rm -f "$1.boot.log"
    [ -e "$1/dosdevices/z:" ] || ln -s / "$1/dosdevices/z:"
    mkdir -p "$1/winapi-daemons"
}

wine_prefix_destroy() {
    [ -d "$1" ] || return 0
    wine_env "$1" wineserver -k 2>/dev/null || true
    wine_env "$1" wineserver -w 2>/dev/null || true
    # The links into test directories go first: rm must never follow them.
    find "$1/dosdevices" -mindepth 1 -maxdepth 1 -exec rm -f {} + 2>/dev/null || true
    rm -rf "$1"
}

# The prefix for this test: the shared one, or a private one made on first use.
wine_prefix() {
    if [ -n "${WINAPI_WINE_PREFIX:-}" ]; then
        [ -d "$WINAPI_WINE_PREFIX/winapi-daemons" ] ||
            { echo "wine-env.sh: $WINAPI_WINE_PREFIX is not a prepared prefix" >&2; return 1; }
        echo "$WINAPI_WINE_PREFIX"
        return 0
    fi
    p=${WINAPI_TEST_WORK:?run me from run-test.sh}/wine
    if [ ! -d "$p/winapi-daemons" ]; then
        echo "wine-env.sh: no WINAPI_WINE_PREFIX; making a private prefix $p" >&2
        wine_prefix_create "$p" || return 1
    fi
    echo "$p"
}

# Forget daemons that are gone; print the C: directories of the rest.  (A
# daemon that was never stopped may have left its PID to another program.)
wine_live_cdirs() {
    for f in "$1"/winapi-daemons/*; do
        [ -f "$f" ] || continue
        if kill -0 "${f##*/}" 2>/dev/null &&
            tr '\0' ' ' 2>/dev/null <"/proc/${f##*/}/cmdline" | grep -q winapi-hostd; then
            sed -n 1p "$f"
        else
            wine_forget "$1" "$f"
        fi
    done
}

# Unregister a daemon and remove the drives it made.
wine_forget() {
    sed -n '2,$p' "$2" | while read -r d; do
        rm -f "$1/dosdevices/$d"
    done
    rm -f "$2"
}

# Point C: at cdir, waiting up to 120 s for another test's daemons to go.
wine_take_c() {
    i=0
    while wine_live_cdirs "$1" | grep -qvxF "$2"; do
        if [ $i -ge 1200 ]; then
            echo "wine-env.sh: C: of $1 is still used by another test" \
                 "($(wine_live_cdirs "$1" | sort -u | tr '\n' ' ')); run tests with -j1" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    # Wine's own C:\ (windows, users, Program Files...) but the test's C:\temp.
    for e in "$1"/drive_c/*; do
        case ${e##*/} in
        temp | Temp | TEMP) ;;
        *) [ -e "$2/${e##*/}" ] || [ -L "$2/${e##*/}" ] || ln -s "$e" "$2/${e##*/}" || return 1 ;;
        esac
    done
    ln -sfn "$2" "$1/dosdevices/c:.new" && mv -T "$1/dosdevices/c:.new" "$1/dosdevices/c:"
}

wine_start_hostd() {
    state=$1
    shift
    cdir=${WINAPI_TEST_CDIR:?run me from run-test.sh}
    prefix=$(wine_prefix) || return 1
    [ -f "$wine_exe" ] ||
        { echo "wine-env.sh: no $wine_exe (run scripts/build-windows.sh)" >&2; return 1; }
    mkdir -p "$state"
    rm -f "$state/port" "$state/pid" "$state/exit" "$state/wineprefix" "$state/drives"
    # Translate the options (see the top of this file).
    : >"$state/drives"
    n=$#
    while [ "$n" -gt 0 ]; do
        a=$1
        shift
        n=$((n - 1))
        case $a in
        --token-file | --port-file | --key-file | --plugin)
            [ "$n" -gt 0 ] || { set -- "$@" "$a"; continue; }
            set -- "$@" "$a" "$(wine_winpath "$1")"
            shift
            n=$((n - 1))
            ;;
        --token-file=* | --port-file=* | --key-file=* | --plugin=*) set -- "$@" "${a%%=*}=$(wine_winpath "${a#*=}")" ;;
        --drive | --drive=*)
            if [ "$a" = --drive ]; then
                a=$1
                shift
                n=$((n - 1))
            else
                a=${a#--drive=}
            fi
            letter=$(printf '%s' "${a%%=*}" | tr 'A-Z' 'a-z')
            case $letter in
            c) cdir=${a#*=} ;;
            [a-z]) printf '%s:\t%s\n' "$letter" "${a#*=}" >>"$state/drives" ;;
            *) echo "wine-env.sh: --drive $a: expected X=DIR" >&2; return 1 ;;
            esac
            ;;
        *) set -- "$@" "$a" ;;
        esac
    done
    wine_take_c "$prefix" "$cdir" || return 1
    while IFS='	' read -r d dir; do
        ln -sfn "$dir" "$prefix/dosdevices/$d"
    done <"$state/drives"
    echo "$prefix" >"$state/wineprefix"
    # The wrapper reaps the .exe, so a dead daemon is never mistaken for a
    # live zombie, and keeps its exit status.  It must hold no descriptor of
    # ours, hostd.sh's caller reading our output to its end: hence exec,
    # since sh keeps a copy of a descriptor redirected for a function call.
    (exec </dev/null >/dev/null 2>&1
    wine_env "$prefix" sh -c '
        state=$1
        shift
        wine "$@" </dev/null >"$state/log" 2>&1 &
        echo $! >"$state/pid.tmp"
        mv "$state/pid.tmp" "$state/pid"
        wait $!
        echo $? >"$state/exit"' wine-hostd "$state" "$wine_exe" --foreground \
        --listen 127.0.0.1:0 --port-file "$(wine_winpath "$state/port")" \
        ${WINAPI_TEST_WORK:+--automount-root "$WINAPI_TEST_WORK/mnt"} "$@") &
    i=0
    while [ ! -s "$state/pid" ]; do
        [ $i -lt 100 ] || { echo "wine-env.sh: wine did not start" >&2; return 1; }
        sleep 0.05
        i=$((i + 1))
    done
    { echo "$cdir"; cut -f1 "$state/drives"; } >"$prefix/winapi-daemons/$(cat "$state/pid")"
}

wine_stop_hostd() {
    state=$1
    [ -f "$state/pid" ] || return 0
    pid=$(cat "$state/pid")
    prefix=$(cat "$state/wineprefix" 2>/dev/null || true)
    rm -f "$state/pid"
    if kill -INT "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null; do
            if [ $i -ge 100 ]; then
                echo "wine-env.sh: winapi-hostd.exe ignored Ctrl-C; killing it" >&2
                kill -KILL "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.1
            i=$((i + 1))
        done
    fi
    [ -n "$prefix" ] && [ -d "$prefix/winapi-daemons" ] || return 0
    [ -f "$prefix/winapi-daemons/$pid" ] && wine_forget "$prefix" "$prefix/winapi-daemons/$pid"
    if [ -z "$(wine_live_cdirs "$prefix")" ]; then
        # Nobody left: C: back to the prefix's own, and a private prefix's
        # Wine processes stopped (run-test.sh removes its directory).
        ln -sfn ../drive_c "$prefix/dosdevices/c:.new" &&
            mv -T "$prefix/dosdevices/c:.new" "$prefix/dosdevices/c:"
        [ "$prefix" = "${WINAPI_WINE_PREFIX:-}" ] ||
            wine_env "$prefix" wineserver -k 2>/dev/null || true
    fi
    return 0
}
