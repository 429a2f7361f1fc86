// SPDX-License-Identifier: GPL-2.0
/*
 * okvm device nodes and system ioctls.
 */
#include <sys/sysmacros.h>

#include "okvm_util.h"

TEST(okvm_node)
{
	struct stat st;

	ASSERT_EQ(0, okvm_stat_errno(OKVM_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660U, st.st_mode & 07777);
	EXPECT_EQ(KVM_MISC_MAJOR, (int)major(st.st_rdev));
}

TEST(kvm_alias_node)
{
	struct stat st;

	ASSERT_EQ(0, okvm_stat_errno(KVM_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660U, st.st_mode & 07777);
	EXPECT_EQ(KVM_MISC_MAJOR, (int)major(st.st_rdev));
	EXPECT_EQ(KVM_MISC_MINOR, (int)minor(st.st_rdev));
}

TEST(api_version_both_nodes)
{
	static const char * const paths[] = { OKVM_DEV, KVM_DEV };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		int fd = okvm_open(paths[i]);

		ASSERT_LE(0, fd) TH_LOG("open %s: %s", paths[i], strerror(errno));
		EXPECT_EQ(12, ioctl(fd, KVM_GET_API_VERSION, 0));
		EXPECT_EQ(OKVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
		close(fd);
	}
}

TEST(api_version_nonzero_arg)
{
	int fd = okvm_open(OKVM_DEV);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_API_VERSION, ~0UL));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(check_extension_unknown_caps)
{
	const long caps[] = { 0x7fffffff, 100000, -1, 0x80000000L, 4096 };
	unsigned int i;
	int fd = okvm_open(OKVM_DEV);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		long cap = caps[i];

		EXPECT_EQ(0, ioctl(fd, KVM_CHECK_EXTENSION, cap))
			TH_LOG("cap %ld", cap);
	}
	close(fd);
}

TEST(check_extension_ipa_size)
{
	int fd = okvm_open(OKVM_DEV);
	int ret;

	ASSERT_LE(0, fd);
	ret = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);
#ifdef __aarch64__
	/* min(48, host PARange), and at least KVM's 32-bit minimum. */
	EXPECT_LE(32, ret);
	EXPECT_GE(48, ret);
#else
	EXPECT_EQ(0, ret);
#endif
	close(fd);
}

TEST(vcpu_mmap_size)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = okvm_open(OKVM_DEV);
	int size;

	ASSERT_LE(0, fd);
	size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	EXPECT_LE(4096, size);
	EXPECT_EQ(0, size % page);
	EXPECT_EQ(-1, ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(unknown_system_ioctls)
{
	const unsigned long cmds[] = {
		OKVM_UNUSED_KVM_IOCTL,
		_IOR('x', 0x42, int),	/* not a KVM ioctl at all */
		0x5401,			/* TCGETS */
		KVM_CREATE_VCPU,	/* a VM ioctl, not a system one */
	};
	unsigned int i;
	int fd = okvm_open(OKVM_DEV);

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		unsigned long cmd = cmds[i];

		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmd, 0)) TH_LOG("cmd %#lx", cmd);
		/* kvm_arch_dev_ioctl() ends in -EINVAL on arm64 and x86. */
		EXPECT_EQ(EINVAL, errno) TH_LOG("cmd %#lx", cmd);
	}
	close(fd);
}

TEST_HARNESS_MAIN
