/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * okvm userspace ABI additions.
 *
 * okvm implements the KVM ioctl ABI: every ioctl number, structure and
 * capability number comes from <linux/kvm.h>. This header only holds what
 * okvm adds on top of that.
 */
#ifndef _UAPI_LINUX_OKVM_H
#define _UAPI_LINUX_OKVM_H

#include <linux/ioctl.h>
#include <linux/kvm.h>
#include <linux/types.h>

/*
 * KVM ABI that okvm implements but that kernel headers older than Linux
 * 6.8 (okvm builds for 6.1) do not have, with upstream's numbers and
 * layout, so okvm and its users agree whatever headers they see.
 */
#ifndef KVM_SET_USER_MEMORY_REGION2
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

#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD	(1UL << 2)
#endif

/* The same as KVM's, so that existing KVM users accept okvm. */
#define OKVM_API_VERSION	12

/*
 * The test interface: VM ioctls that let the selftests look inside okvm's
 * memory core before vCPUs exist. They are compiled in, but answer -EPERM
 * unless okvm was loaded with the module parameter testing=1. They use
 * KVM's ioctl type with numbers from 0xf0 up, which KVM does not use.
 */
#define OKVMIO			0xAE

/* OKVM_TEST_MEMSLOT_LOOKUP: which memslot covers an address right now. */
struct okvm_test_memslot {
	__u64 addr;		/* in: a GPA, or an HVA with OKVM_LOOKUP_HVA */
	__u32 lookup;		/* in: OKVM_LOOKUP_GPA or OKVM_LOOKUP_HVA */
	__u32 as_id;		/* in: address space */
	__u32 slot;		/* out: the slot's id, as in the memory region */
	__u32 flags;		/* out: the slot's KVM_MEM_* flags */
	__u64 guest_phys_addr;	/* out */
	__u64 memory_size;	/* out */
	__u64 userspace_addr;	/* out */
	__u64 generation;	/* out: generation of the memslot set searched */
};

#define OKVM_LOOKUP_GPA		0
#define OKVM_LOOKUP_HVA		1

/* Returns 0 and fills the out fields, or -ENOENT if no slot covers addr. */
#define OKVM_TEST_MEMSLOT_LOOKUP _IOWR(OKVMIO, 0xf0, struct okvm_test_memslot)

/*
 * OKVM_TEST_FAIL_STEP: make the nth future pass through one step of a
 * memslot update fail, as an allocation failure (-ENOMEM) would, to prove
 * that a failed update changes nothing. nth = 0 disarms the step.
 */
struct okvm_test_fail {
	__u32 step;		/* OKVM_FAIL_* */
	__u32 nth;		/* 1: the next pass fails */
};

#define OKVM_FAIL_SLOT_ALLOC	0	/* the new slot object */
#define OKVM_FAIL_INVALID_ALLOC	1	/* the INVALID copy for DELETE/MOVE */
#define OKVM_FAIL_BITMAP_ALLOC	2	/* the dirty bitmap */
#define OKVM_FAIL_ARCH_PREPARE	3	/* the architecture's preparation */
#define OKVM_FAIL_NR_STEPS	4

#define OKVM_TEST_FAIL_STEP	_IOW(OKVMIO, 0xf1, struct okvm_test_fail)

/*
 * OKVM_TEST_RESOLVE: resolve a guest access to gpa exactly as a vCPU's
 * fault would (memslot, host page, notifier retry, the VM's real table).
 */
struct okvm_test_resolve {
	__u64 gpa;		/* in */
	__u32 access;		/* in: OKVM_ACCESS_* */
	__u32 result;		/* out: OKVM_RESOLVE_* */
};

#define OKVM_ACCESS_WRITE	(1U << 0)
#define OKVM_ACCESS_EXEC	(1U << 1)

#define OKVM_RESOLVE_MAPPED	0U	/* the table maps gpa now */
#define OKVM_RESOLVE_MMIO	1U	/* the access exits to userspace as MMIO */

/* Returns 0, or -EFAULT when the host has no usable page at the hva. */
#define OKVM_TEST_RESOLVE	_IOWR(OKVMIO, 0xf2, struct okvm_test_resolve)

/* OKVM_TEST_READ_ENTRY: the table's leaf entry covering gpa, if any. */
struct okvm_test_entry {
	__u64 gpa;		/* in */
	__u32 present;		/* out: 0 if nothing maps gpa */
	__u32 writable;
	__u32 executable;
	__u32 young;
	__u32 dirty;
	__u32 pad;
	__u64 size;		/* out: size of the leaf: 4K, 2M or 1G */
	__u64 phys;		/* out: host physical address of gpa's page */
};

#define OKVM_TEST_READ_ENTRY	_IOWR(OKVMIO, 0xf3, struct okvm_test_entry)

/*
 * OKVM_TEST_SET_DELAY: stall for usecs at a point of the memory core, to
 * widen a race window on purpose.
 */
struct okvm_test_delay {
	__u32 point;		/* OKVM_DELAY_* */
	__u32 usecs;		/* 0: no delay */
};

/* In the fault path, between the host page lookup and the install. */
#define OKVM_DELAY_FAULT_INSTALL	0
/* In DELETE and MOVE, while the slot is INVALID and already unmapped. */
#define OKVM_DELAY_MEMSLOT_INVALID	1
/* In a pfn cache refresh, between dropping the cache lock and the lookup. */
#define OKVM_DELAY_PFNCACHE_REFRESH	2
/* In a table rebuild, after the root switch, before the old table is freed. */
#define OKVM_DELAY_REBUILD		3
#define OKVM_DELAY_NR_POINTS		4

#define OKVM_TEST_SET_DELAY	_IOW(OKVMIO, 0xf4, struct okvm_test_delay)

/*
 * OKVM_TEST_PFNCACHE: drive test-owned gfn-to-pfn caches (see
 * Documentation/pfncache.rst). A VM has OKVM_TEST_PFNCACHE_MAX of them,
 * named by id; each one is created on first use and destroyed with the VM.
 * Each cache has a writer: with OKVM_PFNCACHE_OP_START an hrtimer stores an
 * increasing counter (from 1 up) through the cache every period_ns, from
 * hard interrupt context, as a vCPU's interrupt path would. When the check
 * fails it skips that store and asks a work item to refresh the cache from
 * process context.
 */
struct okvm_test_pfncache {
	__u32 op;		/* in: OKVM_PFNCACHE_OP_* */
	__u32 id;		/* in: which cache, below OKVM_TEST_PFNCACHE_MAX */
	__u64 addr;		/* in, ACTIVATE: a GPA, or an HVA (flags) */
	__u32 len;		/* in, ACTIVATE/REFRESH/CHECK: bytes used */
	__u32 flags;		/* in, ACTIVATE: OKVM_PFNCACHE_F_* */
	__u64 value;		/* in, WRITE: stored; out, READ: loaded */
	__u64 period_ns;	/* in, START: writer period */
	__u64 stores;		/* out, STATS: the writer's stores */
	__u64 skipped;		/* out, STATS: ticks with a failed check */
	__u64 refreshes;	/* out, STATS: refreshes the writer asked for */
	__u64 refresh_errors;	/* out, STATS: of those, failed ones */
	/* out, STATS: valid checks whose pointer did not map the pfn */
	__u64 stale;
	__u64 last;		/* out, STATS: the last counter value stored */
};

#define OKVM_PFNCACHE_OP_ACTIVATE	0	/* addr, len, flags */
#define OKVM_PFNCACHE_OP_DEACTIVATE	1
#define OKVM_PFNCACHE_OP_REFRESH	2	/* len */
#define OKVM_PFNCACHE_OP_CHECK		3	/* len; 0 valid, else EAGAIN */
#define OKVM_PFNCACHE_OP_WRITE		4	/* store 8 bytes: value */
#define OKVM_PFNCACHE_OP_READ		5	/* load 8 bytes into value */
#define OKVM_PFNCACHE_OP_START		6	/* period_ns */
#define OKVM_PFNCACHE_OP_STOP		7	/* waits for the writer */
#define OKVM_PFNCACHE_OP_STATS		8

#define OKVM_PFNCACHE_F_HVA		(1U << 0)	/* addr is an HVA */
#define OKVM_PFNCACHE_F_WRITE		(1U << 1)	/* map for writing */

#define OKVM_TEST_PFNCACHE_MAX		4

#define OKVM_TEST_PFNCACHE	_IOWR(OKVMIO, 0xf5, struct okvm_test_pfncache)

/*
 * OKVM_TEST_REBUILD: replace the VM's whole second-stage table by an empty
 * one while vCPUs may run (the seed-004 mechanism: see okvm_mmu_rebuild()).
 * Returns the guest entries that happened while it ran, which must be 0.
 */
struct okvm_test_rebuild {
	__u64 entries_during;	/* out */
	__u64 nsecs;		/* out: how long the rebuild took */
};

#define OKVM_TEST_REBUILD	_IOR(OKVMIO, 0xf6, struct okvm_test_rebuild)

/*
 * OKVM_TEST_VMID (arm64): the VM's VMID (generation | number, 0 before
 * its first guest entry), the rollovers so far and the VMID bits in use
 * (see the module parameter vmid_bits).
 */
struct okvm_test_vmid {
	__u64 vmid;
	__u64 rollovers;
	__u32 bits;
	__u32 pad;
};

#define OKVM_TEST_VMID		_IOR(OKVMIO, 0xf7, struct okvm_test_vmid)

/*
 * KVM_CREATE_VM type flag of the test interface (x86, testing=1 only): use
 * the EPT table format even on an SVM host. Such a VM never runs a guest;
 * it lets the selftests drive the EPT code where no VMX can be emulated.
 */
#define OKVM_VM_TYPE_TEST_EPT	(1UL << 30)

/*
 * OKVM_TEST_PGTABLE_SELFTEST: run one case of okvm's in-kernel page-table
 * self-test on one table format. The tables are private to the test and
 * never used by a guest. Returns 0 with the counts filled in, EINVAL for an
 * unknown case or format, EOPNOTSUPP for a format of another architecture.
 */
struct okvm_test_pgtable_selftest {
	__u32 case_id;		/* in: OKVM_PGTEST_CASE_* */
	__u32 format;		/* in: OKVM_PGTEST_FMT_* */
	__u32 passed;		/* out: checks that held */
	__u32 failed;		/* out: checks that did not */
	char msg[128];		/* out: the first failure, NUL-terminated */
};

#define OKVM_PGTEST_CASE_MAP		0	/* map 4K/2M/1G, low and high */
#define OKVM_PGTEST_CASE_ENCODING	1	/* raw entries, registers */
#define OKVM_PGTEST_CASE_UNMAP		2	/* partial, whole, blocks */
#define OKVM_PGTEST_CASE_PERMS		3	/* wrprotect, relax */
#define OKVM_PGTEST_CASE_YOUNG		4	/* test/clear young */
#define OKVM_PGTEST_CASE_SPLIT		5	/* blocks into pages */
#define OKVM_PGTEST_CASE_INVALID	6	/* bad arguments: EINVAL */
#define OKVM_PGTEST_CASE_NOMEM		7	/* empty cache: ENOMEM */
#define OKVM_PGTEST_CASE_REPLACE	8	/* break-before-make */
#define OKVM_PGTEST_CASE_DESTROY	9	/* every page freed */
#define OKVM_PGTEST_NR_CASES		10

/* arm64 stage-2 at four IPA sizes, without and with HCR_EL2.FWB */
#define OKVM_PGTEST_FMT_S2_IPA32	0
#define OKVM_PGTEST_FMT_S2_IPA40	1
#define OKVM_PGTEST_FMT_S2_IPA44	2
#define OKVM_PGTEST_FMT_S2_IPA48	3
#define OKVM_PGTEST_FMT_S2_FWB_IPA32	4
#define OKVM_PGTEST_FMT_S2_FWB_IPA40	5
#define OKVM_PGTEST_FMT_S2_FWB_IPA44	6
#define OKVM_PGTEST_FMT_S2_FWB_IPA48	7
/* x86: 4 levels with 48 input bits, 5 levels with 57 */
#define OKVM_PGTEST_FMT_NPT4		8
#define OKVM_PGTEST_FMT_NPT5		9
#define OKVM_PGTEST_FMT_EPT4		10
#define OKVM_PGTEST_FMT_EPT5		11
#define OKVM_PGTEST_NR_FORMATS		12

#define OKVM_TEST_PGTABLE_SELFTEST \
	_IOWR(OKVMIO, 0xf8, struct okvm_test_pgtable_selftest)

#endif /* _UAPI_LINUX_OKVM_H */
