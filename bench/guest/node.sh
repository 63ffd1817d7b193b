#!/bin/sh
# PID 1 of the node benchmark's qemu guest (bench/node.ts boots it through test/support/vm.ts):
# the installer's cold install, warm install and restart, beside gtp5g's own build and load by
# hand (`make` + `insmod`) on the same tarball and headers, in the same boot: $COLD cold runs,
# each between two hand-run builds (raw-1, cold-1, raw-2, ..., cold-$COLD, raw-$((COLD + 1))). Prints
# "@@GTP5G key=value ..." lines; every time is in ms, measured here with `date +%s%3N`, and the
# installer's phases come from its own JSON log.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
# shellcheck disable=SC1091
. /gtp5g-test/env
# shellcheck disable=SC1091
. /gtp5g-test/bench.env
# No NODE_OPTIONS, as in the pod: with it set the launcher skips the start-up snapshot.
export GTP5G_TERMINATION_LOG=/tmp/termination-log GTP5G_WATCH_INTERVAL_SECONDS=10
export GTP5G_SOURCE_URL='file:///gtp5g-test/gtp5g-{version}.tar.gz'
export GTP5G_READY_FILE=/tmp/gtp5g-ready
KERNEL=$(uname -r)
KDIR=/lib/modules/$KERNEL/build
TARBALL=/gtp5g-test/gtp5g-$V1.tar.gz
ENTRY=/var/lib/gtp5g/$V1/$KERNEL
JOBS=$(nproc)

say () { printf '%s\n' "@@GTP5G $*"; }
now_ms () { date +%s%3N; }
ver () { cat /sys/module/gtp5g/version 2>/dev/null || echo none; }
seqnum () { cat /sys/kernel/uevent_seqnum; }
# The fixture's module_exit prints "gtp5g fixture <v> unloaded": the kernel's own count of unloads.
unloads () { dmesg 2>/dev/null | grep -c 'gtp5g fixture .* unloaded'; }
# The node as it is after a reboot: neither gtp5g nor udp_tunnel loaded.
clean_kernel () { rmmod gtp5g 2>/dev/null; rmmod udp_tunnel 2>/dev/null; }
unlink_kbuild () { for k in /host/usr/lib/linux-kbuild-*; do rm -f "/usr/lib/$(basename "$k")"; done; }
# A fresh node, as the first cold run finds it at boot: nothing loaded, an empty host cache (no
# module entry, and no start-up snapshot, so the launcher starts main.mjs and the installer builds
# one after ready, as on a node's first start), and no kbuild links in the container's /usr/lib
# (the installer makes its own and leaves them). Then sync: the deletions, and whatever the last
# cold run wrote, are on disk before the next build, so no writeback runs into it. Before every
# cold run's hand-run build; after the last, only the links and the sync, so that its module and
# snapshot stay for the warm and restart runs.
fresh_node () {
  clean_kernel
  find /var/lib/gtp5g -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null
  unlink_kbuild
  sync
}
# Files in the host cache: 0 at each cold run's start, in its record.
host_cache () { find /var/lib/gtp5g -mindepth 1 2>/dev/null | wc -l; }

# By hand, as gtp5g's README has it: unpack, make against the headers, load. Debian's headers
# reach their kbuild tools through /usr/lib/linux-kbuild-*, which the pod (and so this guest)
# has at /host/usr/lib: linked for the build and unlinked after it, so the installer links them
# itself. Same make command line as the installer's (-j as many jobs as CPUs).
raw () { # $1 = record name
  rm -rf /tmp/raw && mkdir -p /tmp/raw
  for k in /host/usr/lib/linux-kbuild-*; do ln -s "$k" /usr/lib/; done
  T0=$(now_ms)
  tar -xzf "$TARBALL" -C /tmp/raw --strip-components=1
  T1=$(now_ms)
  make -C /tmp/raw "-j$JOBS" "KVER=$KERNEL" "KDIR=$KDIR" >/tmp/raw.log 2>&1
  MAKE_EXIT=$?
  T2=$(now_ms)
  modprobe udp_tunnel && insmod /tmp/raw/gtp5g.ko
  T3=$(now_ms)
  say step="$1" ms=$((T3 - T0)) extract=$((T1 - T0)) make=$((T2 - T1)) load=$((T3 - T2)) exit=$MAKE_EXIT version="$(ver)"
  [ $MAKE_EXIT = 0 ] || tail -n 20 /tmp/raw.log
  unlink_kbuild
  clean_kernel
}

# The point the pod's readiness probe first passes. An installer that writes its readiness file
# (GTP5G_READY_FILE; the probe reads it): when the file appears. One that has none (the probe is
# `gtp5g-installer check`, a Node.js start): when its log says "done", plus one check run right
# then, as if the kubelet probed at that very moment (the probe period's wait is left out).
# $1 is the installer's script: a bundle (main.mjs beside its chunks/) or, in an image built
# before the bundle, dist/installer/main.js beside dist/contract/.
has_ready_file () { grep -rqs GTP5G_READY_FILE "$(dirname "$1")/chunks" "$1" "$(dirname "$1")/../contract"; }
# The installer's phases, from its JSON log: the first line's time (Node.js start-up and module
# loading), each step's durationMs, and "done".
phases () { # $1 = log, $2 = T0
  first=$(grep -o '"time":[0-9]*' "$1" | head -n1 | cut -d: -f2)
  printf 'first=%s ' $((${first:-$2} - $2))
  for s in kernel inspect lock cache-lookup headers download extract build cache-store load-dependency load verify; do
    d=$(grep -o "\"step\":\"$s\",\"durationMs\":[0-9]*" "$1" | head -n1 | sed 's/.*://'); printf '%s=%s ' "$s" "${d:--}"
  done
  st=$(grep -o '"startupMs":[0-9]*' "$1" | head -n1 | cut -d: -f2); printf 'startup=%s ' "${st:--}"
  nb=$(grep -o '"nodeBootstrapMs":[0-9]*' "$1" | head -n1 | cut -d: -f2); printf 'bootstrap=%s ' "${nb:--}"
  done_t=$(grep -o '"time":[0-9]*[^}]*"step":"done"' "$1" | head -n1 | sed 's/"time":\([0-9]*\).*/\1/')
  printf 'done=%s' $((${done_t:-$2} - $2))
}
# Starts `install` like the kubelet would, with the pod's capabilities, and waits until ready.
# Each poll below starts processes (date, sleep), and a process start takes tens of ms of CPU in
# this guest: polling every 20 ms beside a cold run's `make` took CPU from it that the same make
# by hand, with nothing beside it, had to itself. With $4, a step of the installer's log, the wait
# first blocks (tail -f sleeps in inotify) until that step has ended, then polls: `build` leaves
# a second or so of storing and loading to time.
install_run () { # $1 = installer script, $2 = log name, $3 = timeout s, $4 = no polls until this step ended
  rm -f /tmp/termination-log "$GTP5G_READY_FILE"
  T0=$(now_ms)
  GTP5G_VERSION=$V1 GTP5G_SOURCE_SHA256=$V1_SHA256 setpriv --inh-caps=-all --bounding-set=-all,+sys_module \
    "$1" install >"/tmp/$2.log" 2>&1 &
  PID=$!
  deadline=$(($(now_ms) + $3 * 1000)); READY=-1
  if [ -n "${4:-}" ]; then
    # grep exits at the line; tail at its next write, or when the installer exits.
    timeout "$3" tail -n +1 -f --pid=$PID "/tmp/$2.log" 2>/dev/null | grep -q -m1 "\"step\":\"$4\",\"durationMs\""
  fi
  if has_ready_file "$1"; then
    while [ "$(now_ms)" -lt $deadline ] && kill -0 $PID 2>/dev/null; do
      if [ -e "$GTP5G_READY_FILE" ]; then READY=$(($(now_ms) - T0)); break; fi
      sleep 0.02
    done
    PROBE='file'
  else
    while [ "$(now_ms)" -lt $deadline ] && kill -0 $PID 2>/dev/null; do
      if grep -q '"step":"done"' "/tmp/$2.log"; then
        C0=$(now_ms)
        GTP5G_VERSION=$V1 "$1" check 2>/dev/null && READY=$(($(grep -o '"time":[0-9]*[^}]*"step":"done"' "/tmp/$2.log" | sed 's/"time":\([0-9]*\).*/\1/') - T0 + $(now_ms) - C0))
        break
      fi
      sleep 0.02
    done
    PROBE='check'
  fi
}
stop_install () { kill -TERM $PID; wait $PID; }
# Which entry the launcher started (installer/bundle.mjs): snapshot or plain; none for main.mjs run directly.
entry () { e=$(grep -o '"entry":"[a-z]*"' "$1" | head -n1 | cut -d'"' -f4); printf '%s' "${e:--}"; }

say boot kernel="$KERNEL" cpus="$JOBS" variants="$VARIANTS" cold="$COLD"
COLD_SCRIPT=$(echo "$VARIANTS" | cut -d' ' -f1 | cut -d= -f2)
# Warm-up, not counted: the first build reads gcc and the headers from disk, and one `check` reads
# the image's Node.js and the installer's entry. Every measured run after it finds them in the
# page cache, the hand-run ones and the installer's alike.
raw raw-warmup
GTP5G_VERSION=$V1 "$COLD_SCRIPT" check >/dev/null 2>&1
# Cold: empty cache → download (file://, sha256 checked), extract, kbuild, store, load; $COLD
# times, each between two builds by hand, so that each has a floor measured just before and just
# after it: the compiler's time in this guest drifts during a boot (qemu's translation cache, the
# page cache, the host's load) by more than the target's 15 %, and a slow drift cancels in a pair.
for i in $(seq 1 "$COLD"); do
  fresh_node
  raw "raw-$i"
  FILES=$(host_cache)
  install_run "$COLD_SCRIPT" "cold-$i" 900 build
  say step="cold-$i" ms=$READY probe=$PROBE version="$(ver)" entry="$(entry "/tmp/cold-$i.log")" hostcache="$FILES" "$(phases "/tmp/cold-$i.log" "$T0")"
  [ "$READY" -ge 0 ] || { tail -n 30 "/tmp/cold-$i.log"; cat /tmp/termination-log 2>/dev/null; }
  # After ready, the installer builds its start-up snapshot in the host cache (installer/
  # snapshotcache.ts), as on a node. Not counted; its own time is its log line's durationMs. Waited
  # for after every cold run alike, so that it never runs into the next build; the last one's
  # stays, and the warm and restart runs below start from it, as a node's do after its first start.
  S0=$(now_ms)
  while [ $(($(now_ms) - S0)) -lt 600000 ] && kill -0 $PID 2>/dev/null && ! grep -q '"step":"snapshot"' "/tmp/cold-$i.log"; do sleep 0.1; done
  say step="snapshot-$i" waited=$(($(now_ms) - S0)) build="$(grep -o '"step":"snapshot","durationMs":[0-9]*' "/tmp/cold-$i.log" | sed 's/.*://')" \
    bytes="$(grep '"step":"snapshot"' "/tmp/cold-$i.log" | grep -o '"bytes":[0-9]*' | cut -d: -f2)" blobs="$(find /var/lib/gtp5g/snapshot -name '*.blob' 2>/dev/null | wc -l)"
  grep '"step":"snapshot"' "/tmp/cold-$i.log" | grep -v '"level":30' | head -n 3
  stop_install
  clean_kernel
done
unlink_kbuild
sync
raw "raw-$((COLD + 1))"

# By hand from the cached module: the warm install's floor.
for i in $(seq 1 "$ROUNDS"); do
  T0=$(now_ms); modprobe udp_tunnel && insmod "$ENTRY/gtp5g.ko"; T1=$(now_ms)
  say step="floor-warm-$i" ms=$((T1 - T0)) version="$(ver)"
  clean_kernel
done
# Reading the version by hand: the restart's floor.
insmod_loaded () { modprobe udp_tunnel && insmod "$ENTRY/gtp5g.ko"; }
insmod_loaded
for i in $(seq 1 "$ROUNDS"); do
  T0=$(now_ms); v=$(cat /sys/module/gtp5g/version); T1=$(now_ms)
  say step="floor-restart-$i" ms=$((T1 - T0)) version="$v"
done
clean_kernel

# The variants take turns within each round, so that a machine whose load changes during the
# boot (a shared one) weighs on each alike.
# Warm: the node rebooted (nothing loaded), the cache holds the module.
for i in $(seq 1 "$ROUNDS"); do
  for variant in $VARIANTS; do
    name=${variant%%=*}; script=${variant#*=}
    install_run "$script" "warm-$name-$i" 120
    say step="warm-$name-$i" ms=$READY probe=$PROBE version="$(ver)" entry="$(entry "/tmp/warm-$name-$i.log")" "$(phases "/tmp/warm-$name-$i.log" "$T0")" outcome="$(grep -o '"outcome":"[a-z-]*"' "/tmp/warm-$name-$i.log" | cut -d'"' -f4)"
    stop_install
    clean_kernel
  done
done
# Restart: the module loaded at the desired version; nothing may be unloaded or loaded again.
insmod_loaded
for i in $(seq 1 "$ROUNDS"); do
  for variant in $VARIANTS; do
    name=${variant%%=*}; script=${variant#*=}
    S0=$(seqnum); U0=$(unloads)
    install_run "$script" "restart-$name-$i" 120
    say step="restart-$name-$i" ms=$READY probe=$PROBE version="$(ver)" entry="$(entry "/tmp/restart-$name-$i.log")" uevents=$(($(seqnum) - S0)) unloads=$(($(unloads) - U0)) "$(phases "/tmp/restart-$name-$i.log" "$T0")" outcome="$(grep -o '"outcome":"[a-z-]*"' "/tmp/restart-$name-$i.log" | cut -d'"' -f4)"
    stop_install
  done
done
clean_kernel

say step=end
sync
echo o >/proc/sysrq-trigger
sleep 10
