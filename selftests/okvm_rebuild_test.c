// SPDX-License-Identifier: GPL-2.0
/*
 * Seed 004: a rebuild of the whole second-stage table (OKVM_TEST_REBUILD:
 * a new, empty root; the old table freed) while vCPUs run guest code. The
 * rebuild kicks every vCPU out; none may enter the guest again, and no
 * fault may install, until the old table is gone. okvm reports how many
 * guest entries happened while a rebuild ran: always 0 unless a vCPU
 * re-entered without re-checking (the bug).
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "okvm_util.h"

#ifdef __aarch64__

#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	0x200000ULL
#define MMIO_GPA	0x0a000000ULL
#define NR_VCPUS	2
#define NR_REBUILDS	40
#define REBUILD_DELAY_US 2000

/*
 * Guest, MMU off: x1 points at its counter in RAM, x2 at the MMIO page,
 * x5 at a scratch area of 8 pages. Increment the counter forever, touch
 * one scratch page per round, report every 256th value by an MMIO store.
 */
extern char rb_guest_start[], rb_guest_end[];
__asm__(
	".pushsection .rodata\n"
	".balign 4\n"
	".global rb_guest_start\n"
	".global rb_guest_end\n"
	"rb_guest_start:\n"
	"1:	ldr	x3, [x1]\n"
	"	add	x3, x3, #1\n"
	"	str	x3, [x1]\n"
	"	and	x4, x3, #7\n"
	"	lsl	x4, x4, #12\n"
	"	str	x3, [x5, x4]\n"
	"	and	x4, x3, #0xff\n"
	"	cbnz	x4, 1b\n"
	"	str	x3, [x2]\n"
	"	b	1b\n"
	"rb_guest_end:\n"
	".popsection\n");

struct rb_vcpu {
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	uint64_t last;		/* last counter value reported */
	uint64_t exits;
	int error;		/* an unexpected exit or errno */
};

static volatile int rb_stop;

static void *rb_vcpu_thread(void *arg)
{
	struct rb_vcpu *v = arg;

	while (!rb_stop) {
		if (ioctl(v->fd, KVM_RUN, 0)) {
			v->error = errno;
			break;
		}
		if (v->run->exit_reason != KVM_EXIT_MMIO ||
		    !v->run->mmio.is_write ||
		    v->run->mmio.phys_addr != MMIO_GPA) {
			v->error = 1000 + v->run->exit_reason;
			break;
		}
		memcpy(&v->last, v->run->mmio.data, sizeof(v->last));
		v->exits++;
	}
	return NULL;
}

FIXTURE(rebuild) {
	int dev, vm;
	uint8_t *ram;
	struct rb_vcpu v[NR_VCPUS];
};

FIXTURE_SETUP(rebuild)
{
	struct kvm_userspace_memory_region r = {};
	int i;

	self->dev = okvm_open(OKVM_DEV);
	if (self->dev < 0)
		SKIP(return, "no %s", OKVM_DEV);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	self->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ram);
	memcpy(self->ram, rb_guest_start, rb_guest_end - rb_guest_start);
	r.guest_phys_addr = RAM_GPA;
	r.memory_size = RAM_SIZE;
	r.userspace_addr = (uintptr_t)self->ram;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));

	for (i = 0; i < NR_VCPUS; i++) {
		struct rb_vcpu *v = &self->v[i];
		/* Counter i at page 1 + i, scratch pages from 16 + 8 * i. */
		uint64_t counter = RAM_GPA + (1 + i) * 4096ULL;
		uint64_t scratch = RAM_GPA + (16 + 8 * i) * 4096ULL;

		v->fd = okvm_arm64_vcpu(self->dev, self->vm, i, RAM_GPA,
					&v->run);
		ASSERT_LE(0, v->fd);
		ASSERT_EQ(0, okvm_set_reg(v->fd, OKVM_CORE_REG(regs.regs[1]),
					  counter));
		ASSERT_EQ(0, okvm_set_reg(v->fd, OKVM_CORE_REG(regs.regs[2]),
					  MMIO_GPA));
		ASSERT_EQ(0, okvm_set_reg(v->fd, OKVM_CORE_REG(regs.regs[5]),
					  scratch));
	}
}

FIXTURE_TEARDOWN(rebuild)
{
	struct okvm_test_delay d = { .point = OKVM_DELAY_REBUILD };
	int i;

	if (self->dev < 0)
		return;
	ioctl(self->vm, OKVM_TEST_SET_DELAY, &d);
	for (i = 0; i < NR_VCPUS; i++)
		close(self->v[i].fd);
	close(self->vm);
	close(self->dev);
}

static double rb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Rebuild the table again and again, with a wide window between the
 * switch to the new root and the freeing of the old table, while two
 * vCPUs keep faulting their pages back in and exiting to userspace.
 */
TEST_F_TIMEOUT(rebuild, seed004_rebuild_while_running, 300)
{
	struct okvm_test_delay d = {
		.point = OKVM_DELAY_REBUILD, .usecs = REBUILD_DELAY_US,
	};
	uint64_t during = 0, before[NR_VCPUS];
	double t0, tsum = 0;
	int i, n;

	ASSERT_EQ(0, ioctl(self->vm, OKVM_TEST_SET_DELAY, &d));
	rb_stop = 0;
	for (i = 0; i < NR_VCPUS; i++)
		ASSERT_EQ(0, pthread_create(&self->v[i].thread, NULL,
					    rb_vcpu_thread, &self->v[i]));
	/* Let both vCPUs reach the guest loop first. */
	for (n = 0; n < 1000 && (!self->v[0].exits || !self->v[1].exits); n++)
		usleep(1000);

	for (n = 0; n < NR_REBUILDS; n++) {
		struct okvm_test_rebuild rb = {};

		for (i = 0; i < NR_VCPUS; i++)
			before[i] = self->v[i].exits;
		t0 = rb_now();
		ASSERT_EQ(0, ioctl(self->vm, OKVM_TEST_REBUILD, &rb));
		tsum += rb_now() - t0;
		if (rb.entries_during)
			TH_LOG("rebuild %d: %llu guest entries while it ran",
			       n, (unsigned long long)rb.entries_during);
		during += rb.entries_during;
		/* The guest goes on after each rebuild. */
		for (i = 0; i < NR_VCPUS; i++) {
			int w;

			for (w = 0; w < 2000 && self->v[i].exits == before[i] &&
			     !self->v[i].error; w++)
				usleep(500);
		}
	}
	rb_stop = 1;
	for (i = 0; i < NR_VCPUS; i++) {
		pthread_join(self->v[i].thread, NULL);
		EXPECT_EQ(0, self->v[i].error);
		EXPECT_LT(0ULL, (unsigned long long)self->v[i].exits);
	}
	ksft_print_msg("seed004: %d rebuilds, %.2f ms each, exits %llu/%llu, entries during rebuilds %llu\n",
		       NR_REBUILDS, tsum * 1000 / NR_REBUILDS,
		       (unsigned long long)self->v[0].exits,
		       (unsigned long long)self->v[1].exits,
		       (unsigned long long)during);
	EXPECT_EQ(0ULL, (unsigned long long)during);

	/* Memory stayed the guest's: the counters passed what was reported. */
	for (i = 0; i < NR_VCPUS; i++) {
		uint64_t c;

		memcpy(&c, self->ram + (1 + i) * 4096, sizeof(c));
		EXPECT_LE(self->v[i].last, c);
	}
}

/* A rebuild of a VM with no vCPU and nothing mapped. */
TEST_F(rebuild, rebuild_idle_vm)
{
	struct okvm_test_rebuild rb = {};
	int vm = okvm_create_vm(self->dev, 0);

	ASSERT_LE(0, vm);
	ASSERT_EQ(0, ioctl(vm, OKVM_TEST_REBUILD, &rb));
	EXPECT_EQ(0ULL, (unsigned long long)rb.entries_during);
	close(vm);
}

#else /* !__aarch64__ */

TEST(seed004_rebuild_while_running)
{
	SKIP(return, "vCPUs are arm64-only for now");
}

#endif

TEST_HARNESS_MAIN
