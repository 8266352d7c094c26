// SPDX-License-Identifier: GPL-2.0
/*
 * p2pgpu shared virtual memory entry points for kernels without
 * CONFIG_DEVICE_PRIVATE (or without CONFIG_HMM_MIRROR), such as Debian's
 * stock kernel: the device memory cannot hold migrated process memory. The
 * feature is reported as unavailable, with the reason, at probe, in sysfs
 * (p2pgpu_svm/device_private) and by DRM_IOCTL_P2PGPU_SVM_INFO; the other
 * SVM ioctls fail with -EOPNOTSUPP and say why. Everything else works.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/pci.h>
#include <linux/sysfs.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "p2pgpu.h"
#include "p2pgpu_drm.h"

#define P2PGPU_SVM_OFF_REASON	"unavailable (CONFIG_DEVICE_PRIVATE off)"

static ssize_t device_private_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, P2PGPU_SVM_OFF_REASON "\n");
}
static DEVICE_ATTR_RO(device_private);

static struct attribute *p2pgpu_svm_off_attrs[] = {
	&dev_attr_device_private.attr,
	NULL
};

static const struct attribute_group p2pgpu_svm_off_group = {
	.name = "p2pgpu_svm",
	.attrs = p2pgpu_svm_off_attrs,
};

static void p2pgpu_svm_off_release(void *data)
{
	struct p2pgpu_device *gdev = data;

	device_remove_group(&gdev->pdev->dev, &p2pgpu_svm_off_group);
}

int p2pgpu_devmem_init(struct p2pgpu_device *gdev)
{
	int ret;

	ret = device_add_group(&gdev->pdev->dev, &p2pgpu_svm_off_group);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(&gdev->pdev->dev, p2pgpu_svm_off_release,
				       gdev);
	if (ret)
		return ret;
	pci_info(gdev->pdev, "device_private: " P2PGPU_SVM_OFF_REASON "\n");
	return 0;
}

u64 p2pgpu_devmem_used(struct p2pgpu_device *gdev)
{
	return 0;
}

/* Never called: no device-private pagemap is added to p2pmap. */
int p2pgpu_devmem_p2p_map_pages(struct p2pmap_provider *prov,
				struct p2pmap_map_req *req)
{
	return -EOPNOTSUPP;
}

void p2pgpu_svm_postclose(struct drm_device *drm, struct drm_file *file)
{
}

int p2pgpu_ioctl_svm_info(struct drm_device *drm, void *data,
			  struct drm_file *file)
{
	struct drm_p2pgpu_svm_info *args = data;

	memset(args, 0, sizeof(*args));
	args->pages_total = to_p2pgpu(drm)->vram_pages;
	return 0;
}

static int p2pgpu_svm_off(struct drm_device *drm, const char *what)
{
	p2pgpu_reject(to_p2pgpu(drm), "%s: shared virtual memory "
		      P2PGPU_SVM_OFF_REASON "\n", what);
	return -EOPNOTSUPP;
}

int p2pgpu_ioctl_svm_migrate(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	return p2pgpu_svm_off(drm, "SVM_MIGRATE");
}

int p2pgpu_ioctl_svm_access(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	return p2pgpu_svm_off(drm, "SVM_ACCESS");
}

int p2pgpu_ioctl_svm_snapshot(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	return p2pgpu_svm_off(drm, "SVM_SNAPSHOT");
}
