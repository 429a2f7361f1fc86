/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What okvm needs from kernel headers newer than the oldest kernel it
 * builds for (6.1). Each definition has the value of the newer kernels'
 * uapi, so the ABI is the same whichever headers okvm was built with.
 */
#ifndef OKVM_COMPAT_H
#define OKVM_COMPAT_H

#include <linux/kvm.h>

#ifndef KVM_SET_USER_MEMORY_REGION2	/* Linux 6.8 */
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif

#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2	231
#endif

#endif /* OKVM_COMPAT_H */
