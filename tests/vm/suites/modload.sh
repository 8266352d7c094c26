#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# modload suite: p2pmap.ko loads, carries the one version (MODULE_VERSION
# = what p2pmapctl --version says, both from the file VERSION), reports
# kernel features truthfully (cross-checked against the running kernel's
# /boot/config-$(uname -r)), and unloads cleanly, repeatedly.
. /suites/lib.sh
MOD=/tests/modules/p2pmap.ko

tap_plan 8
if insmod $MOD; then tap_ok "insmod p2pmap.ko"; else tap_fail "insmod p2pmap.ko"; fi

version_ok() {
	mv=$(cat /sys/module/p2pmap/version) || return 1
	tv=$(/tests/bin/p2pmapctl --version) || return 1
	echo "module $mv (srcversion $(cat /sys/module/p2pmap/srcversion)), $tv"
	[ -n "$mv" ] && [ "$tv" = "p2pmapctl $mv" ]
}
tap_check "module version is the tools' version" version_ok

# Each feature line must agree with the running kernel's config.
feat_ok=1
nfeat=0
for pair in pci_p2pdma:CONFIG_PCI_P2PDMA device_private:CONFIG_DEVICE_PRIVATE \
	dmabuf_move_notify:CONFIG_DMABUF_MOVE_NOTIFY mmu_notifier:CONFIG_MMU_NOTIFIER; do
	f=${pair%%:*}
	c=${pair#*:}
	cfg=/boot/config-"$(uname -r)"
	if grep -qx "$c=y" "$cfg"; then
		want=yes
	elif [ "$c" = CONFIG_DMABUF_MOVE_NOTIFY ] && grep -qx CONFIG_DMA_SHARED_BUFFER=y "$cfg" &&
		! grep -qE "^(# )?$c[= ]" "$cfg"; then
		# 7.1 removed the option: dynamic importers are always on
		want=yes
	else
		want=no
	fi
	got=$(awk -v f="$f" '$1 == f { print $2 }' /sys/module/p2pmap/features 2>/dev/null)
	tap_diag "feature $f: kernel $c -> expect $want, module says '${got:-missing}'"
	[ "$got" = "$want" ] || feat_ok=0
	nfeat=$((nfeat + 1))
done
if [ $feat_ok = 1 ] && [ $nfeat = 4 ]; then
	tap_ok "features file matches the kernel config"
else
	tap_fail "features file matches the kernel config"
	tap_diag "$(cat /sys/module/p2pmap/features 2>&1)"
fi

# p2pdma_provider: the running kernel must export both halves (6.19) and
# have PCI_P2PDMA; /proc/kallsyms tells, not the build.
p2pdma_provider_ok() {
	cfg=/boot/config-"$(uname -r)"
	if grep -qx CONFIG_PCI_P2PDMA=y "$cfg" &&
		grep -qE ' (T|t) pcim_p2pdma_provider$' /proc/kallsyms &&
		grep -qE ' (T|t) dma_buf_phys_vec_to_sgt$' /proc/kallsyms; then
		want=yes
	else
		want=no
	fi
	got=$(awk '$1 == "p2pdma_provider" { print $2 }' /sys/module/p2pmap/features)
	echo "kernel exports pcim_p2pdma_provider and dma_buf_phys_vec_to_sgt with PCI_P2PDMA: $want; module says '${got:-missing}'"
	[ "$got" = "$want" ]
}
tap_check "feature p2pdma_provider matches the running kernel's symbols" p2pdma_provider_ok

if dmesg | grep -q 'p2pmap: loaded; [0-9]* optional kernel feature'; then
	tap_ok "load message in dmesg"
else
	tap_fail "load message in dmesg"
fi

missing=$(dmesg | grep -c 'p2pmap: feature .*: unavailable')
want_missing=$(grep -c ' no ' /sys/module/p2pmap/features)
if [ "$missing" = "$want_missing" ]; then
	tap_ok "every unavailable feature is logged with its reason ($missing)"
else
	tap_fail "every unavailable feature is logged with its reason (dmesg $missing, sysfs $want_missing)"
fi

if rmmod p2pmap && [ ! -e /sys/module/p2pmap ]; then
	tap_ok "rmmod p2pmap"
else
	tap_fail "rmmod p2pmap"
fi

i=0
cycle_ok=1
while [ $i -lt 20 ]; do
	insmod $MOD || { cycle_ok=0; break; }
	rmmod p2pmap || { cycle_ok=0; break; }
	i=$((i + 1))
done
if [ $cycle_ok = 1 ]; then tap_ok "20 load/unload cycles"; else tap_fail "load/unload cycle $i failed"; fi
tap_done
