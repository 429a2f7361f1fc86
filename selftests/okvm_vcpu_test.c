// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 vCPUs through the KVM userspace ABI only: creating and initialising
 * vCPUs, ONE_REG, and guest code run with KVM_RUN and the exits it causes
 * (MMIO, PSCI system events, signals), with guest memory in several slots.
 * The same assertions hold for the in-tree KVM and for okvm. The device is
 * $OKVM_VCPU_DEV if set, else /dev/okvm if it exists, else /dev/kvm.
 *
 * Guest routines are assembled into this binary between guest_code_start
 * and guest_code_end and copied to the start of slot 0. They run at EL1
 * with the MMU off, so every data access is to Device memory and must be
 * aligned. They talk to the test through a "test device" that lies outside
 * every memslot: a 64-bit store to TESTDEV_REPORT reports a value, one to
 * TESTDEV_DONE says the routine has finished. x20 holds TESTDEV_REPORT in
 * every routine (vcpu_start() sets it); arguments come in x1..x5.
 *
 * On x86_64 every test skips: okvm runs vCPUs on arm64 only for now.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "okvm_util.h"

#ifdef __aarch64__

#define PAGE_SZ		4096UL
/* Slot 0 at 1 GiB: guest code from offset 0, argument lists at DATA_OFF. */
#define SLOT0_GPA	0x40000000ULL
#define SLOT0_SIZE	(1UL << 20)
#define CODE_MAX	0x10000UL
#define DATA_OFF	0x10000UL
/* The test device: outside every slot and below 4 GiB. */
#define TESTDEV_GPA	0x0a000000ULL
#define TESTDEV_REPORT	TESTDEV_GPA
#define TESTDEV_DONE	(TESTDEV_GPA + 8)
/* VMs get the host's IPA size, capped here. */
#define IPA_BITS_MAX	44
#define MAX_VCPUS	8
#define MAX_MAPS	8

/* Core registers, in KVM's ONE_REG encoding. */
#define CORE_ID(size, off)	(KVM_REG_ARM64 | (size) | KVM_REG_ARM_CORE | (off))
#define CORE_REG(f)		CORE_ID(KVM_REG_SIZE_U64, KVM_REG_ARM_CORE_REG(f))
#define XREG(n)		(CORE_REG(regs.regs[0]) + 2 * (n))
#define SP_REG		CORE_REG(regs.sp)
#define PC_REG		CORE_REG(regs.pc)
#define PSTATE_REG	CORE_REG(regs.pstate)
#define SP_EL1_REG	CORE_REG(sp_el1)
#define ELR_EL1_REG	CORE_REG(elr_el1)
#define VREG(n)		(CORE_ID(KVM_REG_SIZE_U128,			\
				 KVM_REG_ARM_CORE_REG(fp_regs.vregs[0])) + 4 * (n))
#define FPSR_REG	CORE_ID(KVM_REG_SIZE_U32, KVM_REG_ARM_CORE_REG(fp_regs.fpsr))
#define FPCR_REG	CORE_ID(KVM_REG_SIZE_U32, KVM_REG_ARM_CORE_REG(fp_regs.fpcr))

/* System registers. */
#define SCTLR_EL1	ARM64_SYS_REG(3, 0, 1, 0, 0)
#define CPACR_EL1	ARM64_SYS_REG(3, 0, 1, 0, 2)
#define TTBR0_EL1	ARM64_SYS_REG(3, 0, 2, 0, 0)
#define TTBR1_EL1	ARM64_SYS_REG(3, 0, 2, 0, 1)
#define TCR_EL1		ARM64_SYS_REG(3, 0, 2, 0, 2)
#define MAIR_EL1	ARM64_SYS_REG(3, 0, 10, 2, 0)
#define VBAR_EL1	ARM64_SYS_REG(3, 0, 12, 0, 0)
#define CONTEXTIDR_EL1	ARM64_SYS_REG(3, 0, 13, 0, 1)
#define TPIDR_EL1	ARM64_SYS_REG(3, 0, 13, 0, 4)
#define TPIDR_EL0	ARM64_SYS_REG(3, 3, 13, 0, 2)
#define MPIDR_EL1	ARM64_SYS_REG(3, 0, 0, 0, 5)
#define ID_AA64PFR0_EL1	ARM64_SYS_REG(3, 0, 0, 4, 0)

/* PSTATE as KVM resets an AArch64 vCPU: EL1h, D, A, I and F masked. */
#define PSTATE_EL1H_DAIF	0x3c5ULL
#define PSTATE_EL1T_DAIF	0x3c4ULL
#define CPACR_FPEN		(3ULL << 20)

/* PSCI return values (in x0, sign-extended). */
#define PSCI_SUCCESS		0ULL
#define PSCI_NOT_SUPPORTED	((__u64)-1)
#define PSCI_INVALID_PARAMS	((__u64)-2)
#define PSCI_ALREADY_ON		((__u64)-4)
#define PSCI_AFF_ON		0ULL
#define PSCI_AFF_OFF		1ULL

/*
 * The guest routines. Each is a global label; gpa_of() gives its guest
 * address once the block is copied to SLOT0_GPA. Everything here is
 * position independent.
 */
__asm__(
"	.pushsection .text.okvm_guest, \"ax\", %progbits\n"
"	.balign	64\n"
"	.global	guest_code_start\n"
"guest_code_start:\n"

/* Report x0, then finish. */
"	.global	guest_report_x0\n"
"guest_report_x0:\n"
"	str	x0, [x20]\n"
"	b	guest_done\n"

/* The end of every routine: report done, again on each re-entry. */
"	.global	guest_done\n"
"guest_done:\n"
"	str	xzr, [x20, #8]\n"
"	b	guest_done\n"

/* one_reg_core: reports x1 + x2, SP_EL1, v1 low, v1 high; sets x7, v2. */
"	.global	guest_regs\n"
"guest_regs:\n"
"	add	x0, x1, x2\n"
"	str	x0, [x20]\n"
"	mov	x0, sp\n"
"	str	x0, [x20]\n"
"	fmov	x0, d1\n"
"	str	x0, [x20]\n"
"	mov	x0, v1.d[1]\n"
"	str	x0, [x20]\n"
"	movz	x7, #0xbeef\n"
"	fmov	d2, x1\n"
"	b	guest_done\n"

/*
 * one_reg_sysregs: reports the registers in sysreg_vals[] order and
 * MPIDR_EL1, then sets TPIDR_EL1 = x1 and TPIDR_EL0 = x2.
 */
"	.global	guest_sysregs\n"
"guest_sysregs:\n"
"	mrs	x0, sctlr_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, tcr_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, mair_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, ttbr0_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, ttbr1_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, vbar_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, tpidr_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, tpidr_el0\n"
"	str	x0, [x20]\n"
"	mrs	x0, contextidr_el1\n"
"	str	x0, [x20]\n"
"	mrs	x0, mpidr_el1\n"
"	str	x0, [x20]\n"
"	msr	tpidr_el1, x1\n"
"	msr	tpidr_el0, x2\n"
"	b	guest_done\n"

/*
 * guest_memory: x1 = list of x2 record addresses. For each 32-byte record:
 * report its first u64 v, then store ~v at +8, v as u32 at +16, as u16 at
 * +20 and as u8 at +22.
 */
"	.global	guest_memory\n"
"guest_memory:\n"
"1:	ldr	x9, [x1], #8\n"
"	ldr	x0, [x9]\n"
"	str	x0, [x20]\n"
"	mvn	x3, x0\n"
"	str	x3, [x9, #8]\n"
"	str	w0, [x9, #16]\n"
"	strh	w0, [x9, #20]\n"
"	strb	w0, [x9, #22]\n"
"	subs	x2, x2, #1\n"
"	b.ne	1b\n"
"	b	guest_done\n"

/*
 * mmio_exits: x1 = list of x2 MMIO bases (16-byte aligned), x5 = value
 * to store. At each base: byte, half, word and double stores of x5, then
 * loads of each width, zero- and sign-extending, each result reported.
 */
"	.global	guest_mmio\n"
"guest_mmio:\n"
"1:	ldr	x9, [x1], #8\n"
"	.global	guest_mmio_first_store\n"
"guest_mmio_first_store:\n"
"	strb	w5, [x9, #1]\n"
"	strh	w5, [x9, #2]\n"
"	str	w5, [x9, #4]\n"
"	str	x5, [x9, #8]\n"
"	mov	x6, #-1\n"
"	.global	guest_mmio_first_load\n"
"guest_mmio_first_load:\n"
"	ldrb	w6, [x9, #1]\n"
"	str	x6, [x20]\n"
"	mov	x6, #-1\n"
"	ldrh	w6, [x9, #2]\n"
"	str	x6, [x20]\n"
"	mov	x6, #-1\n"
"	ldr	w6, [x9, #4]\n"
"	str	x6, [x20]\n"
"	mov	x6, #-1\n"
"	ldr	x6, [x9, #8]\n"
"	str	x6, [x20]\n"
"	mov	x6, xzr\n"
"	ldrsb	x6, [x9, #1]\n"
"	str	x6, [x20]\n"
"	mov	x6, xzr\n"
"	ldrsh	x6, [x9, #2]\n"
"	str	x6, [x20]\n"
"	mov	x6, xzr\n"
"	ldrsw	x6, [x9, #4]\n"
"	str	x6, [x20]\n"
"	mov	x6, #-1\n"
"	ldrsb	w6, [x9, #1]\n"
"	str	x6, [x20]\n"
"	mov	x6, #-1\n"
"	ldrsh	w6, [x9, #2]\n"
"	str	x6, [x20]\n"
"	subs	x2, x2, #1\n"
"	b.ne	1b\n"
"	b	guest_done\n"

/*
 * readonly_slot: x1 = address in a read-only slot, x5 = value. Reports
 * [x1], stores x5 at +8 and its low byte at +17, reports [x1 + 8] and the
 * byte at +17.
 */
"	.global	guest_ro\n"
"guest_ro:\n"
"	ldr	x0, [x1]\n"
"	str	x0, [x20]\n"
"	str	x5, [x1, #8]\n"
"	strb	w5, [x1, #17]\n"
"	ldr	x0, [x1, #8]\n"
"	str	x0, [x20]\n"
"	ldrb	w0, [x1, #17]\n"
"	str	x0, [x20]\n"
"	b	guest_done\n"

/* Count in x0 for ever. */
"	.global	guest_spin\n"
"guest_spin:\n"
"	add	x0, x0, #1\n"
"	b	guest_spin\n"

/*
 * psci, on vCPU 0: x21 = entry of vCPU 1, x22 = its context id, x23 = its
 * MPIDR affinity. Each result is reported in turn.
 */
"	.global	guest_psci_primary\n"
"guest_psci_primary:\n"
"	movz	w0, #0x8400, lsl #16\n"	/* PSCI_VERSION */
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0x8400, lsl #16\n"	/* PSCI_FEATURES */
"	movk	w0, #0x000a\n"
"	movz	w1, #0xc400, lsl #16\n"	/* ... of CPU_ON (SMC64) */
"	movk	w1, #0x0003\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0xc200, lsl #16\n"	/* SiP service call 0 */
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0xc400, lsl #16\n"	/* AFFINITY_INFO (SMC64) */
"	movk	w0, #0x0004\n"
"	mov	x1, x23\n"
"	mov	x2, #0\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0xc400, lsl #16\n"	/* CPU_ON of an MPIDR no vCPU has */
"	movk	w0, #0x0003\n"
"	mov	x1, #7\n"
"	mov	x2, x21\n"
"	mov	x3, x22\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0xc400, lsl #16\n"	/* CPU_ON of vCPU 1 */
"	movk	w0, #0x0003\n"
"	mov	x1, x23\n"
"	mov	x2, x21\n"
"	mov	x3, x22\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0xc400, lsl #16\n"	/* CPU_ON again: already on */
"	movk	w0, #0x0003\n"
"	mov	x1, x23\n"
"	mov	x2, x21\n"
"	mov	x3, x22\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"
"	movz	w0, #0xc400, lsl #16\n"	/* AFFINITY_INFO: on */
"	movk	w0, #0x0004\n"
"	mov	x1, x23\n"
"	mov	x2, #0\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"
"1:	movz	w0, #0xc400, lsl #16\n"	/* AFFINITY_INFO until off */
"	movk	w0, #0x0004\n"
"	mov	x1, x23\n"
"	mov	x2, #0\n"
"	hvc	#0\n"
"	cmp	x0, #1\n"
"	b.ne	1b\n"
"	str	x0, [x20]\n"
"	movz	w0, #0x8400, lsl #16\n"	/* SYSTEM_RESET */
"	movk	w0, #0x0009\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"		/* not reached */
"	b	guest_done\n"

/* psci, on vCPU 1: reports x0 and MPIDR_EL1, then CPU_OFF. */
"	.global	guest_psci_secondary\n"
"guest_psci_secondary:\n"
"	movz	x20, #0x0a00, lsl #16\n"	/* TESTDEV_REPORT */
"	str	x0, [x20]\n"
"	mrs	x1, mpidr_el1\n"
"	str	x1, [x20]\n"
"	movz	w0, #0x8400, lsl #16\n"	/* CPU_OFF */
"	movk	w0, #0x0002\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"		/* not reached */
"	b	guest_done\n"

"	.global	guest_system_off\n"
"guest_system_off:\n"
"	movz	w0, #0x8400, lsl #16\n"	/* SYSTEM_OFF */
"	movk	w0, #0x0008\n"
"	hvc	#0\n"
"	str	x0, [x20]\n"		/* not reached */
"	b	guest_done\n"

/*
 * dirty_log: x1 = list of x2 addresses; one with bit 0 set is written
 * (its own address, bit 0 clear), one without is read.
 */
"	.global	guest_touch\n"
"guest_touch:\n"
"1:	ldr	x4, [x1], #8\n"
"	tbz	x4, #0, 2f\n"
"	bic	x4, x4, #1\n"
"	str	x4, [x4]\n"
"	b	3f\n"
"2:	ldr	x5, [x4]\n"
"3:	subs	x2, x2, #1\n"
"	b.ne	1b\n"
"	b	guest_done\n"

/* many_vcpus: increment the u64 at x1 x2 times, then report x1. */
"	.global	guest_count\n"
"guest_count:\n"
"1:	ldr	x3, [x1]\n"
"	add	x3, x3, #1\n"
"	str	x3, [x1]\n"
"	subs	x2, x2, #1\n"
"	b.ne	1b\n"
"	str	x1, [x20]\n"
"	b	guest_done\n"

/* memslot_delete: report [x1] for ever. */
"	.global	guest_read_loop\n"
"guest_read_loop:\n"
"	ldr	x0, [x1]\n"
"	str	x0, [x20]\n"
"	b	guest_read_loop\n"

"	.global	guest_code_end\n"
"guest_code_end:\n"
"	.popsection\n");

extern const char guest_code_start[], guest_code_end[], guest_done[];
extern const char guest_report_x0[], guest_regs[], guest_sysregs[];
extern const char guest_memory[], guest_mmio[], guest_mmio_first_store[];
extern const char guest_mmio_first_load[], guest_ro[], guest_spin[];
extern const char guest_psci_primary[], guest_psci_secondary[];
extern const char guest_system_off[], guest_touch[], guest_count[];
extern const char guest_read_loop[];

/* guest_psci_secondary builds the test device address itself. */
_Static_assert(TESTDEV_REPORT == 0x0a00ULL << 16, "movz in the guest");

static __u64 gpa_of(const char *sym)
{
	return SLOT0_GPA + (sym - guest_code_start);
}

static const char *vcpu_dev_path(void)
{
	const char *p = getenv("OKVM_VCPU_DEV");

	if (p && *p)
		return p;
	if (!access(OKVM_DEV, F_OK))
		return OKVM_DEV;
	return KVM_DEV;
}

FIXTURE(vcpu) {
	int dev;
	int vm;
	int ipa_bits;
	long run_size;
	struct kvm_vcpu_init init;	/* the preferred target, no features */
	int nr_vcpus;
	int fd[MAX_VCPUS];
	struct kvm_run *run[MAX_VCPUS];
	int nr_maps;
	void *map[MAX_MAPS];
	size_t map_size[MAX_MAPS];
	char *mem;			/* slot 0 */
};

/* Anonymous memory for a slot, unmapped at teardown. */
static char *alloc_mem(struct __test_metadata *_metadata,
		       FIXTURE_DATA(vcpu) *self, size_t size)
{
	void *p;

	ASSERT_GT(MAX_MAPS, self->nr_maps);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	self->map[self->nr_maps] = p;
	self->map_size[self->nr_maps] = size;
	self->nr_maps++;
	return p;
}

static char *add_slot(struct __test_metadata *_metadata,
		      FIXTURE_DATA(vcpu) *self, __u32 slot, __u32 flags,
		      __u64 gpa, size_t size)
{
	char *p = alloc_mem(_metadata, self, size);
	int err;

	err = okvm_set_region(self->vm, slot, flags, gpa, size, (uintptr_t)p);
	ASSERT_EQ(0, err) TH_LOG("slot %u at %#llx: %s", slot,
				 (unsigned long long)gpa, strerror(err));
	return p;
}

/* KVM_CREATE_VCPU and the kvm_run mapping, no KVM_ARM_VCPU_INIT. */
static int create_vcpu(struct __test_metadata *_metadata,
		       FIXTURE_DATA(vcpu) *self, __u32 id)
{
	int i = self->nr_vcpus;
	void *run;
	int fd;

	ASSERT_GT(MAX_VCPUS, i);
	fd = ioctl(self->vm, KVM_CREATE_VCPU, (unsigned long)id);
	ASSERT_LE(0, fd) TH_LOG("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	self->fd[i] = fd;
	self->run[i] = NULL;
	self->nr_vcpus++;
	run = mmap(NULL, self->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	ASSERT_NE(MAP_FAILED, run);
	self->run[i] = run;
	return i;
}

/* KVM_ARM_VCPU_INIT, preferred target, PSCI 0.2 + @features; an errno. */
static int init_vcpu(FIXTURE_DATA(vcpu) *self, int i, __u32 features)
{
	struct kvm_vcpu_init init = self->init;

	init.features[0] = (1U << KVM_ARM_VCPU_PSCI_0_2) | features;
	return ioctl(self->fd[i], KVM_ARM_VCPU_INIT, &init) ? errno : 0;
}

static int add_vcpu(struct __test_metadata *_metadata,
		    FIXTURE_DATA(vcpu) *self, __u32 id, __u32 features)
{
	int i = create_vcpu(_metadata, self, id);
	int err = init_vcpu(self, i, features);

	ASSERT_EQ(0, err) TH_LOG("KVM_ARM_VCPU_INIT of vCPU %u: %s", id,
				 strerror(err));
	return i;
}

static int reg_get_err(int fd, __u64 id, void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)val };

	return ioctl(fd, KVM_GET_ONE_REG, &r) ? errno : 0;
}

static int reg_set_err(int fd, __u64 id, const void *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uintptr_t)val };

	return ioctl(fd, KVM_SET_ONE_REG, &r) ? errno : 0;
}

static __u64 reg_get(struct __test_metadata *_metadata, int fd, __u64 id)
{
	__u64 v = 0;
	int err = reg_get_err(fd, id, &v);

	ASSERT_EQ(0, err) TH_LOG("KVM_GET_ONE_REG %#llx: %s",
				 (unsigned long long)id, strerror(err));
	return v;
}

static void reg_set(struct __test_metadata *_metadata, int fd, __u64 id,
		    __u64 v)
{
	int err = reg_set_err(fd, id, &v);

	ASSERT_EQ(0, err) TH_LOG("KVM_SET_ONE_REG %#llx: %s",
				 (unsigned long long)id, strerror(err));
}

static int vcpu_run(FIXTURE_DATA(vcpu) *self, int i)
{
	return ioctl(self->fd[i], KVM_RUN, NULL) ? errno : 0;
}

/*
 * KVM_RUN with immediate_exit: finishes a pending MMIO access (the load's
 * register and the PC step) without running the guest, returns EINTR.
 */
static void vcpu_complete(struct __test_metadata *_metadata,
			  FIXTURE_DATA(vcpu) *self, int i)
{
	int err;

	self->run[i]->immediate_exit = 1;
	err = vcpu_run(self, i);
	self->run[i]->immediate_exit = 0;
	ASSERT_EQ(EINTR, err) TH_LOG("immediate_exit: %s", strerror(err));
}

/*
 * Point vCPU @i at the routine @entry with x20 = the test device. A vCPU
 * that stopped at an MMIO exit finishes that access first: KVM steps the
 * PC past the access on the next KVM_RUN, also after a SET_ONE_REG of PC.
 */
static void vcpu_start(struct __test_metadata *_metadata,
		       FIXTURE_DATA(vcpu) *self, int i, const char *entry)
{
	if (self->run[i]->exit_reason == KVM_EXIT_MMIO)
		vcpu_complete(_metadata, self, i);
	reg_set(_metadata, self->fd[i], PC_REG, gpa_of(entry));
	reg_set(_metadata, self->fd[i], XREG(20), TESTDEV_REPORT);
}

/* Run vCPU @i; expect an MMIO exit at @gpa, @len bytes, @is_write. */
static struct kvm_run *run_mmio(struct __test_metadata *_metadata,
				FIXTURE_DATA(vcpu) *self, int i, __u64 gpa,
				__u32 len, __u8 is_write)
{
	struct kvm_run *run = self->run[i];
	int err = vcpu_run(self, i);

	ASSERT_EQ(0, err) TH_LOG("vCPU %d: KVM_RUN: %s (waiting for MMIO at %#llx)",
				 i, strerror(err), (unsigned long long)gpa);
	ASSERT_EQ((__u32)KVM_EXIT_MMIO, run->exit_reason)
		TH_LOG("vCPU %d: exit reason %u, wanted MMIO at %#llx", i,
		       run->exit_reason, (unsigned long long)gpa);
	ASSERT_EQ(gpa, run->mmio.phys_addr)
		TH_LOG("vCPU %d: %s of %u at %#llx, wanted one at %#llx", i,
		       run->mmio.is_write ? "store" : "load", run->mmio.len,
		       (unsigned long long)run->mmio.phys_addr,
		       (unsigned long long)gpa);
	ASSERT_EQ(len, run->mmio.len);
	ASSERT_EQ(is_write, run->mmio.is_write);
	return run;
}

/* The data of an MMIO store (the guest is little-endian, like us). */
static __u64 mmio_data(const struct kvm_run *run)
{
	__u64 v = 0;

	memcpy(&v, run->mmio.data, run->mmio.len < 8 ? run->mmio.len : 8);
	return v;
}

/* Answer an MMIO load; the bytes past len are junk KVM must not use. */
static void mmio_supply(struct kvm_run *run, __u64 v)
{
	memset(run->mmio.data, 0xa5, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &v, run->mmio.len < 8 ? run->mmio.len : 8);
}

static __u64 run_report(struct __test_metadata *_metadata,
			FIXTURE_DATA(vcpu) *self, int i)
{
	return mmio_data(run_mmio(_metadata, self, i, TESTDEV_REPORT, 8, 1));
}

static void run_done(struct __test_metadata *_metadata,
		     FIXTURE_DATA(vcpu) *self, int i)
{
	run_mmio(_metadata, self, i, TESTDEV_DONE, 8, 1);
}

static void run_system_event(struct __test_metadata *_metadata,
			     FIXTURE_DATA(vcpu) *self, int i, __u32 type)
{
	struct kvm_run *run = self->run[i];
	int err = vcpu_run(self, i);

	ASSERT_EQ(0, err) TH_LOG("KVM_RUN: %s", strerror(err));
	ASSERT_EQ((__u32)KVM_EXIT_SYSTEM_EVENT, run->exit_reason)
		TH_LOG("exit reason %u (MMIO at %#llx)", run->exit_reason,
		       (unsigned long long)run->mmio.phys_addr);
	ASSERT_EQ(type, run->system_event.type);
}

static __u32 mp_state(struct __test_metadata *_metadata,
		      FIXTURE_DATA(vcpu) *self, int i)
{
	struct kvm_mp_state mp = { .mp_state = ~0U };

	ASSERT_EQ(0, ioctl(self->fd[i], KVM_GET_MP_STATE, &mp))
		TH_LOG("KVM_GET_MP_STATE: %s", strerror(errno));
	return mp.mp_state;
}

static void sigusr1_handler(int sig)
{
}

static void install_sigusr1(struct __test_metadata *_metadata)
{
	struct sigaction sa = { .sa_handler = sigusr1_handler };

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Wait until *@p >= @v, at most @ms milliseconds; true if it got there. */
static bool wait_for(const int *p, int v, long ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < v) {
		if (elapsed_ms(&t0) > ms)
			return false;
		usleep(1000);
	}
	return true;
}

/* Sends SIGUSR1 to @target every 20 ms, after @delay_ms, until @stop. */
struct kicker {
	pthread_t target;
	long delay_ms;
	int stop;
	pthread_t thread;
};

static void *kicker_fn(void *arg)
{
	struct kicker *k = arg;

	usleep(k->delay_ms * 1000);
	while (!__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE)) {
		pthread_kill(k->target, SIGUSR1);
		usleep(20000);
	}
	return NULL;
}

static int kicker_start(struct kicker *k, pthread_t target, long delay_ms)
{
	k->target = target;
	k->delay_ms = delay_ms;
	k->stop = 0;
	return pthread_create(&k->thread, NULL, kicker_fn, k);
}

static void kicker_stop(struct kicker *k)
{
	__atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
	pthread_join(k->thread, NULL);
}

FIXTURE_SETUP(vcpu)
{
	const char *path = vcpu_dev_path();
	size_t code = guest_code_end - guest_code_start;
	unsigned long type = 0;
	int ipa;

	self->dev = -1;
	self->vm = -1;
	self->dev = okvm_open(path);
	if (self->dev < 0 && errno == ENOENT)
		SKIP(return, "%s: no such device", path);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", path, strerror(errno));
	self->run_size = ioctl(self->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, self->run_size);

	ipa = ioctl(self->dev, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	if (ipa > 0) {
		self->ipa_bits = ipa < IPA_BITS_MAX ? ipa : IPA_BITS_MAX;
		type = KVM_VM_TYPE_ARM_IPA_SIZE(self->ipa_bits);
	} else {
		self->ipa_bits = 40;
	}
	self->vm = okvm_create_vm(self->dev, type);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM (%d-bit IPA): %s",
				      self->ipa_bits, strerror(errno));
	ASSERT_EQ(0, ioctl(self->vm, KVM_ARM_PREFERRED_TARGET, &self->init))
		TH_LOG("KVM_ARM_PREFERRED_TARGET: %s", strerror(errno));
	memset(self->init.features, 0, sizeof(self->init.features));

	self->mem = add_slot(_metadata, self, 0, 0, SLOT0_GPA, SLOT0_SIZE);
	ASSERT_GE(CODE_MAX, code);
	memcpy(self->mem, guest_code_start, code);
}

FIXTURE_TEARDOWN(vcpu)
{
	int i;

	for (i = 0; i < self->nr_vcpus; i++) {
		if (self->run[i])
			munmap(self->run[i], self->run_size);
		close(self->fd[i]);
	}
	if (self->vm >= 0)
		close(self->vm);
	if (self->dev >= 0)
		close(self->dev);
	for (i = 0; i < self->nr_maps; i++)
		munmap(self->map[i], self->map_size[i]);
}

TEST_F(vcpu, create_vcpu_abi)
{
	struct kvm_vcpu_init init;
	long size, nr, max, max_id;
	__u64 v = 0;
	int i, id;

	size = ioctl(self->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LE((long)sizeof(struct kvm_run), size);
	ASSERT_EQ(0, size % getpagesize());

	nr = ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	max = ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	max_id = ioctl(self->vm, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	ASSERT_LT(0, nr);
	ASSERT_LE(nr, max);
	ASSERT_LT(0, max_id);

	init.target = ~0U;
	ASSERT_EQ(0, ioctl(self->vm, KVM_ARM_PREFERRED_TARGET, &init));
	ASSERT_EQ(self->init.target, init.target);

	for (id = 0; id < 4; id++)
		add_vcpu(_metadata, self, id, 0);
	EXPECT_EQ(-1, ioctl(self->vm, KVM_CREATE_VCPU, 2UL));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(self->vm, KVM_CREATE_VCPU, (unsigned long)max_id));
	EXPECT_EQ(EINVAL, errno);

	/* Before KVM_ARM_VCPU_INIT, registers and KVM_RUN are refused. */
	i = create_vcpu(_metadata, self, 4);
	EXPECT_EQ(ENOEXEC, reg_get_err(self->fd[i], PC_REG, &v));
	EXPECT_EQ(ENOEXEC, reg_set_err(self->fd[i], PC_REG, &v));
	EXPECT_EQ(ENOEXEC, vcpu_run(self, i));

	/* A target other than the preferred one. */
	init = self->init;
	init.target = 0xdead;
	ASSERT_NE(init.target, self->init.target);
	EXPECT_EQ(-1, ioctl(self->fd[i], KVM_ARM_VCPU_INIT, &init));
	EXPECT_EQ(EINVAL, errno);
	/* Feature bits no KVM defines: ENOENT. */
	EXPECT_EQ(ENOENT, init_vcpu(self, i, 1U << 31));
	init = self->init;
	init.features[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd[i], KVM_ARM_VCPU_INIT, &init));
	EXPECT_EQ(ENOENT, errno);
	/* Half of pointer authentication: refused, supported or not. */
	EXPECT_EQ(EINVAL, init_vcpu(self, i, 1U << KVM_ARM_VCPU_PTRAUTH_ADDRESS));
	/* The failures left it uninitialised. */
	EXPECT_EQ(ENOEXEC, reg_get_err(self->fd[i], PC_REG, &v));

	ASSERT_EQ(0, init_vcpu(self, i, 0));
	EXPECT_EQ(0, reg_get_err(self->fd[i], PC_REG, &v));
	/* Again with the same features resets; other features are refused. */
	reg_set(_metadata, self->fd[i], XREG(3), 42);
	EXPECT_EQ(0, init_vcpu(self, i, 0));
	EXPECT_EQ(0ULL, reg_get(_metadata, self->fd[i], XREG(3)));
	init = self->init;
	EXPECT_EQ(-1, ioctl(self->fd[i], KVM_ARM_VCPU_INIT, &init));
	EXPECT_EQ(EINVAL, errno);
}

/* Is @id in @list? */
static bool reg_listed(const struct kvm_reg_list *list, __u64 id)
{
	__u64 k;

	for (k = 0; k < list->n; k++)
		if (list->reg[k] == id)
			return true;
	return false;
}

/* KVM_GET_REG_LIST of an initialised vCPU; free() the result. */
static struct kvm_reg_list *get_reg_list(struct __test_metadata *_metadata,
					 int fd)
{
	struct kvm_reg_list probe = { .n = 0 };
	struct kvm_reg_list *list;
	__u64 n;

	ASSERT_EQ(-1, ioctl(fd, KVM_GET_REG_LIST, &probe));
	ASSERT_EQ(E2BIG, errno);
	n = probe.n;
	ASSERT_LT(0ULL, n);
	list = calloc(1, sizeof(*list) + n * sizeof(__u64));
	ASSERT_NE(NULL, list);
	list->n = n - 1;
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_REG_LIST, list));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(n, list->n);
	list->n = n;
	ASSERT_EQ(0, ioctl(fd, KVM_GET_REG_LIST, list))
		TH_LOG("KVM_GET_REG_LIST: %s", strerror(errno));
	ASSERT_EQ(n, list->n);
	return list;
}

TEST_F(vcpu, one_reg_core)
{
	__u64 v128[2], lo = 0x0123456789abcdefULL, hi = 0xfedcba9876543210ULL;
	__u64 a = 0x1111222233334444ULL, b = 0x0000555566667777ULL;
	__u64 sp_el1 = SLOT0_GPA + SLOT0_SIZE - 16;
	struct kvm_reg_list *list;
	__u64 k, v, bad;
	__u32 v32;
	int i, fd, n;

	i = add_vcpu(_metadata, self, 0, 0);
	fd = self->fd[i];

	/* The reset state. */
	EXPECT_EQ(PSTATE_EL1H_DAIF, reg_get(_metadata, fd, PSTATE_REG));
	EXPECT_EQ(0ULL, reg_get(_metadata, fd, PC_REG));
	EXPECT_EQ(0ULL, reg_get(_metadata, fd, XREG(0)));

	for (n = 0; n <= 30; n++)
		reg_set(_metadata, fd, XREG(n), 0x0101010101010101ULL * n + 7);
	reg_set(_metadata, fd, SP_REG, 0x5555aaaa0000ULL);
	reg_set(_metadata, fd, SP_EL1_REG, 0x6666bbbb0000ULL);
	reg_set(_metadata, fd, ELR_EL1_REG, 0x7777cccc0004ULL);
	reg_set(_metadata, fd, PC_REG, 0x40001234ULL & ~3ULL);
	for (n = 0; n <= 30; n++)
		EXPECT_EQ(0x0101010101010101ULL * n + 7,
			  reg_get(_metadata, fd, XREG(n))) TH_LOG("x%d", n);
	EXPECT_EQ(0x5555aaaa0000ULL, reg_get(_metadata, fd, SP_REG));
	EXPECT_EQ(0x6666bbbb0000ULL, reg_get(_metadata, fd, SP_EL1_REG));
	EXPECT_EQ(0x7777cccc0004ULL, reg_get(_metadata, fd, ELR_EL1_REG));
	EXPECT_EQ(0x40001234ULL & ~3ULL, reg_get(_metadata, fd, PC_REG));

	/* PSTATE: AArch64 EL1 modes only. */
	reg_set(_metadata, fd, PSTATE_REG, PSTATE_EL1T_DAIF);
	EXPECT_EQ(PSTATE_EL1T_DAIF, reg_get(_metadata, fd, PSTATE_REG));
	bad = 0x3d3;			/* AArch32 SVC */
	EXPECT_EQ(EINVAL, reg_set_err(fd, PSTATE_REG, &bad));
	bad = 0x3c9;			/* EL2h without nested virtualisation */
	EXPECT_EQ(EINVAL, reg_set_err(fd, PSTATE_REG, &bad));
	bad = 0x3c2;			/* a reserved mode */
	EXPECT_EQ(EINVAL, reg_set_err(fd, PSTATE_REG, &bad));
	EXPECT_EQ(PSTATE_EL1T_DAIF, reg_get(_metadata, fd, PSTATE_REG));
	reg_set(_metadata, fd, PSTATE_REG, PSTATE_EL1H_DAIF);

	/* A core register with the wrong size. */
	EXPECT_EQ(EINVAL, reg_get_err(fd, (XREG(0) & ~KVM_REG_SIZE_MASK) |
				      KVM_REG_SIZE_U32, &v32));
	EXPECT_EQ(EINVAL, reg_get_err(fd, (FPSR_REG & ~KVM_REG_SIZE_MASK) |
				      KVM_REG_SIZE_U64, &v));

	/* Floating point and SIMD. */
	for (n = 0; n < 32; n++) {
		v128[0] = lo + n;
		v128[1] = hi - n;
		ASSERT_EQ(0, reg_set_err(fd, VREG(n), v128)) TH_LOG("v%d", n);
	}
	for (n = 0; n < 32; n++) {
		memset(v128, 0, sizeof(v128));
		ASSERT_EQ(0, reg_get_err(fd, VREG(n), v128)) TH_LOG("v%d", n);
		EXPECT_EQ(lo + n, v128[0]) TH_LOG("v%d", n);
		EXPECT_EQ(hi - n, v128[1]) TH_LOG("v%d", n);
	}
	v32 = 0x0800001f;		/* QC and the cumulative flags */
	ASSERT_EQ(0, reg_set_err(fd, FPSR_REG, &v32));
	v32 = 0x03c00000;		/* AHP, DN, FZ, RMode */
	ASSERT_EQ(0, reg_set_err(fd, FPCR_REG, &v32));
	v32 = 0;
	ASSERT_EQ(0, reg_get_err(fd, FPSR_REG, &v32));
	EXPECT_EQ(0x0800001fU, v32);
	ASSERT_EQ(0, reg_get_err(fd, FPCR_REG, &v32));
	EXPECT_EQ(0x03c00000U, v32);

	/* The list: every core register there, every entry readable. */
	list = get_reg_list(_metadata, fd);
	for (n = 0; n <= 30; n++)
		EXPECT_TRUE(reg_listed(list, XREG(n))) TH_LOG("x%d", n);
	for (n = 0; n < 32; n++)
		EXPECT_TRUE(reg_listed(list, VREG(n))) TH_LOG("v%d", n);
	EXPECT_TRUE(reg_listed(list, SP_REG));
	EXPECT_TRUE(reg_listed(list, PC_REG));
	EXPECT_TRUE(reg_listed(list, PSTATE_REG));
	EXPECT_TRUE(reg_listed(list, SP_EL1_REG));
	EXPECT_TRUE(reg_listed(list, ELR_EL1_REG));
	EXPECT_TRUE(reg_listed(list, FPSR_REG));
	EXPECT_TRUE(reg_listed(list, FPCR_REG));
	for (k = 0; k < list->n; k++) {
		__u64 id = list->reg[k], buf[32];
		unsigned int bytes = 1U << ((id & KVM_REG_SIZE_MASK) >>
					    KVM_REG_SIZE_SHIFT);

		ASSERT_GE(sizeof(buf), bytes) TH_LOG("reg %#llx",
						     (unsigned long long)id);
		EXPECT_EQ(0, reg_get_err(fd, id, buf))
			TH_LOG("listed reg %#llx: %s", (unsigned long long)id,
			       strerror(reg_get_err(fd, id, buf)));
	}
	free(list);

	/* What was set is what the guest sees, and what it sets we read. */
	vcpu_start(_metadata, self, i, guest_regs);
	reg_set(_metadata, fd, XREG(1), a);
	reg_set(_metadata, fd, XREG(2), b);
	reg_set(_metadata, fd, SP_EL1_REG, sp_el1);
	reg_set(_metadata, fd, CPACR_EL1, CPACR_FPEN);
	v128[0] = lo;
	v128[1] = hi;
	ASSERT_EQ(0, reg_set_err(fd, VREG(1), v128));
	EXPECT_EQ(a + b, run_report(_metadata, self, i));
	EXPECT_EQ(sp_el1, run_report(_metadata, self, i));
	EXPECT_EQ(lo, run_report(_metadata, self, i));
	EXPECT_EQ(hi, run_report(_metadata, self, i));
	run_done(_metadata, self, i);
	EXPECT_EQ(0xbeefULL, reg_get(_metadata, fd, XREG(7)));
	ASSERT_EQ(0, reg_get_err(fd, VREG(2), v128));
	EXPECT_EQ(a, v128[0]);
	EXPECT_EQ(0ULL, v128[1]);
	/* Stopped at the done store, not past it. */
	EXPECT_EQ(gpa_of(guest_done), reg_get(_metadata, fd, PC_REG));
}

/* In the order guest_sysregs reports them. */
static const struct {
	const char *name;
	__u64 id;
	__u64 val;
} sysreg_vals[] = {
	{ "SCTLR_EL1", SCTLR_EL1, 0x30d0180cULL },	/* RES1, C, SA, I; MMU off */
	{ "TCR_EL1", TCR_EL1, 0x5b5193519ULL },		/* 4K, 39-bit VAs, 48-bit IPS */
	{ "MAIR_EL1", MAIR_EL1, 0x040c44ff00ULL },
	{ "TTBR0_EL1", TTBR0_EL1, 0x0001000041234000ULL },
	{ "TTBR1_EL1", TTBR1_EL1, 0x0002000045678000ULL },
	{ "VBAR_EL1", VBAR_EL1, 0x40000800ULL },
	{ "TPIDR_EL1", TPIDR_EL1, 0x1122334455667788ULL },
	{ "TPIDR_EL0", TPIDR_EL0, 0x8877665544332211ULL },
	{ "CONTEXTIDR_EL1", CONTEXTIDR_EL1, 0x1234abcdULL },
};

TEST_F(vcpu, one_reg_sysregs)
{
	const __u64 tp1 = 0xa5a5a5a5a5a5a5a5ULL, tp0 = 0x5a5a5a5a00000001ULL;
	struct kvm_reg_list *list;
	__u64 bogus = ARM64_SYS_REG(3, 0, 15, 15, 7), v = 0, pfr0;
	unsigned int k;
	int v0, v1, fd;

	v0 = add_vcpu(_metadata, self, 0, 0);
	v1 = add_vcpu(_metadata, self, 1, 0);
	fd = self->fd[v1];

	/* KVM's default MPIDR: Aff0 = vCPU id (for ids < 16), bit 31 RES1. */
	EXPECT_EQ(0x80000000ULL, reg_get(_metadata, self->fd[v0], MPIDR_EL1));
	EXPECT_EQ(0x80000001ULL, reg_get(_metadata, fd, MPIDR_EL1));

	pfr0 = reg_get(_metadata, fd, ID_AA64PFR0_EL1);
	EXPECT_NE(0ULL, pfr0 & 0xf) TH_LOG("EL0 not implemented: %#llx",
					   (unsigned long long)pfr0);
	EXPECT_NE(0ULL, (pfr0 >> 4) & 0xf) TH_LOG("EL1 not implemented");
	EXPECT_EQ(ENOENT, reg_get_err(fd, bogus, &v));

	for (k = 0; k < ARRAY_SIZE(sysreg_vals); k++)
		reg_set(_metadata, fd, sysreg_vals[k].id, sysreg_vals[k].val);
	list = get_reg_list(_metadata, fd);
	for (k = 0; k < ARRAY_SIZE(sysreg_vals); k++) {
		const char *name = sysreg_vals[k].name;
		__u64 id = sysreg_vals[k].id;

		EXPECT_EQ(sysreg_vals[k].val, reg_get(_metadata, fd, id))
			TH_LOG("%s", name);
		EXPECT_TRUE(reg_listed(list, id))
			TH_LOG("%s not in KVM_GET_REG_LIST", name);
	}
	EXPECT_TRUE(reg_listed(list, MPIDR_EL1));
	EXPECT_TRUE(reg_listed(list, ID_AA64PFR0_EL1));
	free(list);

	/* The guest reads them, and its writes come back. */
	vcpu_start(_metadata, self, v1, guest_sysregs);
	reg_set(_metadata, fd, XREG(1), tp1);
	reg_set(_metadata, fd, XREG(2), tp0);
	for (k = 0; k < ARRAY_SIZE(sysreg_vals); k++) {
		const char *name = sysreg_vals[k].name;

		EXPECT_EQ(sysreg_vals[k].val, run_report(_metadata, self, v1))
			TH_LOG("guest's %s", name);
	}
	EXPECT_EQ(0x80000001ULL, run_report(_metadata, self, v1));
	run_done(_metadata, self, v1);
	EXPECT_EQ(tp1, reg_get(_metadata, fd, TPIDR_EL1));
	EXPECT_EQ(tp0, reg_get(_metadata, fd, TPIDR_EL0));
}

#define HIGH_GPA	0x140000000ULL		/* above 4 GiB */
#define HIGH_SIZE	0x10000UL
#define TOP_SIZE	(2UL << 20)		/* ends at the top of the IPA */
#define REC		32

TEST_F(vcpu, guest_memory)
{
	__u64 top_gpa = (1ULL << self->ipa_bits) - TOP_SIZE;
	__u64 *args = (__u64 *)(self->mem + DATA_OFF);
	char *high, *top;
	struct {
		char *hva;
		__u64 gpa;
	} rec[8];
	unsigned int n = 0, k, b;
	int i;

	i = add_vcpu(_metadata, self, 0, 0);
	high = add_slot(_metadata, self, 1, 0, HIGH_GPA, HIGH_SIZE);
	top = add_slot(_metadata, self, 2, 0, top_gpa, TOP_SIZE);

#define ADD_REC(base_hva, base_gpa, off) do {				\
	rec[n].hva = (base_hva) + (off);				\
	rec[n].gpa = (base_gpa) + (off);				\
	n++;								\
} while (0)
	ADD_REC(self->mem, SLOT0_GPA, 0x30000);
	ADD_REC(self->mem, SLOT0_GPA, SLOT0_SIZE - REC);
	ADD_REC(high, HIGH_GPA, 0);
	ADD_REC(high, HIGH_GPA, 0x8020);
	ADD_REC(high, HIGH_GPA, HIGH_SIZE - REC);
	ADD_REC(top, top_gpa, 0);
	ADD_REC(top, top_gpa, TOP_SIZE / 2 + 0x40);
	ADD_REC(top, top_gpa, TOP_SIZE - REC);
#undef ADD_REC

	for (k = 0; k < n; k++) {
		__u64 v = 0x0123456789abcdefULL ^ (0x1111111111111111ULL * k);

		memset(rec[k].hva, 0xcc, REC);
		memcpy(rec[k].hva, &v, 8);
		args[k] = rec[k].gpa;
	}
	vcpu_start(_metadata, self, i, guest_memory);
	reg_set(_metadata, self->fd[i], XREG(1), SLOT0_GPA + DATA_OFF);
	reg_set(_metadata, self->fd[i], XREG(2), n);
	for (k = 0; k < n; k++) {
		unsigned long long gpa = rec[k].gpa;

		EXPECT_EQ(0x0123456789abcdefULL ^ (0x1111111111111111ULL * k),
			  run_report(_metadata, self, i))
			TH_LOG("read at %#llx", gpa);
	}
	run_done(_metadata, self, i);

	for (k = 0; k < n; k++) {
		unsigned char want[REC];
		__u64 v, nv;

		memcpy(&v, rec[k].hva, 8);
		nv = ~v;
		memset(want, 0xcc, REC);
		memcpy(want, &v, 8);
		memcpy(want + 8, &nv, 8);
		memcpy(want + 16, &v, 4);
		memcpy(want + 20, &v, 2);
		memcpy(want + 22, &v, 1);
		for (b = 0; b < REC; b++)
			EXPECT_EQ(want[b], (unsigned char)rec[k].hva[b])
				TH_LOG("byte %u of the record at %#llx", b,
				       (unsigned long long)rec[k].gpa);
	}
}

TEST_F(vcpu, mmio_exits)
{
	const __u64 val = 0x1122334455667788ULL;
	const __u64 bases[] = {
		0x0a001000ULL,				/* low */
		0x123456780ULL,				/* above 4 GiB */
		(1ULL << self->ipa_bits) - 16,		/* top of the IPA */
	};
	/*
	 * The loads guest_mmio makes: offset, size, data, result, and
	 * whether the load sign-extends (the result is then the one the
	 * architecture gives, with ESR_EL2.SSE set).
	 */
	static const struct {
		unsigned int off, len;
		__u64 data, result;
		bool sext;
	} loads[] = {
		{ 1, 1, 0xf1, 0xf1, false },			/* ldrb w */
		{ 2, 2, 0xf2e1, 0xf2e1, false },		/* ldrh w */
		{ 4, 4, 0xf4e3d2c1, 0xf4e3d2c1, false },	/* ldr w */
		{ 8, 8, 0xf8e7d6c5b4a39281ULL, 0xf8e7d6c5b4a39281ULL, false },
		{ 1, 1, 0xf1, 0xfffffffffffffff1ULL, true },	/* ldrsb x */
		{ 2, 2, 0xf2e1, 0xfffffffffffff2e1ULL, true },	/* ldrsh x */
		{ 4, 4, 0xf4e3d2c1, 0xfffffffff4e3d2c1ULL, true }, /* ldrsw */
		{ 1, 1, 0xf1, 0xfffffff1ULL, true },		/* ldrsb w */
		{ 2, 2, 0xf2e1, 0xfffff2e1ULL, true },		/* ldrsh w */
	};
	/*
	 * 1: the CPU reports SSE, 0: it does not (QEMU's TCG leaves it
	 * clear), -1: not known yet. Without SSE the hypervisor can only
	 * zero-extend; KVM and okvm must then agree on that.
	 */
	int sse = -1;
	__u64 *args = (__u64 *)(self->mem + DATA_OFF);
	struct kvm_run *run;
	unsigned int b, k;
	__u64 got, want;
	int i, fd;

	i = add_vcpu(_metadata, self, 0, 0);
	fd = self->fd[i];
	for (b = 0; b < ARRAY_SIZE(bases); b++)
		args[b] = bases[b];
	vcpu_start(_metadata, self, i, guest_mmio);
	reg_set(_metadata, fd, XREG(1), SLOT0_GPA + DATA_OFF);
	reg_set(_metadata, fd, XREG(2), ARRAY_SIZE(bases));
	reg_set(_metadata, fd, XREG(5), val);

	for (b = 0; b < ARRAY_SIZE(bases); b++) {
		__u64 base = bases[b];

		run = run_mmio(_metadata, self, i, base + 1, 1, 1);
		EXPECT_EQ(val & 0xff, mmio_data(run));
		if (b == 0) {
			/* The PC steps past the access when it completes. */
			EXPECT_EQ(gpa_of(guest_mmio_first_store),
				  reg_get(_metadata, fd, PC_REG));
			vcpu_complete(_metadata, self, i);
			EXPECT_EQ(gpa_of(guest_mmio_first_store) + 4,
				  reg_get(_metadata, fd, PC_REG));
		}
		run = run_mmio(_metadata, self, i, base + 2, 2, 1);
		EXPECT_EQ(val & 0xffff, mmio_data(run));
		run = run_mmio(_metadata, self, i, base + 4, 4, 1);
		EXPECT_EQ(val & 0xffffffff, mmio_data(run));
		run = run_mmio(_metadata, self, i, base + 8, 8, 1);
		EXPECT_EQ(val, mmio_data(run));

		for (k = 0; k < ARRAY_SIZE(loads); k++) {
			run = run_mmio(_metadata, self, i, base + loads[k].off,
				       loads[k].len, 0);
			mmio_supply(run, loads[k].data);
			if (b == 0 && k == 0) {
				/* Completing the load writes the register. */
				vcpu_complete(_metadata, self, i);
				EXPECT_EQ(gpa_of(guest_mmio_first_load) + 4,
					  reg_get(_metadata, fd, PC_REG));
				EXPECT_EQ(loads[k].result,
					  reg_get(_metadata, fd, XREG(6)));
			}
			got = run_report(_metadata, self, i);
			want = loads[k].result;
			if (loads[k].sext) {
				if (sse < 0) {
					sse = got != loads[k].data;
					if (!sse)
						TH_LOG("no ESR_EL2.SSE on this CPU: sign extension not checked");
				}
				if (!sse)
					want = loads[k].data;
			}
			EXPECT_EQ(want, got) TH_LOG("load %u at %#llx", k,
						    (unsigned long long)base);
		}
	}
	run_done(_metadata, self, i);
}

#define RO_GPA		0x80000000ULL
#define RO_SIZE		0x10000UL

TEST_F(vcpu, readonly_slot_write_is_mmio)
{
	const __u64 val = 0xfeedfacecafebeefULL;
	const __u64 gpa = RO_GPA + 0x1000;
	unsigned char before[PAGE_SZ];
	struct kvm_run *run;
	__u64 v0, v1;
	char *ro;
	int i;

	i = add_vcpu(_metadata, self, 0, 0);
	ro = add_slot(_metadata, self, 3, KVM_MEM_READONLY, RO_GPA, RO_SIZE);
	memset(ro, 0x3c, RO_SIZE);
	v0 = 0x0706050403020100ULL;
	v1 = 0x8f8e8d8c8b8a8988ULL;
	memcpy(ro + 0x1000, &v0, 8);
	memcpy(ro + 0x1008, &v1, 8);
	ro[0x1011] = 0x5e;
	memcpy(before, ro + 0x1000, PAGE_SZ);

	vcpu_start(_metadata, self, i, guest_ro);
	reg_set(_metadata, self->fd[i], XREG(1), gpa);
	reg_set(_metadata, self->fd[i], XREG(5), val);
	EXPECT_EQ(v0, run_report(_metadata, self, i));
	run = run_mmio(_metadata, self, i, gpa + 8, 8, 1);
	EXPECT_EQ(val, mmio_data(run));
	run = run_mmio(_metadata, self, i, gpa + 17, 1, 1);
	EXPECT_EQ(val & 0xff, mmio_data(run));
	EXPECT_EQ(v1, run_report(_metadata, self, i));
	EXPECT_EQ(0x5eULL, run_report(_metadata, self, i));
	run_done(_metadata, self, i);
	EXPECT_EQ(0, memcmp(before, ro + 0x1000, PAGE_SZ));
}

TEST_F(vcpu, immediate_exit_and_signal)
{
	__u64 entry = gpa_of(guest_spin), pc, x0, x0_first;
	struct kvm_run *run;
	struct kicker k;
	int i, fd, err;

	install_sigusr1(_metadata);
	i = add_vcpu(_metadata, self, 0, 0);
	fd = self->fd[i];
	run = self->run[i];
	vcpu_start(_metadata, self, i, guest_spin);
	reg_set(_metadata, fd, XREG(0), 0);

	/* immediate_exit: EINTR at once, the guest does not run. */
	run->immediate_exit = 1;
	EXPECT_EQ(EINTR, vcpu_run(self, i));
	EXPECT_EQ(EINTR, vcpu_run(self, i));
	run->immediate_exit = 0;
	EXPECT_EQ(entry, reg_get(_metadata, fd, PC_REG));
	EXPECT_EQ(0ULL, reg_get(_metadata, fd, XREG(0)));

	/* A signal gets the spinning guest out with KVM_EXIT_INTR. */
	ASSERT_EQ(0, kicker_start(&k, pthread_self(), 50));
	err = vcpu_run(self, i);
	kicker_stop(&k);
	ASSERT_EQ(EINTR, err) TH_LOG("KVM_RUN: %s", strerror(err));
	EXPECT_EQ((__u32)KVM_EXIT_INTR, run->exit_reason);
	x0_first = reg_get(_metadata, fd, XREG(0));
	EXPECT_LT(0ULL, x0_first);
	pc = reg_get(_metadata, fd, PC_REG);
	EXPECT_TRUE(pc == entry || pc == entry + 4) TH_LOG("pc %#llx",
							  (unsigned long long)pc);

	/* And it runs on from there. */
	ASSERT_EQ(0, kicker_start(&k, pthread_self(), 50));
	err = vcpu_run(self, i);
	kicker_stop(&k);
	ASSERT_EQ(EINTR, err);
	EXPECT_EQ((__u32)KVM_EXIT_INTR, run->exit_reason);
	x0 = reg_get(_metadata, fd, XREG(0));
	EXPECT_LT(x0_first, x0);

	vcpu_start(_metadata, self, i, guest_report_x0);
	EXPECT_EQ(x0, run_report(_metadata, self, i));
	run_done(_metadata, self, i);
}

/* vCPU 1 of the psci test, on its own thread. */
struct secondary {
	int fd;
	struct kvm_run *run;
	int reports;		/* reports[] filled so far */
	__u64 report[2];
	int go;			/* may run on after the two reports */
	int done;
	int err;		/* of the KVM_RUN that ended it */
	__u32 exit_reason;
	__u64 phys_addr;
};

static void *secondary_fn(void *arg)
{
	struct secondary *s = arg;
	int n;

	for (;;) {
		s->err = ioctl(s->fd, KVM_RUN, NULL) ? errno : 0;
		s->exit_reason = s->run->exit_reason;
		s->phys_addr = s->run->mmio.phys_addr;
		n = s->reports;
		if (s->err || s->exit_reason != KVM_EXIT_MMIO ||
		    s->phys_addr != TESTDEV_REPORT || n >= 2)
			break;
		memcpy(&s->report[n], s->run->mmio.data, 8);
		__atomic_store_n(&s->reports, n + 1, __ATOMIC_RELEASE);
		if (n + 1 == 2 && !wait_for(&s->go, 1, 20000)) {
			s->err = ETIMEDOUT;
			break;
		}
	}
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

#define PSCI_CTX	0x0123456789abcdefULL

TEST_F(vcpu, psci)
{
	struct secondary s = { 0 };
	struct kicker k;
	pthread_t thread;
	__u64 version, features;
	int v0, v1, fd;

	install_sigusr1(_metadata);
	v0 = add_vcpu(_metadata, self, 0, 0);
	v1 = add_vcpu(_metadata, self, 1, 1U << KVM_ARM_VCPU_POWER_OFF);
	fd = self->fd[v0];
	EXPECT_EQ((__u32)KVM_MP_STATE_RUNNABLE, mp_state(_metadata, self, v0));
	EXPECT_EQ((__u32)KVM_MP_STATE_STOPPED, mp_state(_metadata, self, v1));

	vcpu_start(_metadata, self, v0, guest_psci_primary);
	reg_set(_metadata, fd, XREG(21), gpa_of(guest_psci_secondary));
	reg_set(_metadata, fd, XREG(22), PSCI_CTX);
	reg_set(_metadata, fd, XREG(23), 1);

	/* vCPU 1 waits in KVM_RUN, powered off. */
	s.fd = self->fd[v1];
	s.run = self->run[v1];
	ASSERT_EQ(0, pthread_create(&thread, NULL, secondary_fn, &s));
	usleep(50000);

	version = run_report(_metadata, self, v0);
	EXPECT_LE(2ULL, version) TH_LOG("PSCI version %#llx",
					(unsigned long long)version);
	EXPECT_GT(0x10000000ULL, version);
	features = run_report(_metadata, self, v0);
	if (version >= 0x10000)
		EXPECT_EQ(PSCI_SUCCESS, features) TH_LOG("PSCI_FEATURES(CPU_ON)");
	EXPECT_EQ(PSCI_NOT_SUPPORTED, run_report(_metadata, self, v0))
		TH_LOG("unknown SMCCC function");
	EXPECT_EQ(PSCI_AFF_OFF, run_report(_metadata, self, v0));
	EXPECT_EQ(PSCI_INVALID_PARAMS, run_report(_metadata, self, v0))
		TH_LOG("CPU_ON of a missing MPIDR");
	/* Still off: it has not run. */
	EXPECT_EQ(0, __atomic_load_n(&s.reports, __ATOMIC_ACQUIRE));
	EXPECT_EQ(0, __atomic_load_n(&s.done, __ATOMIC_ACQUIRE));

	EXPECT_EQ(PSCI_SUCCESS, run_report(_metadata, self, v0))
		TH_LOG("CPU_ON");
	ASSERT_TRUE(wait_for(&s.reports, 2, 10000))
		TH_LOG("vCPU 1: %d reports, err %s, exit %u at %#llx",
		       s.reports, strerror(s.err), s.exit_reason,
		       (unsigned long long)s.phys_addr);
	EXPECT_EQ(PSCI_CTX, s.report[0]) TH_LOG("x0 at the entry");
	EXPECT_EQ(0x80000001ULL, s.report[1]) TH_LOG("MPIDR_EL1");
	EXPECT_EQ(PSCI_ALREADY_ON, run_report(_metadata, self, v0));
	EXPECT_EQ(PSCI_AFF_ON, run_report(_metadata, self, v0));

	/* vCPU 1 turns itself off; its KVM_RUN waits until a signal. */
	__atomic_store_n(&s.go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(PSCI_AFF_OFF, run_report(_metadata, self, v0));
	ASSERT_EQ(0, kicker_start(&k, thread, 0));
	wait_for(&s.done, 1, 10000);
	kicker_stop(&k);
	ASSERT_TRUE(__atomic_load_n(&s.done, __ATOMIC_ACQUIRE));
	pthread_join(thread, NULL);
	EXPECT_EQ(EINTR, s.err) TH_LOG("vCPU 1: %s, exit %u at %#llx",
				       strerror(s.err), s.exit_reason,
				       (unsigned long long)s.phys_addr);
	EXPECT_EQ((__u32)KVM_EXIT_INTR, s.exit_reason);
	EXPECT_EQ((__u32)KVM_MP_STATE_STOPPED, mp_state(_metadata, self, v1));

	run_system_event(_metadata, self, v0, KVM_SYSTEM_EVENT_RESET);

	/* As after a reset: initialise again and switch off. */
	ASSERT_EQ(0, init_vcpu(self, v0, 0));
	vcpu_start(_metadata, self, v0, guest_system_off);
	run_system_event(_metadata, self, v0, KVM_SYSTEM_EVENT_SHUTDOWN);
}

#define DIRTY_GPA	0x100000000ULL
#define DIRTY_PAGES	64

/* Run guest_touch over @write and @read (page bitmaps); the dirty log. */
static __u64 touch_pages(struct __test_metadata *_metadata,
			 FIXTURE_DATA(vcpu) *self, int i, __u64 write,
			 __u64 read)
{
	__u64 *args = (__u64 *)(self->mem + DATA_OFF);
	__u64 bitmap[DIRTY_PAGES / 64] = { ~0ULL };
	struct kvm_dirty_log log = { .slot = 4, .dirty_bitmap = bitmap };
	unsigned int p, n = 0;

	for (p = 0; p < DIRTY_PAGES; p++) {
		if (write & (1ULL << p))
			args[n++] = (DIRTY_GPA + p * PAGE_SZ + 8 * p) | 1;
		else if (read & (1ULL << p))
			args[n++] = DIRTY_GPA + p * PAGE_SZ + 8 * p;
	}
	vcpu_start(_metadata, self, i, guest_touch);
	reg_set(_metadata, self->fd[i], XREG(1), SLOT0_GPA + DATA_OFF);
	reg_set(_metadata, self->fd[i], XREG(2), n);
	run_done(_metadata, self, i);
	EXPECT_EQ(0, ioctl(self->vm, KVM_GET_DIRTY_LOG, &log))
		TH_LOG("KVM_GET_DIRTY_LOG: %s", strerror(errno));
	return bitmap[0];
}

TEST_F(vcpu, dirty_log_from_guest)
{
	const __u64 a = (1ULL << 0) | (1ULL << 5) | (1ULL << 31) |
			(1ULL << 32) | (1ULL << 63);
	const __u64 b = (1ULL << 1) | (1ULL << 2) | (1ULL << 40);
	char *mem;
	__u64 got;
	unsigned int p;
	int i;

	i = add_vcpu(_metadata, self, 0, 0);
	mem = add_slot(_metadata, self, 4, KVM_MEM_LOG_DIRTY_PAGES, DIRTY_GPA,
		       DIRTY_PAGES * PAGE_SZ);
	memset(mem, 0, DIRTY_PAGES * PAGE_SZ);

	/* Writes to A, reads of B: exactly A. */
	got = touch_pages(_metadata, self, i, a, b);
	EXPECT_EQ(a, got) TH_LOG("dirty %#llx, wanted %#llx",
				 (unsigned long long)got, (unsigned long long)a);
	/* Writes to B, reads of A: exactly B. */
	got = touch_pages(_metadata, self, i, b, a);
	EXPECT_EQ(b, got) TH_LOG("dirty %#llx, wanted %#llx",
				 (unsigned long long)got, (unsigned long long)b);
	/* Reads only: nothing. */
	got = touch_pages(_metadata, self, i, 0, ~0ULL);
	EXPECT_EQ(0ULL, got) TH_LOG("dirty %#llx", (unsigned long long)got);
	/* A again: pages written before are write-protected once more. */
	got = touch_pages(_metadata, self, i, a, 0);
	EXPECT_EQ(a, got) TH_LOG("dirty %#llx", (unsigned long long)got);

	for (p = 0; p < DIRTY_PAGES; p++) {
		__u64 v, want = 0;

		if ((a | b) & (1ULL << p))
			want = DIRTY_GPA + p * PAGE_SZ + 8 * p;
		memcpy(&v, mem + p * PAGE_SZ + 8 * p, 8);
		EXPECT_EQ(want, v) TH_LOG("page %u", p);
	}
}

#define COUNT_OFF	0x20000UL
#define COUNT_LOOPS	20000ULL

struct runner {
	int fd;
	struct kvm_run *run;
	int err;
	pthread_t thread;
};

static void *runner_fn(void *arg)
{
	struct runner *r = arg;

	r->err = ioctl(r->fd, KVM_RUN, NULL) ? errno : 0;
	return NULL;
}

TEST_F(vcpu, many_vcpus)
{
	struct runner r[MAX_VCPUS];
	int i, v[MAX_VCPUS];

	for (i = 0; i < MAX_VCPUS; i++) {
		__u64 counter = SLOT0_GPA + COUNT_OFF + 64 * i;

		v[i] = add_vcpu(_metadata, self, i, 0);
		vcpu_start(_metadata, self, v[i], guest_count);
		reg_set(_metadata, self->fd[v[i]], XREG(1), counter);
		reg_set(_metadata, self->fd[v[i]], XREG(2), COUNT_LOOPS);
		memset(self->mem + COUNT_OFF + 64 * i, 0, 64);
		r[i].fd = self->fd[v[i]];
		r[i].run = self->run[v[i]];
		r[i].err = -1;
	}
	for (i = 0; i < MAX_VCPUS; i++)
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL, runner_fn, &r[i]));
	for (i = 0; i < MAX_VCPUS; i++)
		pthread_join(r[i].thread, NULL);

	for (i = 0; i < MAX_VCPUS; i++) {
		__u64 count;

		EXPECT_EQ(0, r[i].err) TH_LOG("vCPU %d: %s", i, strerror(r[i].err));
		EXPECT_EQ((__u32)KVM_EXIT_MMIO, r[i].run->exit_reason) TH_LOG("vCPU %d", i);
		EXPECT_EQ(TESTDEV_REPORT, r[i].run->mmio.phys_addr);
		EXPECT_EQ(SLOT0_GPA + COUNT_OFF + 64 * i, mmio_data(r[i].run));
		memcpy(&count, self->mem + COUNT_OFF + 64 * i, 8);
		EXPECT_EQ(COUNT_LOOPS, count) TH_LOG("vCPU %d", i);
	}
}

#define DEL_GPA		0xc0000000ULL

TEST_F(vcpu, memslot_delete_while_running)
{
	const __u64 v1 = 0x1111111111111111ULL, v2 = 0x2222222222222222ULL;
	const __u64 from_mmio = 0x3333333333333333ULL;
	const __u64 gpa = DEL_GPA + 0x88;
	struct kvm_run *run;
	char *mem, *mem2;
	int i, err;

	i = add_vcpu(_metadata, self, 0, 0);
	mem = add_slot(_metadata, self, 5, 0, DEL_GPA, PAGE_SZ);
	memcpy(mem + 0x88, &v1, 8);
	vcpu_start(_metadata, self, i, guest_read_loop);
	reg_set(_metadata, self->fd[i], XREG(1), gpa);
	EXPECT_EQ(v1, run_report(_metadata, self, i));
	EXPECT_EQ(v1, run_report(_metadata, self, i));

	/* Deleted: the guest's next read is an MMIO exit at that GPA. */
	err = okvm_set_region(self->vm, 5, 0, DEL_GPA, 0, 0);
	ASSERT_EQ(0, err) TH_LOG("delete: %s", strerror(err));
	run = run_mmio(_metadata, self, i, gpa, 8, 0);
	mmio_supply(run, from_mmio);
	EXPECT_EQ(from_mmio, run_report(_metadata, self, i));
	run = run_mmio(_metadata, self, i, gpa, 8, 0);
	mmio_supply(run, from_mmio + 1);
	EXPECT_EQ(from_mmio + 1, run_report(_metadata, self, i));

	/* Back at the same GPA with other memory: the guest reads that. */
	mem2 = alloc_mem(_metadata, self, PAGE_SZ);
	memcpy(mem2 + 0x88, &v2, 8);
	err = okvm_set_region(self->vm, 5, 0, DEL_GPA, PAGE_SZ,
			      (uintptr_t)mem2);
	ASSERT_EQ(0, err) TH_LOG("re-add: %s", strerror(err));
	EXPECT_EQ(v2, run_report(_metadata, self, i));
	EXPECT_EQ(v2, run_report(_metadata, self, i));
}

#else /* !__aarch64__ */

FIXTURE(vcpu) {
	int unused;
};

FIXTURE_SETUP(vcpu)
{
	SKIP(return, "okvm runs vCPUs on arm64 only for now");
}

FIXTURE_TEARDOWN(vcpu)
{
}

TEST_F(vcpu, create_vcpu_abi) { }
TEST_F(vcpu, one_reg_core) { }
TEST_F(vcpu, one_reg_sysregs) { }
TEST_F(vcpu, guest_memory) { }
TEST_F(vcpu, mmio_exits) { }
TEST_F(vcpu, readonly_slot_write_is_mmio) { }
TEST_F(vcpu, immediate_exit_and_signal) { }
TEST_F(vcpu, psci) { }
TEST_F(vcpu, dirty_log_from_guest) { }
TEST_F(vcpu, many_vcpus) { }
TEST_F(vcpu, memslot_delete_while_running) { }

#endif /* __aarch64__ */

TEST_HARNESS_MAIN
