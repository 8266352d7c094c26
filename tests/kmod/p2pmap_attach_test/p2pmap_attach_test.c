// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmap_attach_test: test module for p2pmap's provider registry and
 * importer attach negotiation. At load it finds (never binds) the first
 * QEMU ivshmem-plain device and the first QEMU edu device, registers the
 * ivshmem BAR2 as a p2pmap provider whose ops report a fake aperture and
 * refuse every resolve, and attaches the edu as a revalidating importer.
 * /dev/p2pmap_attach_test reports p2pmap's P2P verdict for the pair (INFO)
 * and runs p2pmap's API with bad arguments, one case per CASE ioctl, so
 * that tests/selftests/p2pmap_attach can check the verdict against the VM
 * topology and every refusal against its errno.
 *
 * The TEARDOWN ioctl unregisters the provider and detaches while the
 * module stays loaded (the kselftest's last test checks that sysfs goes
 * away); whatever is left is undone at unload.
 *
 * The edu has no driver here, so its DMA mask is the PCI default of 32
 * bits, below the 64-bit BAR2 QEMU places above 4 GiB. The module sets
 * the mask the edu really has (64 bits, as its driver would) while no
 * driver is bound and restores the old mask at unload.
 */

#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/p2pmap.h>
#include "p2pmap_internal.h"	/* struct p2pmap_verdict, for the verdict */

#include "p2pmap_attach_test_uapi.h"

#undef pr_fmt
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#define IVSHMEM_VENDOR_ID	0x1af4
#define IVSHMEM_PLAIN_DEVICE_ID	0x1110
#define IVSHMEM_SHMEM_BAR	2
#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

/**
 * struct p2pmap_at - the module's state
 * @lock: serialises the ioctls; protects the rest after init
 * @provider_pdev: the ivshmem-plain device (reference held), or NULL
 * @importer_pdev: the edu device (reference held), or NULL
 * @old_mask: the edu's DMA mask before the module set it
 * @mask_set: the module set the edu's DMA mask (restore at unload)
 * @prov: the registered provider, or NULL
 * @attach: the edu's attachment, or NULL
 */
struct p2pmap_at {
	struct mutex lock; /* ioctls */
	struct pci_dev *provider_pdev;
	struct pci_dev *importer_pdev;
	u64 old_mask;
	bool mask_set;
	struct p2pmap_provider *prov;
	struct p2pmap_attach *attach;
};

static struct p2pmap_at p2pmap_at_state = {
	.lock = __MUTEX_INITIALIZER(p2pmap_at_state.lock),
};

/* Only a key for p2pmap's mapping table; p2pmap never dereferences it. */
static struct address_space p2pmap_at_mapping;

static char *provider_name;
module_param_named(provider, provider_name, charp, 0444);
MODULE_PARM_DESC(provider,
		 "PCI name of the ivshmem-plain provider (default: first found)");

static char *importer_name;
module_param_named(importer, importer_name, charp, 0444);
MODULE_PARM_DESC(importer, "PCI name of the edu importer (default: first found)");

/*
 * The device @vendor:@device named @want (any such device if @want is
 * unset or empty), with a reference held, or NULL.
 */
static struct pci_dev *p2pmap_at_find(unsigned int vendor, unsigned int device,
				      const char *want)
{
	struct pci_dev *pdev = NULL;

	while ((pdev = pci_get_device(vendor, device, pdev)))
		if (!want || !*want || !strcmp(want, pci_name(pdev)))
			return pdev;
	return NULL;
}

/* ---- provider ops: a fake window, no resolves ---------------------------- */

static int p2pmap_at_p2p_map(struct p2pmap_provider *prov,
			     struct p2pmap_map_req *req)
{
	return -EOPNOTSUPP;
}

static void p2pmap_at_p2p_unmap(struct p2pmap_provider *prov,
				struct p2pmap_map_req *req)
{
}

static void p2pmap_at_aperture(struct p2pmap_provider *prov,
			       struct p2pmap_aperture *ap)
{
	struct pci_dev *pdev = p2pmap_provider_priv(prov);

	ap->total = pdev ? pci_resource_len(pdev, IVSHMEM_SHMEM_BAR) : 0;
	ap->used = min_t(u64, P2PMAP_AT_AP_USED, ap->total);
	ap->pinned = min_t(u64, P2PMAP_AT_AP_PINNED, ap->used);
	ap->free = ap->total - ap->used;
	ap->device_total = P2PMAP_AT_AP_DEVICE_TOTAL;
}

static const struct p2pmap_provider_ops p2pmap_at_prov_ops = {
	.p2p_map = p2pmap_at_p2p_map,
	.p2p_unmap = p2pmap_at_p2p_unmap,
	.aperture = p2pmap_at_aperture,
};

/* Missing one required op each. */
static const struct p2pmap_provider_ops p2pmap_at_ops_no_map = {
	.p2p_unmap = p2pmap_at_p2p_unmap,
	.aperture = p2pmap_at_aperture,
};

static const struct p2pmap_provider_ops p2pmap_at_ops_no_unmap = {
	.p2p_map = p2pmap_at_p2p_map,
	.aperture = p2pmap_at_aperture,
};

static const struct p2pmap_provider_ops p2pmap_at_ops_no_aperture = {
	.p2p_map = p2pmap_at_p2p_map,
	.p2p_unmap = p2pmap_at_p2p_unmap,
};

/* ---- importer ops ----------------------------------------------------- */

static void p2pmap_at_invalidate(struct p2pmap_import *imp,
				 enum p2pmap_event ev)
{
}

static const struct p2pmap_importer_ops p2pmap_at_imp_ops = {
	.invalidate = p2pmap_at_invalidate,
};

static const struct p2pmap_importer_ops p2pmap_at_imp_ops_empty = {
};

/* ---- helpers ------------------------------------------------------------ */

static void p2pmap_at_desc(struct p2pmap_provider_desc *desc,
			   struct pci_dev *pdev)
{
	memset(desc, 0, sizeof(*desc));
	desc->name = "attach_test";
	desc->dev = pdev ? &pdev->dev : NULL;
	desc->pdev = pdev;
	desc->bar = IVSHMEM_SHMEM_BAR;
	desc->owner = THIS_MODULE;
	desc->ops = &p2pmap_at_prov_ops;
	desc->priv = pdev;
}

/* 0 if register succeeded (and it is undone), else its errno. */
static int p2pmap_at_try_register(const struct p2pmap_provider_desc *desc)
{
	struct p2pmap_provider *prov = p2pmap_provider_register(desc);

	if (IS_ERR(prov))
		return PTR_ERR(prov);
	p2pmap_provider_unregister(prov);
	return 0;
}

/* 0 if attach succeeded (and it is undone), else its errno. */
static int p2pmap_at_try_attach(struct device *dev,
				const struct p2pmap_importer_ops *ops,
				unsigned long caps)
{
	struct p2pmap_attach *attach = p2pmap_attach(dev, ops, caps);

	if (IS_ERR(attach))
		return PTR_ERR(attach);
	p2pmap_detach(attach);
	return 0;
}

/* A second provider on the edu (no peer-visible BAR). */
static struct p2pmap_provider *p2pmap_at_nobar_provider(struct p2pmap_at *st)
{
	struct p2pmap_provider_desc desc;

	p2pmap_at_desc(&desc, NULL);
	desc.name = "attach_test_nobar";
	desc.dev = &st->importer_pdev->dev;
	return p2pmap_provider_register(&desc);
}

static int p2pmap_at_bind_case(struct p2pmap_at *st, u32 id)
{
	struct address_space *m = &p2pmap_at_mapping;
	struct p2pmap_provider *other, *found;
	int ret;

	ret = p2pmap_provider_bind_mapping(st->prov, m);
	if (ret)	/* the first bind must work, unless out of memory */
		return ret == -ENOMEM ? ret : -EPROTO;

	switch (id) {
	case P2PMAP_AT_BIND_TWICE:
		ret = p2pmap_provider_bind_mapping(st->prov, m);
		break;
	case P2PMAP_AT_BIND_OTHER:
		other = p2pmap_at_nobar_provider(st);
		if (IS_ERR(other)) {
			ret = PTR_ERR(other) == -ENOMEM ? -ENOMEM : -EPROTO;
			break;
		}
		ret = p2pmap_provider_bind_mapping(other, m);
		/* unregister must not touch st->prov's binding */
		p2pmap_provider_unregister(other);
		if (p2pmap_provider_find_mapping(m) != st->prov)
			ret = -EPROTO;
		else
			p2pmap_provider_put(st->prov);
		break;
	case P2PMAP_AT_BIND_FIND:
		found = p2pmap_provider_find_mapping(m);
		ret = found == st->prov ? 0 : -EPROTO;
		p2pmap_provider_put(found);
		break;
	}

	p2pmap_provider_unbind_mapping(st->prov, m);
	found = p2pmap_provider_find_mapping(m);
	if (found) {
		p2pmap_provider_put(found);
		ret = -EPROTO;	/* unbind must remove it */
	}
	return ret;
}

static int p2pmap_at_verdict_case(struct p2pmap_at *st, u32 id,
				  struct p2pmap_at_case *c)
{
	struct device *edu = &st->importer_pdev->dev;
	struct p2pmap_provider *prov = st->prov;
	struct p2pmap_attach *attach = st->attach;
	struct p2pmap_verdict v;
	int ret;

	if (id == P2PMAP_AT_NOBAR_VERDICT) {
		prov = p2pmap_at_nobar_provider(st);
		if (IS_ERR(prov))
			return PTR_ERR(prov);
	} else {
		/* what an importer limited to 32-bit DMA gets */
		if (!st->mask_set)
			return -EPERM;	/* a driver owns the edu's mask */
		device_lock(edu);
		ret = edu->driver ? -EBUSY : dma_set_mask(edu, DMA_BIT_MASK(32));
		if (ret) {
			device_unlock(edu);
			return ret;
		}
		attach = p2pmap_attach(edu, &p2pmap_at_imp_ops,
				       P2PMAP_CAP_REVALIDATE);
		if (dma_set_mask(edu, st->attach->dma_mask))
			pr_err("cannot restore the edu's DMA mask\n");
		device_unlock(edu);
		if (IS_ERR(attach))
			return PTR_ERR(attach);
	}

	ret = p2pmap_attach_verdict(attach, prov, &v);
	if (!ret) {
		c->route = v.route;
		c->reason = v.reason;
	}

	if (id == P2PMAP_AT_NOBAR_VERDICT)
		p2pmap_provider_unregister(prov);
	else
		p2pmap_detach(attach);
	return ret;
}

static int p2pmap_at_run_case(struct p2pmap_at *st, struct p2pmap_at_case *c)
{
	struct pci_dev *ivs = st->provider_pdev;
	struct p2pmap_provider_desc desc;
	struct device *edu;
	u32 id = c->id;

	lockdep_assert_held(&st->lock);

	if (!id || id >= P2PMAP_AT_CASE_NR)
		return -EINVAL;
	if (!st->prov || !st->attach)
		return -ENODEV;	/* the pair is needed by most cases */
	edu = &st->importer_pdev->dev;
	p2pmap_at_desc(&desc, ivs);

	switch (id) {
	case P2PMAP_AT_REG_NULL_DESC:
		return p2pmap_at_try_register(NULL);
	case P2PMAP_AT_REG_NULL_OPS:
		desc.ops = NULL;
		break;
	case P2PMAP_AT_REG_NO_MAP:
		desc.ops = &p2pmap_at_ops_no_map;
		break;
	case P2PMAP_AT_REG_NO_UNMAP:
		desc.ops = &p2pmap_at_ops_no_unmap;
		break;
	case P2PMAP_AT_REG_NO_APERTURE:
		desc.ops = &p2pmap_at_ops_no_aperture;
		break;
	case P2PMAP_AT_REG_NULL_NAME:
		desc.name = NULL;
		break;
	case P2PMAP_AT_REG_EMPTY_NAME:
		desc.name = "";
		break;
	case P2PMAP_AT_REG_NULL_DEV:
		desc.dev = NULL;
		break;
	case P2PMAP_AT_REG_NULL_OWNER:
		desc.owner = NULL;
		break;
	case P2PMAP_AT_REG_BAD_BAR:
		desc.bar = PCI_STD_NUM_BARS;
		break;
	case P2PMAP_AT_REG_EMPTY_BAR:
		desc.bar = 1;
		break;
	case P2PMAP_AT_REG_DUP_DEV:
		break;
	case P2PMAP_AT_ATT_NULL_DEV:
		return p2pmap_at_try_attach(NULL, &p2pmap_at_imp_ops,
					    P2PMAP_CAP_REVALIDATE);
	case P2PMAP_AT_ATT_NO_CAPS:
		return p2pmap_at_try_attach(edu, &p2pmap_at_imp_ops, 0);
	case P2PMAP_AT_ATT_BOTH_CAPS:
		return p2pmap_at_try_attach(edu, &p2pmap_at_imp_ops,
					    P2PMAP_CAP_REVALIDATE |
					    P2PMAP_CAP_PIN_ONLY);
	case P2PMAP_AT_ATT_UNKNOWN_CAPS:
		return p2pmap_at_try_attach(edu, &p2pmap_at_imp_ops,
					    P2PMAP_CAP_REVALIDATE | 0x100);
	case P2PMAP_AT_ATT_REVAL_NULL_OPS:
		return p2pmap_at_try_attach(edu, NULL, P2PMAP_CAP_REVALIDATE);
	case P2PMAP_AT_ATT_REVAL_NO_INVAL:
		return p2pmap_at_try_attach(edu, &p2pmap_at_imp_ops_empty,
					    P2PMAP_CAP_REVALIDATE);
	case P2PMAP_AT_ATT_PIN_NULL_OPS:
		return p2pmap_at_try_attach(edu, NULL, P2PMAP_CAP_PIN_ONLY);
	case P2PMAP_AT_BIND_TWICE:
	case P2PMAP_AT_BIND_OTHER:
	case P2PMAP_AT_BIND_FIND:
		return p2pmap_at_bind_case(st, id);
	case P2PMAP_AT_COUNT_FALLBACK:
		p2pmap_provider_count_fallback(st->prov, P2PMAP_REASON_POLICY, 5);
		return 0;
	case P2PMAP_AT_NOBAR_VERDICT:
	case P2PMAP_AT_DMA_MASK_VERDICT:
		return p2pmap_at_verdict_case(st, id, c);
	}
	return p2pmap_at_try_register(&desc);
}

static void p2pmap_at_teardown(struct p2pmap_at *st)
{
	if (st->attach)
		p2pmap_detach(st->attach);
	st->attach = NULL;
	if (st->prov)
		p2pmap_provider_unregister(st->prov);
	st->prov = NULL;
	if (st->mask_set) {
		struct device *edu = &st->importer_pdev->dev;

		device_lock(edu);
		if (!edu->driver && dma_set_mask(edu, st->old_mask))
			pr_err("cannot restore the edu's DMA mask %#llx\n",
			       st->old_mask);
		device_unlock(edu);
	}
	st->mask_set = false;
	pci_dev_put(st->importer_pdev);
	st->importer_pdev = NULL;
	pci_dev_put(st->provider_pdev);
	st->provider_pdev = NULL;
}

/* ---- ioctls ------------------------------------------------------------- */

static int p2pmap_at_sysfs_dir(struct device *dev, char *buf, size_t len)
{
	char *path = kobject_get_path(&dev->kobj, GFP_KERNEL);

	if (!path)
		return -ENOMEM;
	snprintf(buf, len, "/sys%s/p2pmap", path);
	kfree(path);
	return 0;
}

static long p2pmap_at_ioctl_info(struct p2pmap_at_info __user *uarg)
{
	struct p2pmap_at *st = &p2pmap_at_state;
	struct p2pmap_verdict v, v2;
	struct p2pmap_at_info *info;
	struct p2pmap_aperture ap;
	struct pci_dev *ivs;
	long ret = 0;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	info->abi_version = P2PMAP_AT_ABI_VERSION;
	info->distance = -1;

	mutex_lock(&st->lock);
	ivs = st->provider_pdev;
	if (IS_ENABLED(CONFIG_PCI_P2PDMA))
		info->flags |= P2PMAP_AT_F_P2PDMA_KCONFIG;
	if (ivs) {
		info->flags |= P2PMAP_AT_F_HAVE_PROVIDER;
		strscpy(info->provider, pci_name(ivs), sizeof(info->provider));
		info->bar_start = pci_resource_start(ivs, IVSHMEM_SHMEM_BAR);
		info->bar_bus = pci_bus_address(ivs, IVSHMEM_SHMEM_BAR);
		info->bar_len = pci_resource_len(ivs, IVSHMEM_SHMEM_BAR);
		ret = p2pmap_at_sysfs_dir(&ivs->dev, info->sysfs_dir,
					  sizeof(info->sysfs_dir));
	}
	if (st->importer_pdev) {
		info->flags |= P2PMAP_AT_F_HAVE_IMPORTER;
		strscpy(info->importer, pci_name(st->importer_pdev),
			sizeof(info->importer));
	}
	if (st->prov) {
		info->flags |= P2PMAP_AT_F_REGISTERED;
		p2pmap_at_aperture(st->prov, &ap);
		info->ap_total = ap.total;
	}
	if (st->attach) {
		info->flags |= P2PMAP_AT_F_ATTACHED;
		info->dma_mask = st->attach->dma_mask;
	}
	if (st->prov && st->attach) {
		info->verdict_ret = p2pmap_attach_verdict(st->attach, st->prov, &v);
		if (!info->verdict_ret) {
			info->route = v.route;
			info->reason = v.reason;
			info->distance = v.distance;
			info->bus_offset = v.bus_offset;
			info->verdict_same =
				!p2pmap_attach_verdict(st->attach, st->prov, &v2) &&
				v2.route == v.route && v2.reason == v.reason &&
				v2.distance == v.distance &&
				v2.bus_offset == v.bus_offset;
		}
		strscpy(info->reason_name, p2pmap_reason_name(v.reason),
			sizeof(info->reason_name));
	}
	mutex_unlock(&st->lock);

	if (!ret && copy_to_user(uarg, info, sizeof(*info)))
		ret = -EFAULT;
	kfree(info);
	return ret;
}

static long p2pmap_at_ioctl_case(struct p2pmap_at_case __user *uarg)
{
	struct p2pmap_at *st = &p2pmap_at_state;
	struct p2pmap_at_case c;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	c.route = 0;
	c.reason = 0;

	mutex_lock(&st->lock);
	c.result = p2pmap_at_run_case(st, &c);
	mutex_unlock(&st->lock);

	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static long p2pmap_at_ioctl_teardown(void)
{
	struct p2pmap_at *st = &p2pmap_at_state;

	mutex_lock(&st->lock);
	p2pmap_at_teardown(st);
	mutex_unlock(&st->lock);
	return 0;
}

static long p2pmap_at_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case P2PMAP_AT_IOC_TEARDOWN:
		return p2pmap_at_ioctl_teardown();
	case P2PMAP_AT_IOC_INFO:
		return p2pmap_at_ioctl_info((void __user *)arg);
	case P2PMAP_AT_IOC_CASE:
		return p2pmap_at_ioctl_case((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations p2pmap_at_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = p2pmap_at_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice p2pmap_at_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = P2PMAP_AT_DEVNAME,
	.fops = &p2pmap_at_fops,
	.mode = 0600,
};

/* ---- load / unload ------------------------------------------------------ */

static void p2pmap_at_setup(struct p2pmap_at *st)
{
	struct p2pmap_provider_desc desc;
	struct p2pmap_provider *prov;
	struct p2pmap_attach *attach;
	struct device *edu;

	st->provider_pdev = p2pmap_at_find(IVSHMEM_VENDOR_ID,
					   IVSHMEM_PLAIN_DEVICE_ID, provider_name);
	st->importer_pdev = p2pmap_at_find(EDU_VENDOR_ID, EDU_DEVICE_ID,
					   importer_name);
	if (!st->provider_pdev || !st->importer_pdev) {
		pr_notice("no ivshmem-plain (1af4:1110) %s and edu (1234:11e8) %s pair\n",
			  provider_name ?: "", importer_name ?: "");
		return;
	}

	p2pmap_at_desc(&desc, st->provider_pdev);
	prov = p2pmap_provider_register(&desc);
	if (IS_ERR(prov)) {
		pr_err("p2pmap_provider_register(%s): %ld\n",
		       pci_name(st->provider_pdev), PTR_ERR(prov));
		return;
	}
	st->prov = prov;

	edu = &st->importer_pdev->dev;
	device_lock(edu);
	if (!edu->driver) {
		st->old_mask = dma_get_mask(edu);
		if (dma_set_mask(edu, DMA_BIT_MASK(64)))
			pr_err("%s: cannot set a 64-bit DMA mask\n", dev_name(edu));
		else
			st->mask_set = true;
	}
	device_unlock(edu);

	attach = p2pmap_attach(edu, &p2pmap_at_imp_ops, P2PMAP_CAP_REVALIDATE);
	if (IS_ERR(attach)) {
		pr_err("p2pmap_attach(%s): %ld\n", dev_name(edu),
		       PTR_ERR(attach));
		return;
	}
	st->attach = attach;
	pr_info("provider %s, importer %s attached\n",
		pci_name(st->provider_pdev), dev_name(edu));
}

static int __init p2pmap_at_init(void)
{
	struct p2pmap_at *st = &p2pmap_at_state;
	int ret;

	mutex_lock(&st->lock);
	p2pmap_at_setup(st);
	mutex_unlock(&st->lock);

	ret = misc_register(&p2pmap_at_misc);
	if (ret) {
		mutex_lock(&st->lock);
		p2pmap_at_teardown(st);
		mutex_unlock(&st->lock);
	}
	return ret;
}
module_init(p2pmap_at_init);

static void __exit p2pmap_at_exit(void)
{
	struct p2pmap_at *st = &p2pmap_at_state;

	misc_deregister(&p2pmap_at_misc);
	mutex_lock(&st->lock);
	p2pmap_at_teardown(st);
	mutex_unlock(&st->lock);
}
module_exit(p2pmap_at_exit);

MODULE_DESCRIPTION("p2pmap test: provider registry and importer attach verdicts");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(P2PMAP_NS(P2PMAP_INTERNAL));
