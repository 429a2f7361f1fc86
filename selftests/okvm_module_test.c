// SPDX-License-Identifier: GPL-2.0
/*
 * okvm module load/unload: device nodes, module references held by open
 * files, the kvm_alias parameter.
 *
 * Every test leaves okvm loaded with default parameters (fixture teardown),
 * whether it passed or not.
 */
#include <sys/sysmacros.h>

#include "okvm_util.h"

#define NR_CYCLES	3

FIXTURE(module) {
	int dev_fd;
	int vm_fd;
};

FIXTURE_SETUP(module)
{
	self->dev_fd = -1;
	self->vm_fd = -1;
}

FIXTURE_TEARDOWN(module)
{
	int err;

	if (self->vm_fd >= 0)
		close(self->vm_fd);
	if (self->dev_fd >= 0)
		close(self->dev_fd);

	/* Back to a default load, whatever state the test left behind. */
	err = okvm_unload();
	if (err && err != ENOENT)
		TH_LOG("teardown: unload: %s", strerror(err));
	err = okvm_load("");
	if (err)
		TH_LOG("teardown: reload: %s", strerror(err));
}

static void expect_nodes_gone(struct __test_metadata *_metadata)
{
	struct stat st;

	EXPECT_EQ(ENOENT, okvm_stat_errno(OKVM_DEV, &st));
	EXPECT_EQ(ENOENT, okvm_stat_errno(KVM_DEV, &st));
}

static void expect_nodes_present(struct __test_metadata *_metadata,
				 int alias)
{
	struct stat st;
	int fd;

	ASSERT_EQ(0, okvm_stat_errno(OKVM_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	fd = okvm_open(OKVM_DEV);
	ASSERT_LE(0, fd);
	EXPECT_EQ(OKVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
	close(fd);

	if (!alias) {
		EXPECT_EQ(ENOENT, okvm_stat_errno(KVM_DEV, &st));
		return;
	}
	ASSERT_EQ(0, okvm_stat_errno(KVM_DEV, &st));
	EXPECT_EQ(KVM_MISC_MAJOR, (int)major(st.st_rdev));
	EXPECT_EQ(KVM_MISC_MINOR, (int)minor(st.st_rdev));
	fd = okvm_open(KVM_DEV);
	ASSERT_LE(0, fd);
	EXPECT_EQ(OKVM_API_VERSION, ioctl(fd, KVM_GET_API_VERSION, 0));
	close(fd);
}

TEST_F(module, unload_reload_cycles)
{
	int i;

	for (i = 0; i < NR_CYCLES; i++) {
		ASSERT_EQ(0, okvm_unload()) TH_LOG("cycle %d", i);
		expect_nodes_gone(_metadata);
		ASSERT_EQ(0, okvm_load("")) TH_LOG("cycle %d", i);
		expect_nodes_present(_metadata, 1);
	}
}

TEST_F(module, load_twice)
{
	EXPECT_EQ(EEXIST, okvm_load(""));
	expect_nodes_present(_metadata, 1);
}

TEST_F(module, busy_while_dev_open)
{
	static const char * const paths[] = { OKVM_DEV, KVM_DEV };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		self->dev_fd = okvm_open(paths[i]);
		ASSERT_LE(0, self->dev_fd) TH_LOG("%s", paths[i]);
		EXPECT_EQ(EWOULDBLOCK, okvm_unload()) TH_LOG("%s", paths[i]);
		/* Still fully there. */
		EXPECT_EQ(OKVM_API_VERSION,
			  ioctl(self->dev_fd, KVM_GET_API_VERSION, 0));
		close(self->dev_fd);
		self->dev_fd = -1;
	}
	EXPECT_EQ(0, okvm_unload());
	expect_nodes_gone(_metadata);
}

TEST_F(module, busy_while_vm_open)
{
	self->dev_fd = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev_fd);
	self->vm_fd = okvm_create_vm(self->dev_fd, 0);
	ASSERT_LE(0, self->vm_fd);

	EXPECT_EQ(EWOULDBLOCK, okvm_unload());

	/* The VM file alone still pins the module. */
	close(self->dev_fd);
	self->dev_fd = -1;
	EXPECT_EQ(EWOULDBLOCK, okvm_unload());
	EXPECT_EQ(0, ioctl(self->vm_fd, KVM_CHECK_EXTENSION, 0x7fffffff));

	close(self->vm_fd);
	self->vm_fd = -1;
	EXPECT_EQ(0, okvm_unload());
	expect_nodes_gone(_metadata);
}

TEST_F(module, no_kvm_alias)
{
	ASSERT_EQ(0, okvm_unload());
	ASSERT_EQ(0, okvm_load("kvm_alias=0"));
	expect_nodes_present(_metadata, 0);

	ASSERT_EQ(0, okvm_unload());
	expect_nodes_gone(_metadata);
	ASSERT_EQ(0, okvm_load(""));
	expect_nodes_present(_metadata, 1);
}

TEST_HARNESS_MAIN
