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

#include "arch_ops.h"
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

	mmdrop(vm->mm);
	kfree(vm);
}

static void okvm_put_vm(struct okvm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		okvm_destroy_vm(vm);
}

static int okvm_vm_release(struct inode *inode, struct file *filp)
{
	okvm_put_vm(filp->private_data);
	return 0;
}

static long okvm_vm_ioctl(struct file *filp, unsigned int ioctl,
			  unsigned long arg)
{
	struct okvm *vm = filp->private_data;

	/* As in KVM, only the address space that created the VM may use it. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CHECK_EXTENSION:
		return okvm_check_extension(vm, (long)arg);
	default:
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

	ret = okvm_arch_ops.vm_type_check(type);
	if (ret)
		return ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;

	refcount_set(&vm->users, 1);
	vm->type = type;
	mmgrab(current->mm);
	vm->mm = current->mm;

	mutex_lock(&okvm_vm_lock);
	list_add_tail(&vm->list, &okvm_vm_list);
	mutex_unlock(&okvm_vm_lock);

	/* On success the file owns the initial reference. */
	ret = anon_inode_getfd("okvm-vm", &okvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (ret < 0)
		okvm_put_vm(vm);
	return ret;
}
