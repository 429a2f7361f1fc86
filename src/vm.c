// SPDX-License-Identifier: GPL-2.0
/*
 * okvm VM lifetime and VM file ioctls.
 */
#include <linux/anon_inodes.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>

#include "arch_ops.h"
#include "mmu.h"
#include "okvm.h"

/*
 * All live VMs. okvm_vm_lock guards okvm_vm_list and the list member of
 * every struct okvm on it; take it only to add or remove a VM or to walk
 * the list, never while holding another okvm lock.
 */
static DEFINE_MUTEX(okvm_vm_lock);
static LIST_HEAD(okvm_vm_list);

static void okvm_destroy_vm(struct okvm *vm)
{
	mutex_lock(&okvm_vm_lock);
	list_del(&vm->list);
	mutex_unlock(&okvm_vm_lock);

	okvm_test_destroy_vm(vm);
	okvm_vm_destroy_vcpus(vm);
	okvm_arch_ops.vm_destroy(vm);
	okvm_notifier_unregister(vm);
	okvm_mmu_destroy(vm);
	okvm_memslots_destroy(vm);
	cleanup_srcu_struct(&vm->srcu);
	mmdrop(vm->mm);
	kfree(vm);
}

void okvm_get_vm(struct okvm *vm)
{
	refcount_inc(&vm->users);
}

void okvm_put_vm(struct okvm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		okvm_destroy_vm(vm);
}

static int okvm_vm_release(struct inode *inode, struct file *filp)
{
	okvm_put_vm(filp->private_data);
	return 0;
}

static int okvm_vm_ioctl_set_memory_region(struct okvm *vm, unsigned int ioctl,
					   void __user *argp)
{
	struct kvm_userspace_memory_region2 mem = {};
	size_t size = sizeof(mem);
	int ret;

	/* The first ioctl's structure is the head of the second one's. */
	BUILD_BUG_ON(offsetof(struct kvm_userspace_memory_region2,
			      userspace_addr) !=
		     offsetof(struct kvm_userspace_memory_region,
			      userspace_addr));
	if (ioctl == KVM_SET_USER_MEMORY_REGION)
		size = sizeof(struct kvm_userspace_memory_region);
	if (copy_from_user(&mem, argp, size))
		return -EFAULT;

	mutex_lock(&vm->slots_lock);
	ret = okvm_set_memory_region(vm, &mem);
	mutex_unlock(&vm->slots_lock);
	return ret;
}

static int okvm_vm_enable_cap(struct okvm *vm, void __user *argp)
{
	struct kvm_enable_cap cap;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;

	switch (cap.cap) {
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		if (cap.args[0] & ~KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)
			return -EINVAL;
		mutex_lock(&vm->slots_lock);
		vm->manual_dirty_log_protect = cap.args[0];
		mutex_unlock(&vm->slots_lock);
		return 0;
	default:
		return okvm_arch_ops.vm_enable_cap(vm, &cap);
	}
}

static long okvm_vm_ioctl(struct file *filp, unsigned int ioctl,
			  unsigned long arg)
{
	struct okvm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	/* As in KVM, only the address space that created the VM may use it. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CHECK_EXTENSION:
		return okvm_check_extension(vm, (long)arg);
	case KVM_SET_USER_MEMORY_REGION:
	case KVM_SET_USER_MEMORY_REGION2:
		return okvm_vm_ioctl_set_memory_region(vm, ioctl, argp);
	case KVM_GET_DIRTY_LOG:
	case KVM_CLEAR_DIRTY_LOG:
		return okvm_dirty_log_ioctl(vm, ioctl, argp);
	case KVM_ENABLE_CAP:
		return okvm_vm_enable_cap(vm, argp);
	case KVM_CREATE_VCPU:
		return okvm_vm_create_vcpu(vm, arg);
	default:
		ret = okvm_arch_ops.vm_ioctl(vm, ioctl, argp);
		if (ret != -ENOIOCTLCMD)
			return ret;
		ret = okvm_test_ioctl(vm, ioctl, argp);
		if (ret != -ENOIOCTLCMD)
			return ret;
		return okvm_arch_ops.unknown_vm_ioctl_errno;
	}
}

/*
 * .owner makes anon_inode_getfd() take a module reference for the VM file,
 * so rmmod is refused while any VM file is open, and the VM file does not
 * depend on the /dev file it was created from staying open.
 */
static const struct file_operations okvm_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= okvm_vm_release,
	.unlocked_ioctl	= okvm_vm_ioctl,
	.compat_ioctl	= okvm_vm_ioctl,
	.llseek		= noop_llseek,
};

int okvm_create_vm(unsigned long type)
{
	struct okvm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;

	ret = okvm_arch_ops.vm_init(vm, type);
	if (ret)
		goto err_free;
	ret = init_srcu_struct(&vm->srcu);
	if (ret)
		goto err_free;
	mutex_init(&vm->slots_lock);
	spin_lock_init(&vm->pfncache_list_lock);
	mutex_init(&vm->vcpus_lock);
	INIT_LIST_HEAD(&vm->pfncache_list);
	okvm_memslots_init(vm);
	ret = okvm_mmu_init(vm);
	if (ret)
		goto err_srcu;

	refcount_set(&vm->users, 1);
	vm->type = type;
	mmgrab(current->mm);
	vm->mm = current->mm;
	ret = okvm_notifier_register(vm);
	if (ret)
		goto err_mm;

	mutex_lock(&okvm_vm_lock);
	list_add_tail(&vm->list, &okvm_vm_list);
	mutex_unlock(&okvm_vm_lock);

	/* On success the file owns the initial reference. */
	ret = anon_inode_getfd("okvm-vm", &okvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		okvm_put_vm(vm);
	return ret;

err_mm:
	mmdrop(vm->mm);
	okvm_mmu_destroy(vm);
err_srcu:
	cleanup_srcu_struct(&vm->srcu);
err_free:
	kfree(vm);
	return ret;
}
