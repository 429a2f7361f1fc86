// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU files: KVM_CREATE_VCPU, the mmap'ed kvm_run page, the vCPU ioctls
 * (dispatched to the architecture) and kicks.
 *
 * Lifetime: a vCPU file holds a reference to its VM. vCPUs are freed only
 * when the VM is destroyed, which happens after the last VM and vCPU file
 * is closed, so a vCPU pointer found in vm->vcpus[] stays valid for as
 * long as the caller holds a reference to the VM.
 */
#include <linux/anon_inodes.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "arch_ops.h"
#include "okvm.h"
#include "vcpu.h"

static int okvm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct okvm_vcpu *vcpu = filp->private_data;

	okvm_put_vm(vcpu->vm);
	return 0;
}

static vm_fault_t okvm_vcpu_fault(struct vm_fault *vmf)
{
	struct okvm_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(vcpu->run);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct okvm_vcpu_vm_ops = {
	.fault = okvm_vcpu_fault,
};

static int okvm_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	/* Only the kvm_run page exists. */
	if (vma->vm_pgoff || vma_pages(vma) > 1)
		return -EINVAL;
	vma->vm_ops = &okvm_vcpu_vm_ops;
	return 0;
}

static long okvm_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			    unsigned long arg)
{
	struct okvm_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	/* As KVM: only the VM's own address space may drive its vCPUs. */
	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	switch (ioctl) {
	case KVM_RUN:
		ret = arg ? -EINVAL : okvm_arch_ops.vcpu_run(vcpu);
		break;
	default:
		ret = okvm_arch_ops.vcpu_ioctl(vcpu, ioctl, argp);
		if (ret == -ENOIOCTLCMD)
			ret = -EINVAL;
	}
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static const struct file_operations okvm_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= okvm_vcpu_release,
	.unlocked_ioctl	= okvm_vcpu_ioctl,
	.compat_ioctl	= okvm_vcpu_ioctl,
	.mmap		= okvm_vcpu_mmap,
	.llseek		= noop_llseek,
};

static void okvm_vcpu_free(struct okvm_vcpu *vcpu)
{
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

/* KVM_CREATE_VCPU: returns the new vCPU's file descriptor. */
int okvm_vm_create_vcpu(struct okvm *vm, unsigned long id)
{
	struct okvm_vcpu *vcpu;
	char name[24];
	int i, n, ret;

	if (id >= OKVM_MAX_VCPU_ID)
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run) {
		kfree(vcpu);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->vcpu_id = id;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);

	mutex_lock(&vm->vcpus_lock);
	n = atomic_read(&vm->online_vcpus);
	ret = -EINVAL;
	if (n >= OKVM_MAX_VCPUS)
		goto err_unlock;
	ret = -EEXIST;
	for (i = 0; i < n; i++)
		if (vm->vcpus[i]->vcpu_id == id)
			goto err_unlock;
	vcpu->idx = n;
	ret = okvm_arch_ops.vcpu_create(vcpu);
	if (ret)
		goto err_unlock;

	okvm_get_vm(vm);
	snprintf(name, sizeof(name), "okvm-vcpu:%lu", id);
	ret = anon_inode_getfd(name, &okvm_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		okvm_arch_ops.vcpu_destroy(vcpu);
		mutex_unlock(&vm->vcpus_lock);
		okvm_put_vm(vm);
		okvm_vcpu_free(vcpu);
		return ret;
	}
	vm->vcpus[n] = vcpu;
	/* Publish the entry before the count that makes it visible. */
	atomic_set_release(&vm->online_vcpus, n + 1);
	mutex_unlock(&vm->vcpus_lock);
	return ret;

err_unlock:
	mutex_unlock(&vm->vcpus_lock);
	okvm_vcpu_free(vcpu);
	return ret;
}

/* At VM destruction: no file refers to any vCPU any more. */
void okvm_vm_destroy_vcpus(struct okvm *vm)
{
	int i, n = atomic_read(&vm->online_vcpus);

	for (i = 0; i < n; i++) {
		okvm_arch_ops.vcpu_destroy(vm->vcpus[i]);
		okvm_vcpu_free(vm->vcpus[i]);
		vm->vcpus[i] = NULL;
	}
	atomic_set(&vm->online_vcpus, 0);
}

struct okvm_vcpu *okvm_get_vcpu_by_id(struct okvm *vm, u32 id)
{
	int i, n = atomic_read_acquire(&vm->online_vcpus);

	for (i = 0; i < n; i++)
		if (vm->vcpus[i]->vcpu_id == id)
			return vm->vcpus[i];
	return NULL;
}

static void okvm_vcpu_kick_ipi(void *unused)
{
	/* The interrupt itself made the guest exit. */
}

/*
 * Make @vcpu notice a change: wake it if it blocks, and if it is running
 * guest code on another CPU, interrupt that CPU so the guest exits and the
 * run loop looks at the world again before it re-enters.
 */
void okvm_vcpu_kick(struct okvm_vcpu *vcpu)
{
	int cpu;

	WRITE_ONCE(vcpu->kicked, true);
	/* kicked before cpu: pairs with the entry path's re-check. */
	smp_mb();
	wake_up(&vcpu->wq);
	cpu = READ_ONCE(vcpu->cpu);
	if (cpu >= 0 && cpu != raw_smp_processor_id())
		smp_call_function_single(cpu, okvm_vcpu_kick_ipi, NULL, 0);
}

void okvm_kick_all_vcpus(struct okvm *vm)
{
	int i, n = atomic_read_acquire(&vm->online_vcpus);

	for (i = 0; i < n; i++)
		okvm_vcpu_kick(vm->vcpus[i]);
}
