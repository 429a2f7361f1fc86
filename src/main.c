// SPDX-License-Identifier: GPL-2.0
/*
 * okvm module entry: load-time checks, the /dev/okvm and /dev/kvm misc
 * devices and the system ioctls issued on them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/okvm.h>

#include "arch_ops.h"
#include "okvm.h"

bool okvm_testing;
module_param_named(testing, okvm_testing, bool, 0444);
MODULE_PARM_DESC(testing,
		 "Allow the OKVM_TEST_* VM ioctls of the selftests (default: N)");

static bool kvm_alias = true;
module_param(kvm_alias, bool, 0444);
MODULE_PARM_DESC(kvm_alias,
		 "Also provide /dev/kvm when its minor is free (default: Y)");

int okvm_check_extension(struct okvm *vm, long cap)
{
	/*
	 * The VM ioctl gives the same answer as the system ioctl for now;
	 * @vm is there for answers that will depend on the VM later.
	 */
	switch (cap) {
	case KVM_CAP_CHECK_EXTENSION_VM:
		/* KVM_CHECK_EXTENSION is accepted on VM file descriptors. */
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_USER_MEMORY2:
	case KVM_CAP_READONLY_MEM:
	/* The MMU notifier keeps guest mappings in sync with the host's. */
	case KVM_CAP_SYNC_MMU:
		return 1;
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		/* KVM_DIRTY_LOG_INITIALLY_SET is not supported. */
		return KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
	case KVM_CAP_NR_MEMSLOTS:
		return OKVM_USER_MEM_SLOTS;
	case KVM_CAP_MULTI_ADDRESS_SPACE:
		return OKVM_ADDRESS_SPACE_NUM;
	default:
		return okvm_arch_ops.check_extension(cap);
	}
}

static long okvm_dev_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
#ifdef OKVM_MUTATE_API_VERSION
		/* Mutation: a wrong API version must fail the selftests. */
		return KVM_API_VERSION - 1;
#endif
		return KVM_API_VERSION;
	case KVM_CREATE_VM:
		return okvm_create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return okvm_check_extension(NULL, (long)arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return PAGE_SIZE;
	default:
		/* KVM answers -EINVAL here on both arm64 and x86. */
		return -EINVAL;
	}
}

/*
 * .owner makes misc_open() take a module reference for every open file, so
 * rmmod is refused while any /dev/okvm or /dev/kvm file is open.
 */
static const struct file_operations okvm_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= okvm_dev_ioctl,
	.compat_ioctl	= okvm_dev_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice okvm_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "okvm",
	.fops	= &okvm_dev_fops,
	.mode	= 0660,
};

static struct miscdevice okvm_kvm_dev = {
	.minor	= KVM_MINOR,
	.name	= "kvm",
	.fops	= &okvm_dev_fops,
	.mode	= 0660,
};

/*
 * Used instead of okvm_kvm_dev when the alias is off but the architecture
 * still needs to know whether the KVM minor is taken. It is registered and
 * removed again at once, under a name that is not "kvm".
 */
static struct miscdevice okvm_kvm_probe_dev = {
	.minor	= KVM_MINOR,
	.name	= "okvm-kvm-probe",
	.fops	= &okvm_dev_fops,
	.mode	= 0600,
};

/* Whether okvm_kvm_dev is registered; written only at init. */
static bool okvm_kvm_dev_registered;

/*
 * Take the KVM minor for /dev/kvm (or just probe it). Returns 0 when okvm
 * can go on, with or without the alias, or a negative errno.
 */
static int okvm_setup_kvm_minor(void)
{
	struct miscdevice *dev;
	int ret;

	if (kvm_alias)
		dev = &okvm_kvm_dev;
	else if (okvm_arch_ops.kvm_minor_probe)
		dev = &okvm_kvm_probe_dev;
	else
		return 0;

	ret = misc_register(dev);
	if (ret == -EBUSY)
		return okvm_arch_ops.kvm_minor_busy();
	if (ret)
		return ret;

	if (dev == &okvm_kvm_dev)
		okvm_kvm_dev_registered = true;
	else
		misc_deregister(dev);
	return 0;
}

static int __init okvm_init(void)
{
	int ret;

	BUILD_BUG_ON(OKVM_API_VERSION != KVM_API_VERSION);

#ifdef OKVM_MUTATE_INIT_WARN
	/* Mutation: the harness must judge a WARN in the kernel log a failure. */
	WARN_ON(1);
#endif
	ret = okvm_arch_ops.hardware_check();
	if (ret)
		return ret;

	ret = okvm_setup_kvm_minor();
	if (ret)
		return ret;

	ret = misc_register(&okvm_dev);
	if (ret) {
		pr_err("cannot register /dev/okvm: %d\n", ret);
		goto err_kvm_dev;
	}

	pr_info("%s host ready: /dev/okvm%s\n", okvm_arch_ops.name,
		okvm_kvm_dev_registered ? " and /dev/kvm" : "");
	return 0;

err_kvm_dev:
	if (okvm_kvm_dev_registered)
		misc_deregister(&okvm_kvm_dev);
	okvm_kvm_dev_registered = false;
	return ret;
}

static void __exit okvm_exit(void)
{
	/*
	 * No file can be open here: every /dev and VM file pins the module,
	 * so there are no VMs left either.
	 */
	misc_deregister(&okvm_dev);
	if (okvm_kvm_dev_registered)
		misc_deregister(&okvm_kvm_dev);
}

module_init(okvm_init);
module_exit(okvm_exit);

MODULE_DESCRIPTION("okvm: a KVM-compatible hypervisor core");
MODULE_LICENSE("GPL");
