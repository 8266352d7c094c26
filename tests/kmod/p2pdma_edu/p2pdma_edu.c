// SPDX-License-Identifier: GPL-2.0
/*
 * p2pdma_edu: test module proving that the QEMU "edu" PCI DMA engine can
 * move data into and out of a QEMU "ivshmem-plain" BAR through the kernel's
 * P2PDMA API. The ivshmem-plain BAR2 is registered as (unpublished) p2pmem
 * with pci_p2pdma_add_resource(); a buffer of it is allocated with
 * pci_alloc_p2pmem() and mapped for the edu device with dma_map_sgtable(),
 * which refuses with -EREMOTEIO when the two devices share no upstream
 * bridge or whitelisted host bridge. /dev/p2pdma_edu reports the pairing
 * (INFO) and runs one edu DMA transfer per TRANSFER ioctl, staging the data
 * in the 4 KiB edu buffer and a coherent RAM buffer, so that the test in
 * tests/selftests/p2pdma_edu can check every byte. Without
 * CONFIG_PCI_P2PDMA the module still loads and reports why it cannot work.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <p2pmap_compat.h>

#include "../common/edu_dma.h"
#include "p2pdma_edu_uapi.h"

#define IVSHMEM_VENDOR_ID	0x1af4
#define IVSHMEM_PLAIN_DEVICE_ID	0x1110
#define IVSHMEM_SHMEM_BAR	2

static const char *const p2pdma_edu_reason_kconfig =
	"kernel built without CONFIG_PCI_P2PDMA";
static const char *const p2pdma_edu_reason_distance =
	"pci_p2pdma_distance() < 0: no common upstream bridge or whitelisted host bridge";

/**
 * struct p2pdma_edu - the provider/client pair (one per module)
 * @lock: serialises probe/remove and every ioctl; protects all fields
 * @provider: bound ivshmem-plain device, or NULL
 * @p2pmem_ready: @provider's BAR2 was added as p2pmem
 * @p2p_va: P2PDMA_EDU_P2PMEM_SIZE bytes of @provider p2pmem, or NULL
 * @client: bound edu device, or NULL
 * @edu: @client's DMA engine (tests/kmod/common/edu_dma.h); its
 *	dma_count counts edu DMA commands since load
 */
struct p2pdma_edu {
	struct mutex lock; /* probe/remove/ioctl; guards the rest */
	struct pci_dev *provider;
	bool p2pmem_ready;
	void *p2p_va;
	struct pci_dev *client;
	struct edu_dma edu;
};

static struct p2pdma_edu p2pdma_edu_state = {
	.lock = __MUTEX_INITIALIZER(p2pdma_edu_state.lock),
};

static char *provider_name;
module_param_named(provider, provider_name, charp, 0444);
MODULE_PARM_DESC(provider,
		 "PCI name of the ivshmem-plain provider (default: first found)");

static char *client_name;
module_param_named(client, client_name, charp, 0444);
MODULE_PARM_DESC(client, "PCI name of the edu client (default: first found)");

static bool p2pdma_edu_name_ok(const char *want, struct pci_dev *pdev)
{
	return !want || !*want || !strcmp(want, pci_name(pdev));
}

/* ---- provider: ivshmem-plain -------------------------------------------- */

static int p2pdma_edu_provider_probe(struct pci_dev *pdev,
				     const struct pci_device_id *id)
{
	struct p2pdma_edu *st = &p2pdma_edu_state;
	int ret;

	if (!p2pdma_edu_name_ok(provider_name, pdev))
		return -ENODEV;

	mutex_lock(&st->lock);
	if (st->provider) {
		pci_dbg(pdev, "provider %s already bound\n",
			pci_name(st->provider));
		ret = -ENODEV;
		goto out;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		goto out;

	if (!(pci_resource_flags(pdev, IVSHMEM_SHMEM_BAR) & IORESOURCE_MEM) ||
	    !pci_resource_len(pdev, IVSHMEM_SHMEM_BAR)) {
		pci_err(pdev, "BAR%d is not a memory BAR\n", IVSHMEM_SHMEM_BAR);
		ret = -ENODEV;
		goto out;
	}

	if (IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		/* devm-managed: undone after remove() */
		ret = pci_p2pdma_add_resource(pdev, IVSHMEM_SHMEM_BAR, 0, 0);
		if (ret) {
			pci_err(pdev, "pci_p2pdma_add_resource(BAR%d): %d\n",
				IVSHMEM_SHMEM_BAR, ret);
			goto out;
		}
		st->p2pmem_ready = true;
	}

	st->provider = pdev;
	pci_info(pdev, "p2pdma_edu provider, BAR%d %pR%s\n", IVSHMEM_SHMEM_BAR,
		 &pdev->resource[IVSHMEM_SHMEM_BAR],
		 st->p2pmem_ready ? "" : " (no P2PDMA in this kernel)");
out:
	mutex_unlock(&st->lock);
	return ret;
}

static void p2pdma_edu_provider_remove(struct pci_dev *pdev)
{
	struct p2pdma_edu *st = &p2pdma_edu_state;

	mutex_lock(&st->lock);
	if (st->provider == pdev) {
		/* must precede the devm teardown of the pagemap */
		if (st->p2p_va)
			pci_free_p2pmem(pdev, st->p2p_va,
					P2PDMA_EDU_P2PMEM_SIZE);
		st->p2p_va = NULL;
		st->p2pmem_ready = false;
		st->provider = NULL;
	}
	mutex_unlock(&st->lock);
}

/* ---- client: edu -------------------------------------------------------- */

static int p2pdma_edu_client_probe(struct pci_dev *pdev,
				   const struct pci_device_id *id)
{
	struct p2pdma_edu *st = &p2pdma_edu_state;
	int ret;

	if (!p2pdma_edu_name_ok(client_name, pdev))
		return -ENODEV;

	mutex_lock(&st->lock);
	if (st->client) {
		pci_dbg(pdev, "client %s already bound\n",
			pci_name(st->client));
		ret = -ENODEV;
		goto out;
	}

	ret = edu_dma_probe(&st->edu, pdev, KBUILD_MODNAME);
	if (ret)
		goto out;
	st->client = pdev;
	pci_info(pdev, "p2pdma_edu client, edu id %#x\n",
		 readl(st->edu.regs + EDU_REG_ID));
out:
	mutex_unlock(&st->lock);
	return ret;
}

static void p2pdma_edu_client_remove(struct pci_dev *pdev)
{
	struct p2pdma_edu *st = &p2pdma_edu_state;

	mutex_lock(&st->lock);
	if (st->client == pdev) {
		/* stops a wedged DMA before devm frees the coherent buffer */
		edu_dma_remove(&st->edu);
		st->client = NULL;
	}
	mutex_unlock(&st->lock);
}

/*
 * Bindings are deliberately not exported with MODULE_DEVICE_TABLE: this test
 * module must never be autoloaded for an ivshmem device on a real machine.
 */
static const struct pci_device_id p2pdma_edu_provider_ids[] = {
	{ PCI_DEVICE(IVSHMEM_VENDOR_ID, IVSHMEM_PLAIN_DEVICE_ID) },
	{ }
};

static const struct pci_device_id p2pdma_edu_client_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};

static struct pci_driver p2pdma_edu_provider_driver = {
	.name = KBUILD_MODNAME "_provider",
	.id_table = p2pdma_edu_provider_ids,
	.probe = p2pdma_edu_provider_probe,
	.remove = p2pdma_edu_provider_remove,
};

static struct pci_driver p2pdma_edu_client_driver = {
	.name = KBUILD_MODNAME "_client",
	.id_table = p2pdma_edu_client_ids,
	.probe = p2pdma_edu_client_probe,
	.remove = p2pdma_edu_client_remove,
};

/* ---- DMA helpers (all with @lock held) ---------------------------------- */

/* 0 if a transfer may be attempted, else an errno and a reason. */
static int p2pdma_edu_usable(struct p2pdma_edu *st, const char **reason)
{
	lockdep_assert_held(&st->lock);

	if (!IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		*reason = p2pdma_edu_reason_kconfig;
		return -EOPNOTSUPP;
	}
	if (!st->provider || !st->p2pmem_ready) {
		*reason = "no ivshmem-plain (1af4:1110) provider bound";
		return -ENODEV;
	}
	if (!st->client) {
		*reason = "no edu (1234:11e8) client bound";
		return -ENODEV;
	}
	if (st->edu.wedged) {
		*reason = "an edu DMA timed out; rebind the edu device";
		return -EIO;
	}
	*reason = "";
	return 0;
}

static int p2pdma_edu_get_p2pmem(struct p2pdma_edu *st)
{
	lockdep_assert_held(&st->lock);

	if (!st->p2p_va)
		st->p2p_va = pci_alloc_p2pmem(st->provider,
					      P2PDMA_EDU_P2PMEM_SIZE);
	return st->p2p_va ? 0 : -ENOMEM;
}

/* Map the first @len bytes of p2pmem for the client. */
static int p2pdma_edu_map(struct p2pdma_edu *st, struct sg_table *sgt,
			  size_t len, enum dma_data_direction dir,
			  u32 *map_type)
{
	int ret;

	lockdep_assert_held(&st->lock);

	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret) {
		*map_type = P2PDMA_EDU_MAP_ERROR;
		return ret;
	}
	sg_set_page(sgt->sgl, virt_to_page(st->p2p_va), len,
		    offset_in_page(st->p2p_va));

	ret = dma_map_sgtable(&st->client->dev, sgt, dir, 0);
	if (ret) {
		*map_type = ret == -EREMOTEIO ? P2PDMA_EDU_MAP_NOT_SUPPORTED :
						P2PDMA_EDU_MAP_ERROR;
		sg_free_table(sgt);
		return ret;
	}

	*map_type = sg_dma_is_bus_address(sgt->sgl) ?
		    P2PDMA_EDU_MAP_BUS_ADDR : P2PDMA_EDU_MAP_THRU_HOST_BRIDGE;
	if (sgt->nents != 1 || sg_dma_len(sgt->sgl) < len) {
		pci_err(st->client, "p2pmem mapped as %u segments\n",
			sgt->nents);
		dma_unmap_sgtable(&st->client->dev, sgt, dir, 0);
		sg_free_table(sgt);
		*map_type = P2PDMA_EDU_MAP_ERROR;
		return -EIO;
	}
	return 0;
}

static void p2pdma_edu_unmap(struct p2pdma_edu *st, struct sg_table *sgt,
			     enum dma_data_direction dir)
{
	dma_unmap_sgtable(&st->client->dev, sgt, dir, 0);
	sg_free_table(sgt);
}

/* One edu DMA command; polls for completion, never spins forever. */
static int p2pdma_edu_dma(struct p2pdma_edu *st, u64 src, u64 dst, u32 count,
			  u32 cmd)
{
	lockdep_assert_held(&st->lock);

	return edu_dma_cmd(&st->edu, src, dst, count, cmd);
}

static u32 p2pdma_edu_count_not_poison(const u8 *p, size_t len)
{
	u32 n = 0;

	while (len--)
		n += *p++ != P2PDMA_EDU_POISON;
	return n;
}

/* buf -> coherent RAM -> edu buffer -> p2pmem; CPU reads p2pmem back. */
static int p2pdma_edu_to_bar(struct p2pdma_edu *st,
			     struct p2pdma_edu_transfer *x, u8 *buf, u64 bus)
{
	u8 *p2p = st->p2p_va;
	int ret;

	memcpy(st->edu.coh, buf, x->length);
	memset(p2p, P2PDMA_EDU_POISON, P2PDMA_EDU_P2PMEM_SIZE);

	ret = p2pdma_edu_dma(st, st->edu.coh_dma, EDU_DMA_BUF_ADDR, x->length,
			     0);
	if (ret)
		return ret;
	ret = p2pdma_edu_dma(st, EDU_DMA_BUF_ADDR, bus, x->length,
			     EDU_DMA_CMD_TO_PCI);
	if (ret)
		return ret;

	memcpy(buf, p2p + x->offset, x->length);
	x->guard_errors =
		p2pdma_edu_count_not_poison(p2p, x->offset) +
		p2pdma_edu_count_not_poison(p2p + x->offset + x->length,
					    P2PDMA_EDU_P2PMEM_SIZE -
					    x->offset - x->length);
	return 0;
}

/* CPU fills p2pmem (unless NO_CPU_FILL) -> edu buffer -> coherent RAM. */
static int p2pdma_edu_from_bar(struct p2pdma_edu *st,
			       struct p2pdma_edu_transfer *x, u8 *buf, u64 bus)
{
	u8 *coh = st->edu.coh;
	int ret;

	if (!(x->flags & P2PDMA_EDU_XFER_F_NO_CPU_FILL))
		memcpy((u8 *)st->p2p_va + x->offset, buf, x->length);
	memset(coh, P2PDMA_EDU_POISON, EDU_DMA_BUF_SIZE);

	ret = p2pdma_edu_dma(st, bus, EDU_DMA_BUF_ADDR, x->length, 0);
	if (ret)
		return ret;
	ret = p2pdma_edu_dma(st, EDU_DMA_BUF_ADDR, st->edu.coh_dma, x->length,
			     EDU_DMA_CMD_TO_PCI);
	if (ret)
		return ret;

	memcpy(buf, coh, x->length);
	x->guard_errors = p2pdma_edu_count_not_poison(coh + x->length,
						      EDU_DMA_BUF_SIZE -
						      x->length);
	return 0;
}

static int p2pdma_edu_do_transfer(struct p2pdma_edu *st,
				  struct p2pdma_edu_transfer *x, u8 *buf)
{
	bool to_bar = x->direction == P2PDMA_EDU_DIR_TO_BAR;
	enum dma_data_direction dir = to_bar ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	const char *reason;
	struct sg_table sgt;
	u64 bus;
	int ret;

	lockdep_assert_held(&st->lock);

	ret = p2pdma_edu_usable(st, &reason);
	if (ret) {
		pr_warn_ratelimited("transfer refused: %s\n", reason);
		return ret;
	}

	ret = p2pdma_edu_get_p2pmem(st);
	if (ret) {
		dev_warn_ratelimited(&st->provider->dev,
				     "cannot allocate %u bytes of p2pmem\n",
				     P2PDMA_EDU_P2PMEM_SIZE);
		return ret;
	}

	ret = p2pdma_edu_map(st, &sgt, P2PDMA_EDU_P2PMEM_SIZE, dir,
			     &x->map_type);
	if (ret) {
		dev_warn_ratelimited(&st->client->dev,
				     "p2pmem of %s refused for DMA (%d): %s\n",
				     pci_name(st->provider), ret,
				     ret == -EREMOTEIO ?
				     "no common upstream bridge or whitelisted host bridge" :
				     "mapping failed");
		return ret;
	}

	bus = sg_dma_address(sgt.sgl) + x->offset;
	x->dma_addr = bus;
	if (to_bar)
		ret = p2pdma_edu_to_bar(st, x, buf, bus);
	else
		ret = p2pdma_edu_from_bar(st, x, buf, bus);

	p2pdma_edu_unmap(st, &sgt, dir);
	return ret;
}

/* ---- ioctls ------------------------------------------------------------- */

static long p2pdma_edu_ioctl_info(struct p2pdma_edu_info __user *uarg)
{
	struct p2pdma_edu *st = &p2pdma_edu_state;
	struct p2pdma_edu_info info;
	const char *reason;
	struct sg_table sgt;
	int ret;

	memset(&info, 0, sizeof(info));
	info.abi_version = P2PDMA_EDU_ABI_VERSION;
	info.distance = -1;
	info.map_type = P2PDMA_EDU_MAP_UNKNOWN;
	info.p2pmem_size = P2PDMA_EDU_P2PMEM_SIZE;
	info.max_len = P2PDMA_EDU_MAX_LEN;

	mutex_lock(&st->lock);
	if (IS_ENABLED(CONFIG_PCI_P2PDMA))
		info.flags |= P2PDMA_EDU_INFO_P2PDMA_KCONFIG;
	if (st->provider) {
		info.flags |= P2PDMA_EDU_INFO_HAVE_PROVIDER;
		strscpy(info.provider, pci_name(st->provider),
			sizeof(info.provider));
		info.provider_bar_size = pci_resource_len(st->provider,
							  IVSHMEM_SHMEM_BAR);
	}
	if (st->p2pmem_ready)
		info.flags |= P2PDMA_EDU_INFO_P2PMEM;
	if (st->client) {
		info.flags |= P2PDMA_EDU_INFO_HAVE_CLIENT;
		strscpy(info.client, pci_name(st->client), sizeof(info.client));
	}
	if (st->edu.wedged)
		info.flags |= P2PDMA_EDU_INFO_WEDGED;

	if (!p2pdma_edu_usable(st, &reason)) {
		info.distance = pci_p2pdma_distance(st->provider,
						    &st->client->dev, false);
		ret = p2pdma_edu_get_p2pmem(st);
		if (!ret) {
			ret = p2pdma_edu_map(st, &sgt, PAGE_SIZE,
					     DMA_BIDIRECTIONAL,
					     &info.map_type);
			if (!ret)
				p2pdma_edu_unmap(st, &sgt, DMA_BIDIRECTIONAL);
		} else {
			info.map_type = P2PDMA_EDU_MAP_ERROR;
			reason = "cannot allocate p2pmem";
		}
		info.map_error = ret;
		if (info.distance < 0)
			reason = p2pdma_edu_reason_distance;
	}
	strscpy(info.reason, reason, sizeof(info.reason));
	info.dma_count = st->edu.dma_count;
	mutex_unlock(&st->lock);

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int p2pdma_edu_check_transfer(const struct p2pdma_edu_transfer *x)
{
	if (x->direction != P2PDMA_EDU_DIR_TO_BAR &&
	    x->direction != P2PDMA_EDU_DIR_FROM_BAR)
		return -EINVAL;
	if (x->flags & ~P2PDMA_EDU_XFER_FLAGS_ALL)
		return -EINVAL;
	if ((x->flags & P2PDMA_EDU_XFER_F_NO_CPU_FILL) &&
	    x->direction != P2PDMA_EDU_DIR_FROM_BAR)
		return -EINVAL;
	if (!x->length || x->length > P2PDMA_EDU_MAX_LEN)
		return -EINVAL;
	if (x->offset > P2PDMA_EDU_P2PMEM_SIZE ||
	    x->length > P2PDMA_EDU_P2PMEM_SIZE - x->offset)
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(x->buf), x->length))
		return -EFAULT;
	return 0;
}

static long p2pdma_edu_ioctl_transfer(struct p2pdma_edu_transfer __user *uarg)
{
	struct p2pdma_edu *st = &p2pdma_edu_state;
	struct p2pdma_edu_transfer x;
	void __user *ubuf;
	u8 *buf;
	int ret;

	if (copy_from_user(&x, uarg, sizeof(x)))
		return -EFAULT;
	ret = p2pdma_edu_check_transfer(&x);
	if (ret)
		return ret;
	x.dma_addr = 0;
	x.map_type = P2PDMA_EDU_MAP_UNKNOWN;
	x.guard_errors = 0;

	ubuf = u64_to_user_ptr(x.buf);
	buf = kzalloc(x.length, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	if (!(x.flags & P2PDMA_EDU_XFER_F_NO_CPU_FILL) &&
	    copy_from_user(buf, ubuf, x.length)) {
		ret = -EFAULT;
		goto out;
	}

	mutex_lock(&st->lock);
	ret = p2pdma_edu_do_transfer(st, &x, buf);
	mutex_unlock(&st->lock);
	if (ret)
		goto out;

	if (copy_to_user(ubuf, buf, x.length) ||
	    copy_to_user(uarg, &x, sizeof(x)))
		ret = -EFAULT;
out:
	kfree(buf);
	return ret;
}

static long p2pdma_edu_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	switch (cmd) {
	case P2PDMA_EDU_IOC_INFO:
		return p2pdma_edu_ioctl_info((void __user *)arg);
	case P2PDMA_EDU_IOC_TRANSFER:
		return p2pdma_edu_ioctl_transfer((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations p2pdma_edu_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.unlocked_ioctl = p2pdma_edu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice p2pdma_edu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = P2PDMA_EDU_DEVNAME,
	.fops = &p2pdma_edu_fops,
	.mode = 0600,
};

static int __init p2pdma_edu_init(void)
{
	int ret;

	if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
		pr_notice("P2PDMA unavailable: %s; transfers fail with -EOPNOTSUPP\n",
			  p2pdma_edu_reason_kconfig);

	ret = pci_register_driver(&p2pdma_edu_provider_driver);
	if (ret)
		return ret;
	ret = pci_register_driver(&p2pdma_edu_client_driver);
	if (ret)
		goto err_provider;
	ret = misc_register(&p2pdma_edu_misc);
	if (ret)
		goto err_client;
	return 0;

err_client:
	pci_unregister_driver(&p2pdma_edu_client_driver);
err_provider:
	pci_unregister_driver(&p2pdma_edu_provider_driver);
	return ret;
}
module_init(p2pdma_edu_init);

static void __exit p2pdma_edu_exit(void)
{
	misc_deregister(&p2pdma_edu_misc);
	pci_unregister_driver(&p2pdma_edu_client_driver);
	pci_unregister_driver(&p2pdma_edu_provider_driver);
}
module_exit(p2pdma_edu_exit);

MODULE_DESCRIPTION("p2pmap test: edu DMA to/from ivshmem BAR2 through P2PDMA");
MODULE_LICENSE("GPL");
