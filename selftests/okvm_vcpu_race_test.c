// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs racing the host: memslot DELETE, re-CREATE and MOVE while guest
 * code keeps reading the slot, with KSM merging the backing pages (seed
 * 000 seen from the guest); a vCPU blocked in WFI woken by
 * KVM_IRQ_LINE; and an MMIO access the syndrome cannot describe.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "okvm_util.h"

#ifdef __aarch64__

#define CODE_GPA	0x40000000ULL
#define CODE_SIZE	0x10000ULL
#define DATA_GPA	0x80000000ULL
#define DATA_SIZE	0x40000ULL	/* 64 pages */
#define MOVED_GPA	0xc0000000ULL
#define MMIO_GPA	0x0a000000ULL
#define NR_VCPUS	2
#define ROUNDS		12
/* What the vCPU threads answer to a load from the deleted slot. */
#define HOLE		0xdeadULL

/*
 * Guest: read the word at x1 + 4096 * (i % 64), report it to x2, i++.
 * A read from a GPA no slot covers exits as an MMIO load instead.
 */
extern char race_guest_start[], race_guest_end[];
__asm__(
	".pushsection .rodata\n"
	".balign 4\n"
	".global race_guest_start\n"
	".global race_guest_end\n"
	"race_guest_start:\n"
	"	mov	x4, #0\n"
	"1:	and	x5, x4, #63\n"
	"	lsl	x5, x5, #12\n"
	"	ldr	x3, [x1, x5]\n"
	"	str	x3, [x2]\n"
	"	add	x4, x4, #1\n"
	"	b	1b\n"
	"race_guest_end:\n"
	".popsection\n"
	/* WFI guest: report 1, wait for an interrupt, report 2. */
	".pushsection .rodata\n"
	".balign 4\n"
	".global wfi_guest_start\n"
	".global wfi_guest_end\n"
	"wfi_guest_start:\n"
	"	mov	x3, #1\n"
	"	str	x3, [x2]\n"
	"	wfi\n"
	"	mov	x3, #2\n"
	"	str	x3, [x2]\n"
	"	b	.\n"
	"wfi_guest_end:\n"
	".popsection\n");
extern char wfi_guest_start[], wfi_guest_end[];

/* A load pair from MMIO: the CPU gives no syndrome (ISV clear) for it. */
extern char nisv_guest_start[], nisv_guest_end[];
__asm__(
	".pushsection .rodata\n"
	".balign 4\n"
	".global nisv_guest_start\n"
	".global nisv_guest_end\n"
	"nisv_guest_start:\n"
	"	ldp	x3, x4, [x2, #16]\n"
	"	b	.\n"
	"nisv_guest_end:\n"
	".popsection\n");

struct race_vcpu {
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	volatile uint64_t last;		/* last value reported */
	volatile uint64_t reports;
	uint64_t holes;			/* loads that hit the hole */
	uint64_t bad;			/* MMIO loads elsewhere */
	int error;
};

FIXTURE(race) {
	int dev, vm;
	uint8_t *code;
	struct race_vcpu v[NR_VCPUS];
};

static volatile int race_stop;

static void *race_vcpu_thread(void *arg)
{
	struct race_vcpu *v = arg;
	uint64_t val;

	while (!race_stop) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			v->error = errno;
			break;
		}
		if (v->run->exit_reason != KVM_EXIT_MMIO) {
			v->error = 1000 + v->run->exit_reason;
			break;
		}
		if (v->run->mmio.is_write) {
			memcpy((void *)&val, v->run->mmio.data, sizeof(val));
			v->last = val;
			v->reports++;
			continue;
		}
		/* A load outside every slot: must be in the data range. */
		if (v->run->mmio.phys_addr >= DATA_GPA &&
		    v->run->mmio.phys_addr < DATA_GPA + DATA_SIZE)
			v->holes++;
		else
			v->bad++;
		val = HOLE;
		memcpy(v->run->mmio.data, &val, sizeof(val));
	}
	return NULL;
}

static uint8_t *race_data(uint64_t gen)
{
	uint8_t *p = mmap(NULL, DATA_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t off;

	if (p == MAP_FAILED)
		return NULL;
	/* Identical pages: KSM merges them while the guest reads. */
	for (off = 0; off < DATA_SIZE; off += sizeof(gen))
		memcpy(p + off, &gen, sizeof(gen));
	madvise(p, DATA_SIZE, MADV_MERGEABLE);
	return p;
}

/* KSM at full speed (errors ignored: a kernel without KSM still runs). */
static void race_ksm_on(void)
{
	okvm_write_str("/sys/kernel/mm/ksm/sleep_millisecs", "0");
	okvm_write_str("/sys/kernel/mm/ksm/pages_to_scan", "1000");
	okvm_write_str("/sys/kernel/mm/ksm/run", "1");
}

FIXTURE_SETUP(race)
{
	struct kvm_userspace_memory_region r = {};
	const char *path = access(OKVM_DEV, F_OK) ? KVM_DEV : OKVM_DEV;
	int i;

	self->dev = okvm_open(path);
	if (self->dev < 0)
		SKIP(return, "no %s", path);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	self->code = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->code);
	r.guest_phys_addr = CODE_GPA;
	r.memory_size = CODE_SIZE;
	r.userspace_addr = (uintptr_t)self->code;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));
	for (i = 0; i < NR_VCPUS; i++) {
		struct race_vcpu *v = &self->v[i];

		v->fd = okvm_arm64_vcpu(self->dev, self->vm, i, CODE_GPA,
					&v->run);
		ASSERT_LE(0, v->fd);
		ASSERT_EQ(0, okvm_set_reg(v->fd, OKVM_CORE_REG(regs.regs[1]),
					  DATA_GPA));
		ASSERT_EQ(0, okvm_set_reg(v->fd, OKVM_CORE_REG(regs.regs[2]),
					  MMIO_GPA));
	}
}

FIXTURE_TEARDOWN(race)
{
	int i;

	if (self->dev < 0)
		return;
	for (i = 0; i < NR_VCPUS; i++)
		close(self->v[i].fd);
	close(self->vm);
	close(self->dev);
}

/* Wait until every vCPU reported twice more; false on a timeout. */
static bool race_settle(struct race_vcpu *v)
{
	uint64_t start[NR_VCPUS];
	int i, w;

	for (i = 0; i < NR_VCPUS; i++)
		start[i] = v[i].reports;
	for (w = 0; w < 20000; w++) {
		for (i = 0; i < NR_VCPUS; i++)
			if (v[i].reports < start[i] + 2 || v[i].error)
				break;
		if (i == NR_VCPUS)
			return true;
		usleep(100);
	}
	return false;
}

/*
 * Seed 000 from the guest: each round the data slot is deleted (the
 * guest's loads turn into MMIO at the deleted GPAs), created again over
 * new memory holding a new generation number, moved away and back. Once
 * the vCPUs have reported again, they must see the current generation:
 * a mapping left over from a deleted or moved slot would show an older
 * one. KSM keeps merging the identical pages all along.
 */
TEST_F_TIMEOUT(race, seed000_guest_delete_move_under_ksm, 300)
{
	struct kvm_userspace_memory_region r = {
		.slot = 1, .guest_phys_addr = DATA_GPA,
		.memory_size = DATA_SIZE,
	};
	struct okvm_test_delay delay = {
		.point = OKVM_DELAY_MEMSLOT_INVALID, .usecs = 2000,
	};
	uint8_t *data[ROUNDS + 1] = {};
	uint64_t gen, holes = 0;
	int i;

	memcpy(self->code, race_guest_start,
	       race_guest_end - race_guest_start);
	/*
	 * On okvm (testing=1), hold DELETE and MOVE in their INVALID window
	 * for 2 ms, so the vCPUs fault into it; the built-in KVM has no such
	 * knob and refuses the ioctl, which is fine.
	 */
	ioctl(self->vm, OKVM_TEST_SET_DELAY, &delay);
	race_ksm_on();
	data[0] = race_data(1000);
	ASSERT_NE(NULL, data[0]);
	r.userspace_addr = (uintptr_t)data[0];
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));

	race_stop = 0;
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_EQ(0, pthread_create(&self->v[i].thread, NULL,
					    race_vcpu_thread, &self->v[i]));
	ASSERT_TRUE(race_settle(self->v));

	for (gen = 1; gen <= ROUNDS; gen++) {
		/* DELETE: reads become holes. */
		r.memory_size = 0;
		ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));
		ASSERT_TRUE(race_settle(self->v));
		for (i = 0; i < NR_VCPUS; i++)
			EXPECT_EQ(HOLE, self->v[i].last);

		/* CREATE over new memory of the next generation. */
		data[gen] = race_data(1000 + gen);
		ASSERT_NE(NULL, data[gen]);
		r.userspace_addr = (uintptr_t)data[gen];
		r.memory_size = DATA_SIZE;
		ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));
		ASSERT_TRUE(race_settle(self->v));
		for (i = 0; i < NR_VCPUS; i++)
			EXPECT_EQ(1000 + gen, self->v[i].last);

		/* MOVE away (holes again), then back. */
		r.guest_phys_addr = MOVED_GPA;
		ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));
		ASSERT_TRUE(race_settle(self->v));
		for (i = 0; i < NR_VCPUS; i++)
			EXPECT_EQ(HOLE, self->v[i].last);
		r.guest_phys_addr = DATA_GPA;
		ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));
		ASSERT_TRUE(race_settle(self->v));
		for (i = 0; i < NR_VCPUS; i++)
			EXPECT_EQ(1000 + gen, self->v[i].last);
		munmap(data[gen - 1], DATA_SIZE);
		data[gen - 1] = NULL;
	}
	race_stop = 1;
	/* Each vCPU thread leaves at its next exit. */
	for (i = 0; i < NR_VCPUS; i++) {
		pthread_join(self->v[i].thread, NULL);
		EXPECT_EQ(0, self->v[i].error);
		EXPECT_EQ(0ULL, (unsigned long long)self->v[i].bad);
		holes += self->v[i].holes;
	}
	ksft_print_msg("seed000 (guest): %d rounds, %llu+%llu reports, %llu hole loads\n",
		       ROUNDS, (unsigned long long)self->v[0].reports,
		       (unsigned long long)self->v[1].reports,
		       (unsigned long long)holes);
	EXPECT_LT(0ULL, (unsigned long long)holes);
}

static void *wfi_irq_thread(void *arg)
{
	int vm = *(int *)arg;
	struct kvm_irq_level irq = {
		.irq = KVM_ARM_IRQ_TYPE_CPU << KVM_ARM_IRQ_TYPE_SHIFT |
		       KVM_ARM_IRQ_CPU_IRQ,
		.level = 1,
	};

	usleep(200000);
	ioctl(vm, KVM_IRQ_LINE, &irq);
	return NULL;
}

static double race_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* WFI blocks in KVM_RUN until KVM_IRQ_LINE raises the vCPU's IRQ line. */
TEST_F(race, wfi_woken_by_irq_line)
{
	struct race_vcpu *v = &self->v[0];
	struct kvm_irq_level bad = { .irq = 1U << KVM_ARM_IRQ_TYPE_SHIFT };
	uint64_t val = 0;
	pthread_t t;
	double t0;

	/* No irqchip: SPIs and PPIs are refused. */
	EXPECT_EQ(-1, ioctl(self->vm, KVM_IRQ_LINE, &bad));
	EXPECT_EQ(ENXIO, errno);

	memcpy(self->code, wfi_guest_start, wfi_guest_end - wfi_guest_start);
	ASSERT_EQ(0, ioctl(v->fd, KVM_RUN, 0));
	ASSERT_EQ((__u32)KVM_EXIT_MMIO, v->run->exit_reason);
	memcpy(&val, v->run->mmio.data, sizeof(val));
	ASSERT_EQ(1ULL, (unsigned long long)val);

	ASSERT_EQ(0, pthread_create(&t, NULL, wfi_irq_thread, &self->vm));
	t0 = race_now();
	ASSERT_EQ(0, ioctl(v->fd, KVM_RUN, 0));
	pthread_join(t, NULL);
	ASSERT_EQ((__u32)KVM_EXIT_MMIO, v->run->exit_reason);
	memcpy(&val, v->run->mmio.data, sizeof(val));
	EXPECT_EQ(2ULL, (unsigned long long)val);
	/* It slept in WFI until the line went up. */
	EXPECT_LT(0.15, race_now() - t0);
}

/*
 * An MMIO access without a valid syndrome cannot be emulated: KVM_RUN
 * fails with ENOSYS, or with KVM_CAP_ARM_NISV_TO_USER enabled exits as
 * KVM_EXIT_ARM_NISV with the exact IPA; never a guess.
 */
TEST_F(race, mmio_without_syndrome)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };
	struct race_vcpu *v = &self->v[0];

	memcpy(self->code, nisv_guest_start,
	       nisv_guest_end - nisv_guest_start);
	ASSERT_LT(0, ioctl(self->vm, KVM_CHECK_EXTENSION,
			   KVM_CAP_ARM_NISV_TO_USER));
	EXPECT_EQ(-1, ioctl(v->fd, KVM_RUN, 0));
	EXPECT_EQ(ENOSYS, errno);

	ASSERT_EQ(0, ioctl(self->vm, KVM_ENABLE_CAP, &cap));
	ASSERT_EQ(0, ioctl(v->fd, KVM_RUN, 0));
	ASSERT_EQ((__u32)KVM_EXIT_ARM_NISV, v->run->exit_reason);
	EXPECT_EQ(MMIO_GPA + 16, v->run->arm_nisv.fault_ipa);
	/* A read (WnR clear), a translation fault at some level. */
	EXPECT_EQ(0ULL, (unsigned long long)(v->run->arm_nisv.esr_iss &
					      (1U << 6)));
	/* Nothing was emulated: the guest stays on the instruction. */
	ASSERT_EQ(0, ioctl(v->fd, KVM_RUN, 0));
	EXPECT_EQ((__u32)KVM_EXIT_ARM_NISV, v->run->exit_reason);
}

#else /* !__aarch64__ */

TEST(seed000_guest_delete_move_under_ksm)
{
	SKIP(return, "vCPUs are arm64-only for now");
}

#endif

TEST_HARNESS_MAIN
