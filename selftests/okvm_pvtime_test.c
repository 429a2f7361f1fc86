// SPDX-License-Identifier: GPL-2.0
/*
 * Paravirtualised stolen time (KVM's arm64 ABI): the vCPU attribute that
 * places the structure, the guest's PV_TIME hypercalls, and stolen time
 * that grows while the vCPU's thread waits for a CPU. okvm writes the
 * structure through a gfn-to-pfn cache, the first guest-visible user of
 * one. The same test passes against the built-in KVM.
 */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "okvm_util.h"

#ifdef __aarch64__

#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	0x200000ULL
#define PVTIME_GPA	(RAM_GPA + 0x10000)
#define MMIO_GPA	0x0a000000ULL
#define NO_BASE		(~0ULL)

/*
 * Guest, MMU off, x2 = the MMIO page. Reports (MMIO stores): 1. what
 * SMCCC_ARCH_FEATURES says of PV_TIME_FEATURES, 2. what PV_TIME_FEATURES
 * says of PV_TIME_ST, 3. PV_TIME_ST's result (the IPA), 4. revision,
 * 5. attributes, then the stolen time, again and again.
 */
extern char pv_guest_start[], pv_guest_end[];
__asm__(
	".pushsection .rodata\n"
	".balign 4\n"
	".global pv_guest_start\n"
	".global pv_guest_end\n"
	"pv_guest_start:\n"
	"	movz	x0, #0x8000, lsl #16\n"
	"	movk	x0, #0x0001\n"
	"	movz	x1, #0xc500, lsl #16\n"
	"	movk	x1, #0x0020\n"
	"	hvc	#0\n"
	"	str	x0, [x2]\n"
	"	movz	x0, #0xc500, lsl #16\n"
	"	movk	x0, #0x0020\n"
	"	movz	x1, #0xc500, lsl #16\n"
	"	movk	x1, #0x0021\n"
	"	hvc	#0\n"
	"	str	x0, [x2]\n"
	"	movz	x0, #0xc500, lsl #16\n"
	"	movk	x0, #0x0021\n"
	"	hvc	#0\n"
	"	str	x0, [x2]\n"
	"	mov	x6, x0\n"
	"	cmn	x6, #1\n"
	"	b.eq	2f\n"
	"	ldr	w3, [x6]\n"
	"	str	x3, [x2]\n"
	"	ldr	w3, [x6, #4]\n"
	"	str	x3, [x2]\n"
	"1:	ldr	x3, [x6, #8]\n"
	"	str	x3, [x2]\n"
	"	b	1b\n"
	"2:	str	x6, [x2]\n"
	"	b	2b\n"
	"pv_guest_end:\n"
	".popsection\n");

FIXTURE(pvtime) {
	int dev, vm, vcpu;
	struct kvm_run *run;
	uint8_t *ram;
};

static int pv_attr(int vcpu, unsigned long ioctl_nr, uint64_t *ipa)
{
	struct kvm_device_attr attr = {
		.group = KVM_ARM_VCPU_PVTIME_CTRL,
		.attr = KVM_ARM_VCPU_PVTIME_IPA,
		.addr = (uintptr_t)ipa,
	};

	return ioctl(vcpu, ioctl_nr, &attr) ? errno : 0;
}

/* Run until the next MMIO store; returns its value, or -1 on trouble. */
static int64_t pv_next_report(struct __test_metadata *_metadata, int vcpu,
			      struct kvm_run *run)
{
	uint64_t v = 0;

	if (ioctl(vcpu, KVM_RUN, 0)) {
		TH_LOG("KVM_RUN: %s", strerror(errno));
		return -1;
	}
	if (run->exit_reason != KVM_EXIT_MMIO || !run->mmio.is_write ||
	    run->mmio.phys_addr != MMIO_GPA) {
		TH_LOG("unexpected exit %u", run->exit_reason);
		return -1;
	}
	memcpy(&v, run->mmio.data, sizeof(v));
	return v;
}

FIXTURE_SETUP(pvtime)
{
	const char *path = getenv("OKVM_VCPU_DEV");
	struct kvm_userspace_memory_region r = {};

	if (!path)
		path = access(OKVM_DEV, F_OK) ? KVM_DEV : OKVM_DEV;
	self->dev = okvm_open(path);
	if (self->dev < 0)
		SKIP(return, "no %s", path);
	if (ioctl(self->dev, KVM_CHECK_EXTENSION, KVM_CAP_STEAL_TIME) <= 0)
		SKIP(return, "no KVM_CAP_STEAL_TIME");
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	self->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ram);
	memcpy(self->ram, pv_guest_start, pv_guest_end - pv_guest_start);
	/* Garbage where the structure goes: PV_TIME_ST must initialise it. */
	memset(self->ram + (PVTIME_GPA - RAM_GPA), 0x5a, 64);
	r.guest_phys_addr = RAM_GPA;
	r.memory_size = RAM_SIZE;
	r.userspace_addr = (uintptr_t)self->ram;
	ASSERT_EQ(0, ioctl(self->vm, KVM_SET_USER_MEMORY_REGION, &r));

	self->vcpu = okvm_arm64_vcpu(self->dev, self->vm, 0, RAM_GPA,
				     &self->run);
	ASSERT_LE(0, self->vcpu);
	ASSERT_EQ(0, okvm_set_reg(self->vcpu, OKVM_CORE_REG(regs.regs[2]),
				  MMIO_GPA));
}

FIXTURE_TEARDOWN(pvtime)
{
	if (self->dev < 0)
		return;
	close(self->vcpu);
	close(self->vm);
	close(self->dev);
}

/* The attribute: checks and errnos, as KVM. */
TEST_F(pvtime, attr_abi)
{
	uint64_t ipa;

	EXPECT_EQ(0, pv_attr(self->vcpu, KVM_HAS_DEVICE_ATTR, &ipa));
	ipa = PVTIME_GPA + 8;
	EXPECT_EQ(EINVAL, pv_attr(self->vcpu, KVM_SET_DEVICE_ATTR, &ipa));
	ipa = 0x100000000ULL;	/* 64-byte aligned, in no memslot */
	EXPECT_EQ(EINVAL, pv_attr(self->vcpu, KVM_SET_DEVICE_ATTR, &ipa));
	ipa = PVTIME_GPA;
	EXPECT_EQ(0, pv_attr(self->vcpu, KVM_SET_DEVICE_ATTR, &ipa));
	EXPECT_EQ(EEXIST, pv_attr(self->vcpu, KVM_SET_DEVICE_ATTR, &ipa));
	ipa = 0;
	EXPECT_EQ(0, pv_attr(self->vcpu, KVM_GET_DEVICE_ATTR, &ipa));
	EXPECT_EQ(PVTIME_GPA, ipa);
}

/* Without a structure the guest is told the service is absent. */
TEST_F(pvtime, no_structure_not_supported)
{
	int64_t v;

	v = pv_next_report(_metadata, self->vcpu, self->run);
	EXPECT_EQ(0, v);	/* the service exists ... */
	v = pv_next_report(_metadata, self->vcpu, self->run);
	EXPECT_EQ(-1, v);	/* ... but ST is not offered to this vCPU */
	v = pv_next_report(_metadata, self->vcpu, self->run);
	EXPECT_EQ(-1, v);
}

static volatile int pv_hog_stop;

static void *pv_hog(void *arg)
{
	while (!pv_hog_stop)
		;
	return NULL;
}

static double pv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * The guest finds its structure and reads a stolen time that never goes
 * back, and grows while a busy thread shares the vCPU thread's CPU.
 */
TEST_F_TIMEOUT(pvtime, stolen_time_grows, 120)
{
	uint64_t ipa = PVTIME_GPA, first, last, hva_val;
	int64_t v;
	cpu_set_t cpus;
	pthread_t hog;
	double t0;
	int n = 0;

	ASSERT_EQ(0, pv_attr(self->vcpu, KVM_SET_DEVICE_ATTR, &ipa));
	EXPECT_EQ(0, pv_next_report(_metadata, self->vcpu, self->run));
	EXPECT_EQ(0, pv_next_report(_metadata, self->vcpu, self->run));
	EXPECT_EQ((int64_t)PVTIME_GPA,
		  pv_next_report(_metadata, self->vcpu, self->run));
	EXPECT_EQ(0, pv_next_report(_metadata, self->vcpu, self->run));
	EXPECT_EQ(0, pv_next_report(_metadata, self->vcpu, self->run));
	v = pv_next_report(_metadata, self->vcpu, self->run);
	ASSERT_LE(0, v);
	first = last = v;

	/* Share one CPU with a busy thread for a while. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	pv_hog_stop = 0;
	ASSERT_EQ(0, pthread_create(&hog, NULL, pv_hog, NULL));
	ASSERT_EQ(0, pthread_setaffinity_np(hog, sizeof(cpus), &cpus));
	t0 = pv_now();
	while (pv_now() - t0 < 1.0) {
		v = pv_next_report(_metadata, self->vcpu, self->run);
		ASSERT_LE(0, v);
		EXPECT_LE(last, (uint64_t)v);
		last = v;
		n++;
	}
	pv_hog_stop = 1;
	pthread_join(hog, NULL);

	memcpy(&hva_val, self->ram + (PVTIME_GPA - RAM_GPA) + 8,
	       sizeof(hva_val));
	ksft_print_msg("pvtime: %d reads, stolen %llu -> %llu ns (memory says %llu)\n",
		       n, (unsigned long long)first, (unsigned long long)last,
		       (unsigned long long)hva_val);
	EXPECT_LT(first, last);
	EXPECT_LE(last, hva_val);
}

#else /* !__aarch64__ */

TEST(stolen_time_grows)
{
	SKIP(return, "vCPUs are arm64-only for now");
}

#endif

TEST_HARNESS_MAIN
