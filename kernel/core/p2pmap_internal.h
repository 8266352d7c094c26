/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared between the translation units of p2pmap.ko and
 * nothing else: the feature probe and the module entry points. Nothing in
 * here is exported; the public API lives in include/linux/p2pmap.h once the
 * core lands.
 */
#ifndef _P2PMAP_INTERNAL_H
#define _P2PMAP_INTERNAL_H

#undef pr_fmt
#define pr_fmt(fmt) "p2pmap: " fmt

unsigned int p2pmap_features_missing(void);
void p2pmap_features_report(void);
int p2pmap_features_sysfs_add(void);
void p2pmap_features_sysfs_remove(void);

#endif /* _P2PMAP_INTERNAL_H */
