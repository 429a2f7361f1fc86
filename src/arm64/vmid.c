// SPDX-License-Identifier: GPL-2.0
/*
 * VMIDs with generations. A VM's VMID is (generation | number); numbers
 * are handed out from a bitmap until it is full, then the generation
 * moves on (a rollover): the bitmap is cleared except for the numbers
 * CPUs are using right now (those VMs keep them), and every CPU
 * invalidates its TLB before it next enters a guest. A VM whose VMID is
 * of an old generation gets a new number at its next entry.
 *
 * Entry is lock-free when the VM's generation is current: the CPU swaps
 * the VMID into its active slot with a cmpxchg from a non-zero value. A
 * rollover sets every active slot to 0 first, so an entry racing with it
 * fails the cmpxchg and takes the lock.
 *
 * okvm_vmid_lock guards the bitmap, the reserved numbers, the pending
 * flushes and the rollover count; it is taken with interrupts off (only
 * from the entry path and VM destruction).
 */
#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>

#include <asm/cpufeature.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>

#include "okvm.h"
#include "vmid.h"

/*
 * Test knob: use only this many VMID bits (2..16; 0: what the CPU has),
 * so that a test with a few VMs forces rollovers.
 */
static unsigned int vmid_bits;
module_param(vmid_bits, uint, 0444);
MODULE_PARM_DESC(vmid_bits,
		 "Limit VMIDs to this many bits, to test rollover (default: the CPU's)");

static DEFINE_RAW_SPINLOCK(okvm_vmid_lock);
static DECLARE_BITMAP(okvm_vmid_map, 1 << 16);
static cpumask_t okvm_vmid_flush_pending;
static u64 okvm_vmid_rollovers;
/* Bits in use, fixed at the first allocation; then the generation. */
static unsigned int okvm_vmid_nbits;
static atomic64_t okvm_vmid_gen = ATOMIC64_INIT(0);

static DEFINE_PER_CPU(atomic64_t, okvm_active_vmid);
static DEFINE_PER_CPU(u64, okvm_reserved_vmid);

static u64 okvm_vmid_mask(void)
{
	return (1ULL << okvm_vmid_nbits) - 1;
}

static bool okvm_vmid_current(u64 vmid)
{
	return vmid && !((vmid ^ atomic64_read(&okvm_vmid_gen)) >>
			 okvm_vmid_nbits);
}

/* Bits the CPU offers: ID_AA64MMFR1_EL1.VMIDBits is 2 for 16 bits. */
unsigned int okvm_vmid_hw_bits(void)
{
	u64 mmfr1 = read_sanitised_ftr_reg(SYS_ID_AA64MMFR1_EL1);

	return ((mmfr1 >> 4) & 0xf) == 2 ? 16 : 8;
}

/* Called with the lock: start a generation, keeping running VMIDs. */
static void okvm_vmid_rollover(void)
{
	int cpu;

	atomic64_add(1ULL << okvm_vmid_nbits, &okvm_vmid_gen);
	bitmap_zero(okvm_vmid_map, 1U << okvm_vmid_nbits);
	__set_bit(0, okvm_vmid_map);	/* the host's */
	for_each_possible_cpu(cpu) {
		u64 v = atomic64_xchg_relaxed(&per_cpu(okvm_active_vmid, cpu),
					      0);

		/* A CPU between two guests keeps what it ran last. */
		if (!v)
			v = per_cpu(okvm_reserved_vmid, cpu);
		if (v)
			__set_bit(v & okvm_vmid_mask(), okvm_vmid_map);
		per_cpu(okvm_reserved_vmid, cpu) = v;
	}
	cpumask_setall(&okvm_vmid_flush_pending);
	okvm_vmid_rollovers++;
}

/*
 * A reserved number (some CPU was running it at the rollover) stays its
 * VM's: move every reservation of @vmid into @new.
 */
static bool okvm_vmid_keep_reserved(u64 vmid, u64 new)
{
	bool hit = false;
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(okvm_reserved_vmid, cpu) == vmid) {
			per_cpu(okvm_reserved_vmid, cpu) = new;
			hit = true;
		}
	}
	return hit;
}

/* Called with the lock: a VMID of the current generation for @old. */
static u64 okvm_vmid_new(u64 old)
{
	u64 gen = atomic64_read(&okvm_vmid_gen);
	unsigned long n;

	if (old) {
		u64 new = gen | (old & okvm_vmid_mask());

		if (okvm_vmid_keep_reserved(old, new))
			return new;
		/* Keep the number if nobody took it in this generation. */
		if (!__test_and_set_bit(old & okvm_vmid_mask(), okvm_vmid_map))
			return new;
	}
	n = find_next_zero_bit(okvm_vmid_map, 1UL << okvm_vmid_nbits, 1);
	if (n == 1UL << okvm_vmid_nbits) {
		okvm_vmid_rollover();
		gen = atomic64_read(&okvm_vmid_gen);
		n = find_next_zero_bit(okvm_vmid_map, 1UL << okvm_vmid_nbits,
				       1);
	}
	__set_bit(n, okvm_vmid_map);
	return gen | n;
}

/* Fix the number of bits at the first use (module load is too early). */
static void okvm_vmid_setup(void)
{
	unsigned int bits = okvm_vmid_hw_bits();

	if (vmid_bits >= 2 && vmid_bits < bits)
		bits = vmid_bits;
	okvm_vmid_nbits = bits;
	atomic64_set(&okvm_vmid_gen, 1ULL << bits);
	__set_bit(0, okvm_vmid_map);
}

/*
 * The VMID @vm uses on this CPU now. Interrupts off, right before entry.
 * Returns the number for VTTBR_EL2.
 */
u16 okvm_vmid_get(struct okvm *vm)
{
	u64 vmid = atomic64_read(&vm->arch.vmid), active;
	int cpu = smp_processor_id();

	lockdep_assert_irqs_disabled();
	active = atomic64_read(this_cpu_ptr(&okvm_active_vmid));
	if (active && okvm_vmid_nbits && okvm_vmid_current(vmid) &&
	    atomic64_cmpxchg_relaxed(this_cpu_ptr(&okvm_active_vmid), active,
				     vmid) == active)
		return vmid & okvm_vmid_mask();

	raw_spin_lock(&okvm_vmid_lock);
	if (!okvm_vmid_nbits)
		okvm_vmid_setup();
	vmid = atomic64_read(&vm->arch.vmid);
	if (!okvm_vmid_current(vmid)) {
		vmid = okvm_vmid_new(vmid);
		atomic64_set(&vm->arch.vmid, vmid);
	}
	if (cpumask_test_and_clear_cpu(cpu, &okvm_vmid_flush_pending)) {
		/* Numbers of the old generation may be reused: forget all. */
		dsb(ishst);
		__tlbi(alle1);
		dsb(nsh);
		isb();
	}
	atomic64_set(this_cpu_ptr(&okvm_active_vmid), vmid);
	raw_spin_unlock(&okvm_vmid_lock);
	return vmid & okvm_vmid_mask();
}

/* The number @vm used last (0 if it never ran), for TLB maintenance. */
u16 okvm_vmid_last(struct okvm *vm)
{
	u64 vmid = atomic64_read(&vm->arch.vmid);

	return okvm_vmid_nbits ? vmid & okvm_vmid_mask() : 0;
}

/* For the test interface. */
void okvm_vmid_stats(struct okvm *vm, u64 *vmid, u64 *rollovers,
		     unsigned int *bits)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&okvm_vmid_lock, flags);
	*vmid = atomic64_read(&vm->arch.vmid);
	*rollovers = okvm_vmid_rollovers;
	*bits = okvm_vmid_nbits;
	raw_spin_unlock_irqrestore(&okvm_vmid_lock, flags);
}
