#!/bin/sh
# PID 1 of the real node (e2e/node/): Debian 12 with no systemd. Mounts what a kubelet and
# containerd need (cgroup2 above all), brings up qemu's user network, starts containerd and the
# kubelet with the cgroupfs driver, then becomes the pause program, which reaps orphans (the
# containerd shims re-parent to PID 1).
#   gtp5g.mode=prepare  (first boot of a new guest disk, no config disk) imports the installer and
#                       pause images into containerd's k8s.io namespace, then powers off: the disk
#                       is cached with them;
#   otherwise           reads /dev/vdb (the per-cluster config disk: node name, kubeconfig,
#                       certificates) and joins the cluster.
# Lines starting with "@@NODE" on the console are for the host (timings, failures).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BB=/opt/gtp5g-node/bin/busybox
mark () { echo "@@NODE $* uptime=$(cut -d' ' -f1 /proc/uptime)"; }
die () { mark "failed what=$*"; sync; echo o >/proc/sysrq-trigger; sleep 30; }

mount -t proc proc /proc
cmdline=$(cat /proc/cmdline)
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /sys/fs/cgroup
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup || die 'mount cgroup2'
# Pods' mounts must propagate (the kubelet checks that / is shared).
mount --make-rshared /
mark "booted kernel=$(uname -r)"

# The kubelet's QoS cgroups need these controllers delegated below the root.
read -r controllers </sys/fs/cgroup/cgroup.controllers
for c in $controllers; do echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; done

# virtio_net for qemu's NIC, overlay for containerd's snapshotter, bridge and veth for the CNI.
for m in virtio_net overlay bridge veth; do modprobe "$m" || mark "modprobe-failed module=$m"; done
echo 1 >/proc/sys/net/ipv4/ip_forward
# Pods (10.88.0.0/16 on the CNI bridge) reach 10.0.2.2 unmasqueraded: qemu's user network ARPs
# for a reply's destination, and the guest answers for its pods (no iptables in the guest).
echo 1 >/proc/sys/net/ipv4/conf/all/proxy_arp
$BB ip link set lo up
$BB ip link set eth0 up
# qemu's user network: the guest is 10.0.2.15, 10.0.2.2 is the host's loopback.
$BB ip addr add 10.0.2.15/24 dev eth0
$BB ip route add default via 10.0.2.2

start_containerd () {
  mkdir -p /var/log
  containerd --config /etc/containerd/config.toml >>/var/log/containerd.log 2>&1 &
  for _ in $(seq 1 300); do ctr version >/dev/null 2>&1 && return 0; sleep 0.5; done
  tail -n 30 /var/log/containerd.log
  die 'containerd did not start'
}

case $cmdline in *gtp5g.mode=prepare*)
  start_containerd
  mark containerd-ready
  for image in /opt/gtp5g-node/images/*.tar; do
    ctr -n k8s.io images import --snapshotter overlayfs "$image" || die "import $image"
  done
  ctr -n k8s.io images ls -q | sed 's/^/@@NODE image ref=/'
  mark imported
  # containerd holds them now: give their blocks back (the drive has discard=unmap).
  rm -f /opt/gtp5g-node/images/*.tar
  fstrim / 2>/dev/null
  kill "$(cat /run/containerd/containerd.pid 2>/dev/null || pgrep -x containerd)" 2>/dev/null
  sleep 2
  sync
  mark prepared
  echo o >/proc/sysrq-trigger
  sleep 30
esac

mkdir -p /etc/gtp5g-node
mount -t ext4 -o ro /dev/vdb /etc/gtp5g-node || die 'no config disk at /dev/vdb'
# shellcheck disable=SC1091 # written by e2e/node/realnode.ts
. /etc/gtp5g-node/env
# Name lookups only where the host asked for them (the demo on a machine with internet).
[ -r /etc/gtp5g-node/resolv.conf ] && cp /etc/gtp5g-node/resolv.conf /etc/resolv.conf
hostname "$NODE_NAME"
echo "$NODE_NAME" >/etc/hostname
# containerd copies /etc/hosts into every pod; the kubelet reports /etc/machine-id as the node's.
printf '127.0.0.1 localhost\n10.0.2.15 %s\n' "$NODE_NAME" >/etc/hosts
[ -s /etc/machine-id ] || tr -d '-' </proc/sys/kernel/random/uuid >/etc/machine-id
start_containerd
mark containerd-ready
mkdir -p /var/lib/kubelet /var/log/pods
kubelet --config=/etc/kubernetes/kubelet.yaml --kubeconfig=/etc/gtp5g-node/kubeconfig \
  --hostname-override="$NODE_NAME" --node-ip=10.0.2.15 --node-labels="$NODE_LABELS" \
  --v="${KUBELET_VERBOSITY:-1}" >>/var/log/kubelet.log 2>&1 &
mark kubelet-started
case $cmdline in *gtp5g.verbose=1*)
  tail -F /var/log/kubelet.log /var/log/containerd.log 2>/dev/null &
esac
exec /opt/gtp5g-node/bin/pause
