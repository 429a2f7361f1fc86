// SPDX-License-Identifier: GPL-2.0
/*
 * VMID generations: okvm reloaded with vmid_bits=2 has three VMIDs for
 * guests, so six VMs taking turns force a rollover almost every round,
 * while two more VMs run continuously on their own threads (their VMIDs
 * are live on a CPU at the rollovers and must be kept). Every VM maps the
 * same GPA to its own page holding its own magic number; a VM that used
 * another VM's translations would read the wrong one.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "okvm_util.h"

#ifdef __aarch64__

#define RAM_GPA		0x40000000ULL
#define RAM_SIZE	0x10000ULL
#define MAGIC_OFF	0x1000
#define MMIO_GPA	0x0a000000ULL
#define NR_TURN_VMS	6
#define NR_BG_VMS	2
#define NR_VMS		(NR_TURN_VMS + NR_BG_VMS)
#define ROUNDS		30

/* Guest: report the word at x1 through an MMIO store to x2, forever. */
extern char vmid_guest_start[], vmid_guest_end[];
__asm__(
	".pushsection .rodata\n"
	".balign 4\n"
	".global vmid_guest_start\n"
	".global vmid_guest_end\n"
	"vmid_guest_start:\n"
	"1:	ldr	x3, [x1]\n"
	"	str	x3, [x2]\n"
	"	b	1b\n"
	"vmid_guest_end:\n"
	".popsection\n");

struct vmid_vm {
	int vm, vcpu;
	struct kvm_run *run;
	uint8_t *ram;
	uint64_t magic;
	uint64_t runs, wrong;
	int error;
	pthread_t thread;
};

static volatile int vmid_stop;

/* One KVM_RUN up to the guest's report; checks it is this VM's magic. */
static void vmid_run_once(struct vmid_vm *v)
{
	uint64_t val = 0;

	if (ioctl(v->vcpu, KVM_RUN, 0)) {
		v->error = errno;
		return;
	}
	if (v->run->exit_reason != KVM_EXIT_MMIO ||
	    v->run->mmio.phys_addr != MMIO_GPA) {
		v->error = 1000 + v->run->exit_reason;
		return;
	}
	memcpy(&val, v->run->mmio.data, sizeof(val));
	v->runs++;
	if (val != v->magic)
		v->wrong++;
}

static void *vmid_bg_thread(void *arg)
{
	struct vmid_vm *v = arg;

	while (!vmid_stop && !v->error)
		vmid_run_once(v);
	return NULL;
}

static int vmid_make_vm(struct __test_metadata *_metadata, int dev,
			struct vmid_vm *v, uint64_t magic)
{
	struct kvm_userspace_memory_region r = {};

	v->magic = magic;
	v->vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, v->vm) return -1;
	v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, v->ram) return -1;
	memcpy(v->ram, vmid_guest_start, vmid_guest_end - vmid_guest_start);
	memcpy(v->ram + MAGIC_OFF, &magic, sizeof(magic));
	r.guest_phys_addr = RAM_GPA;
	r.memory_size = RAM_SIZE;
	r.userspace_addr = (uintptr_t)v->ram;
	ASSERT_EQ(0, ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &r)) return -1;
	v->vcpu = okvm_arm64_vcpu(dev, v->vm, 0, RAM_GPA, &v->run);
	ASSERT_LE(0, v->vcpu) return -1;
	ASSERT_EQ(0, okvm_set_reg(v->vcpu, OKVM_CORE_REG(regs.regs[1]),
				  RAM_GPA + MAGIC_OFF)) return -1;
	ASSERT_EQ(0, okvm_set_reg(v->vcpu, OKVM_CORE_REG(regs.regs[2]),
				  MMIO_GPA)) return -1;
	return 0;
}

OKVM_RELOAD_FIXTURE();

TEST_F_TIMEOUT(reload, vmid_rollover_keeps_vms_apart, 300)
{
	struct vmid_vm v[NR_VMS] = {};
	struct okvm_test_vmid t;
	unsigned long long total = 0;
	int dev, i, r, err;

	err = okvm_unload();
	ASSERT_TRUE(!err || err == ENOENT);
	ASSERT_EQ(0, okvm_load("testing=1 vmid_bits=2"));
	dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, dev);
	for (i = 0; i < NR_VMS; i++)
		ASSERT_EQ(0, vmid_make_vm(_metadata, dev, &v[i],
					  0x5eed0000ULL + i * 0x101));

	vmid_stop = 0;
	for (i = NR_TURN_VMS; i < NR_VMS; i++)
		ASSERT_EQ(0, pthread_create(&v[i].thread, NULL,
					    vmid_bg_thread, &v[i]));
	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < NR_TURN_VMS; i++)
			vmid_run_once(&v[i]);
	vmid_stop = 1;
	for (i = NR_TURN_VMS; i < NR_VMS; i++)
		pthread_join(v[i].thread, NULL);

	memset(&t, 0, sizeof(t));
	ASSERT_EQ(0, ioctl(v[0].vm, OKVM_TEST_VMID, &t));
	EXPECT_EQ(2U, t.bits);
	ksft_print_msg("vmid: %d VMs on 3 VMIDs, %llu rollovers\n", NR_VMS,
		       (unsigned long long)t.rollovers);
	EXPECT_LT(0ULL, (unsigned long long)t.rollovers);
	for (i = 0; i < NR_VMS; i++) {
		memset(&t, 0, sizeof(t));
		EXPECT_EQ(0, ioctl(v[i].vm, OKVM_TEST_VMID, &t));
		/* It ran, with a guest number (not the host's 0). */
		EXPECT_NE(0ULL, (unsigned long long)(t.vmid & 3));
		EXPECT_EQ(0, v[i].error);
		EXPECT_EQ(0ULL, (unsigned long long)v[i].wrong);
		EXPECT_LT(0ULL, (unsigned long long)v[i].runs);
		total += v[i].runs;
		close(v[i].vcpu);
		close(v[i].vm);
	}
	ksft_print_msg("vmid: %llu guest reports, all from the right VM\n",
		       total);
	close(dev);
}

#else /* !__aarch64__ */

TEST(vmid_rollover_keeps_vms_apart)
{
	SKIP(return, "vCPUs are arm64-only for now");
}

#endif

TEST_HARNESS_MAIN
