// SPDX-License-Identifier: GPL-2.0
/*
 * okvm VM creation, lifetime and VM file ioctls.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "okvm_util.h"

#define NR_VMS		200
#define SHUFFLE_SEED	0x6f6b766dU

/* <asm/kvm.h> before Linux 6.8 does not name the default VM type. */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM	0
#endif

#ifdef __aarch64__
static int ipa_limit(struct __test_metadata *_metadata, int dev)
{
	int max = ioctl(dev, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);

	ASSERT_LE(32, max);
	ASSERT_GE(48, max);
	return max;
}
#endif

TEST(bad_vm_types)
{
#ifdef __aarch64__
	const unsigned long types[] = {
		31,			/* below the 32-bit minimum */
		200,			/* above any IPA size */
		49,			/* above okvm's 48-bit maximum */
		40 | (1UL << 8),	/* a bit outside the IPA field */
		40 | (1UL << 31),
		1UL << 63,
	};
#else
	const unsigned long types[] = { 1, 2, 0x80000000UL, 1UL << 63 };
#endif
	int dev = okvm_open(OKVM_DEV);
	unsigned int i;

	ASSERT_LE(0, dev);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		unsigned long type = types[i];

		errno = 0;
		EXPECT_EQ(-1, okvm_create_vm(dev, type)) TH_LOG("type %#lx", type);
		EXPECT_EQ(EINVAL, errno) TH_LOG("type %#lx", type);
	}
#ifdef __aarch64__
	/* One bit more than the limit the capability reports. */
	errno = 0;
	EXPECT_EQ(-1, okvm_create_vm(dev, ipa_limit(_metadata, dev) + 1));
	EXPECT_EQ(EINVAL, errno);
#endif
	close(dev);
}

#ifdef __aarch64__
/* 0 (meaning 40 bits), 32, 40 and the reported maximum. */
static void check_good_types(struct __test_metadata *_metadata, int dev)
{
	int max = ipa_limit(_metadata, dev);
	const unsigned long types[] = { 0, 32, 40, max };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		unsigned long type = types[i];
		int vm = okvm_create_vm(dev, type);

		if ((type ? type : 40) <= (unsigned long)max) {
			EXPECT_LE(0, vm) TH_LOG("type %lu: %s", type,
						strerror(errno));
		} else {
			EXPECT_EQ(-1, vm) TH_LOG("type %lu", type);
			EXPECT_EQ(EINVAL, errno);
		}
		if (vm >= 0)
			close(vm);
	}
}
#else
static void check_good_types(struct __test_metadata *_metadata, int dev)
{
	int vm = okvm_create_vm(dev, KVM_X86_DEFAULT_VM);

	EXPECT_LE(0, vm) TH_LOG("type 0: %s", strerror(errno));
	if (vm >= 0)
		close(vm);
}
#endif

TEST(good_vm_types)
{
	int dev = okvm_open(OKVM_DEV);

	ASSERT_LE(0, dev);
	check_good_types(_metadata, dev);
	close(dev);
}

TEST(vm_fd_is_cloexec)
{
	int dev = okvm_open(OKVM_DEV);
	int vm;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	EXPECT_TRUE(fcntl(vm, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(vm, F_GETFL) & O_ACCMODE);
	close(vm);
	close(dev);
}

/* Small LCG so the order is the same on every libc. */
static unsigned int next_rand(unsigned int *state)
{
	*state = *state * 1103515245U + 12345U;
	return *state >> 16;
}

TEST(many_vms_shuffled)
{
	unsigned int state = SHUFFLE_SEED;
	int fds[NR_VMS], order[NR_VMS];
	int dev = okvm_open(OKVM_DEV);
	int i, round;

	ASSERT_LE(0, dev);
	for (i = 0; i < NR_VMS; i++)
		order[i] = i;
	for (i = NR_VMS - 1; i > 0; i--) {
		int j = next_rand(&state) % (i + 1);
		int tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}

	for (round = 0; round < 2; round++) {
		for (i = 0; i < NR_VMS; i++) {
			fds[i] = okvm_create_vm(dev, 0);
			ASSERT_LE(0, fds[i]) TH_LOG("round %d vm %d: %s", round,
						    i, strerror(errno));
		}
		for (i = 0; i < NR_VMS; i++) {
			int fd = fds[order[i]];

			EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, 0x7fffffff));
			ASSERT_EQ(0, close(fd));
		}
	}
	close(dev);
}

TEST(vm_outlives_dev_fd)
{
	int dev = okvm_open(OKVM_DEV);
	int vm, before;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	before = ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, close(dev));

	EXPECT_EQ(before, ioctl(vm, KVM_CHECK_EXTENSION,
				KVM_CAP_ARM_VM_IPA_SIZE));
	EXPECT_EQ(0, ioctl(vm, KVM_CHECK_EXTENSION, 0x7fffffff));
	errno = 0;
	EXPECT_EQ(-1, ioctl(vm, OKVM_UNUSED_KVM_IOCTL, 0));
	EXPECT_EQ(KVM_UNKNOWN_VM_IOCTL_ERRNO, errno);
	EXPECT_EQ(0, close(vm));
}

TEST(vm_check_extension_matches_system)
{
	const long caps[] = { KVM_CAP_ARM_VM_IPA_SIZE, KVM_CAP_USER_MEMORY,
			      0x7fffffff, -1 };
	int dev = okvm_open(OKVM_DEV);
	unsigned int i;
	int vm;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		long cap = caps[i];

		EXPECT_EQ(ioctl(dev, KVM_CHECK_EXTENSION, cap),
			  ioctl(vm, KVM_CHECK_EXTENSION, cap)) TH_LOG("cap %ld", cap);
	}
	close(vm);
	close(dev);
}

TEST(vm_ioctl_from_other_mm)
{
	int dev = okvm_open(OKVM_DEV);
	int vm, status;
	pid_t pid;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child has its own mm: KVM answers -EIO to everything. */
		int ok = ioctl(vm, KVM_CHECK_EXTENSION, 0) == -1 && errno == EIO;

		ok = ok && ioctl(vm, OKVM_UNUSED_KVM_IOCTL, 0) == -1 &&
		     errno == EIO;
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The creator keeps working. */
	EXPECT_EQ(0, ioctl(vm, KVM_CHECK_EXTENSION, 0x7fffffff));
	close(vm);
	close(dev);
}

static void *thread_check_extension(void *arg)
{
	int vm = *(int *)arg;

	return (void *)(long)ioctl(vm, KVM_CHECK_EXTENSION, 0x7fffffff);
}

TEST(vm_ioctl_from_thread_same_mm)
{
	int dev = okvm_open(OKVM_DEV);
	pthread_t thread;
	void *ret;
	int vm;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, pthread_create(&thread, NULL, thread_check_extension, &vm));
	ASSERT_EQ(0, pthread_join(thread, &ret));
	EXPECT_EQ(0L, (long)ret);
	close(vm);
	close(dev);
}

TEST(unknown_vm_ioctls)
{
	const unsigned long cmds[] = {
		OKVM_UNUSED_KVM_IOCTL,
		_IOR('x', 0x42, int),	/* not a KVM ioctl at all */
		KVM_GET_API_VERSION,	/* system ioctl, not a VM one */
	};
	int dev = okvm_open(OKVM_DEV);
	unsigned int i;
	int vm;

	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		unsigned long cmd = cmds[i];

		errno = 0;
		EXPECT_EQ(-1, ioctl(vm, cmd, 0)) TH_LOG("cmd %#lx", cmd);
		EXPECT_EQ(KVM_UNKNOWN_VM_IOCTL_ERRNO, errno)
			TH_LOG("cmd %#lx", cmd);
	}
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
