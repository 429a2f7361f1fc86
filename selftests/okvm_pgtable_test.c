// SPDX-License-Identifier: GPL-2.0
/*
 * okvm's second-stage page tables (stage-2 on arm64, NPT and EPT on x86),
 * checked by the in-kernel self-test behind OKVM_TEST_PGTABLE_SELFTEST:
 * every case on every table format of this architecture. The kernel runs
 * the checks on private tables that no guest uses and reports how many
 * held; each case must have run some and failed none.
 *
 * Needs okvm loaded with testing=1; the reload test leaves it that way.
 */
#include <stdio.h>
#include <string.h>

#include "okvm_util.h"

static const char *const case_names[OKVM_PGTEST_NR_CASES] = {
	[OKVM_PGTEST_CASE_MAP]		= "map",
	[OKVM_PGTEST_CASE_ENCODING]	= "encoding",
	[OKVM_PGTEST_CASE_UNMAP]	= "unmap",
	[OKVM_PGTEST_CASE_PERMS]	= "perms",
	[OKVM_PGTEST_CASE_YOUNG]	= "young",
	[OKVM_PGTEST_CASE_SPLIT]	= "split",
	[OKVM_PGTEST_CASE_INVALID]	= "invalid",
	[OKVM_PGTEST_CASE_NOMEM]	= "nomem",
	[OKVM_PGTEST_CASE_REPLACE]	= "replace",
	[OKVM_PGTEST_CASE_DESTROY]	= "destroy",
};

/* The formats of the other architecture, which okvm must refuse. */
#ifdef __aarch64__
static const __u32 foreign_formats[] = {
	OKVM_PGTEST_FMT_NPT4, OKVM_PGTEST_FMT_NPT5,
	OKVM_PGTEST_FMT_EPT4, OKVM_PGTEST_FMT_EPT5,
};
#else
static const __u32 foreign_formats[] = {
	OKVM_PGTEST_FMT_S2_IPA32, OKVM_PGTEST_FMT_S2_IPA40,
	OKVM_PGTEST_FMT_S2_IPA44, OKVM_PGTEST_FMT_S2_IPA48,
	OKVM_PGTEST_FMT_S2_FWB_IPA32, OKVM_PGTEST_FMT_S2_FWB_IPA40,
	OKVM_PGTEST_FMT_S2_FWB_IPA44, OKVM_PGTEST_FMT_S2_FWB_IPA48,
};
#endif

/* OKVM_TEST_PGTABLE_SELFTEST; 0 with *out filled, or an errno. */
static int pgtable_selftest(int vm, __u32 case_id, __u32 format,
			    struct okvm_test_pgtable_selftest *out)
{
	memset(out, 0, sizeof(*out));
	out->case_id = case_id;
	out->format = format;
	return ioctl(vm, OKVM_TEST_PGTABLE_SELFTEST, out) ? errno : 0;
}

FIXTURE(pgtable) {
	int dev;
	int vm;
};

/* One table format the architecture must have. */
FIXTURE_VARIANT(pgtable) {
	__u32 format;
};

#ifdef __aarch64__
FIXTURE_VARIANT_ADD(pgtable, stage2_ipa32) {
	.format = OKVM_PGTEST_FMT_S2_IPA32,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_ipa40) {
	.format = OKVM_PGTEST_FMT_S2_IPA40,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_ipa44) {
	.format = OKVM_PGTEST_FMT_S2_IPA44,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_ipa48) {
	.format = OKVM_PGTEST_FMT_S2_IPA48,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_fwb_ipa32) {
	.format = OKVM_PGTEST_FMT_S2_FWB_IPA32,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_fwb_ipa40) {
	.format = OKVM_PGTEST_FMT_S2_FWB_IPA40,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_fwb_ipa44) {
	.format = OKVM_PGTEST_FMT_S2_FWB_IPA44,
};

FIXTURE_VARIANT_ADD(pgtable, stage2_fwb_ipa48) {
	.format = OKVM_PGTEST_FMT_S2_FWB_IPA48,
};
#else
FIXTURE_VARIANT_ADD(pgtable, npt_4level) {
	.format = OKVM_PGTEST_FMT_NPT4,
};

FIXTURE_VARIANT_ADD(pgtable, npt_5level) {
	.format = OKVM_PGTEST_FMT_NPT5,
};

FIXTURE_VARIANT_ADD(pgtable, ept_4level) {
	.format = OKVM_PGTEST_FMT_EPT4,
};

FIXTURE_VARIANT_ADD(pgtable, ept_5level) {
	.format = OKVM_PGTEST_FMT_EPT5,
};
#endif

FIXTURE_SETUP(pgtable)
{
	self->vm = -1;
	self->dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev) TH_LOG("open %s: %s", OKVM_DEV,
				       strerror(errno));
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(errno));
}

FIXTURE_TEARDOWN(pgtable)
{
	if (self->vm >= 0)
		close(self->vm);
	if (self->dev >= 0)
		close(self->dev);
}

/*
 * Run one case on the variant's format. A format this architecture must
 * have answering EOPNOTSUPP is a failure like any other.
 */
static void run_case(struct __test_metadata *_metadata, int vm,
		     __u32 format, __u32 case_id)
{
	struct okvm_test_pgtable_selftest r;
	int err = pgtable_selftest(vm, case_id, format, &r);

	ASSERT_EQ(0, err) TH_LOG("case %s, format %u: %s (okvm needs testing=1)",
				 case_names[case_id], format, strerror(err));
	r.msg[sizeof(r.msg) - 1] = '\0';
	EXPECT_EQ(0U, r.failed) TH_LOG("case %s: %u of %u checks failed, first: %s",
				       case_names[case_id], r.failed,
				       r.passed + r.failed, r.msg);
	EXPECT_LT(0U, r.passed) TH_LOG("case %s: no check ran",
				       case_names[case_id]);
	TH_LOG("case %s, format %u: %u checks passed", case_names[case_id],
	       format, r.passed);
}

/* 4K, 2M and 1G leaves low, in the middle and at the top of the range. */
TEST_F(pgtable, map)
{
	run_case(_metadata, self->vm, variant->format, OKVM_PGTEST_CASE_MAP);
}

/* Raw entries and VTTBR/VTCR, nCR3, EPTP values from the manuals. */
TEST_F(pgtable, encoding)
{
	run_case(_metadata, self->vm, variant->format,
		 OKVM_PGTEST_CASE_ENCODING);
}

/* Partial and whole ranges, blocks cut by the range; tables freed. */
TEST_F(pgtable, unmap)
{
	run_case(_metadata, self->vm, variant->format, OKVM_PGTEST_CASE_UNMAP);
}

/* Write-protect and relax, with the flushes and icache work they need. */
TEST_F(pgtable, perms)
{
	run_case(_metadata, self->vm, variant->format, OKVM_PGTEST_CASE_PERMS);
}

/* Test and clear the accessed flags. */
TEST_F(pgtable, young)
{
	run_case(_metadata, self->vm, variant->format, OKVM_PGTEST_CASE_YOUNG);
}

/* 2M and 1G blocks into 4K leaves with the same output and attributes. */
TEST_F(pgtable, split)
{
	run_case(_metadata, self->vm, variant->format, OKVM_PGTEST_CASE_SPLIT);
}

/* Unaligned, oversized, out-of-range arguments: EINVAL, no change. */
TEST_F(pgtable, invalid)
{
	run_case(_metadata, self->vm, variant->format,
		 OKVM_PGTEST_CASE_INVALID);
}

/* Too few table pages: ENOMEM before anything changes. */
TEST_F(pgtable, nomem)
{
	run_case(_metadata, self->vm, variant->format, OKVM_PGTEST_CASE_NOMEM);
}

/* Replacing leaves and tables: break, flush, then make. */
TEST_F(pgtable, replace)
{
	run_case(_metadata, self->vm, variant->format,
		 OKVM_PGTEST_CASE_REPLACE);
}

/* Every table page is accounted for, and destroy frees them all. */
TEST_F(pgtable, destroy)
{
	run_case(_metadata, self->vm, variant->format,
		 OKVM_PGTEST_CASE_DESTROY);
}

/* The other architecture's formats, unknown formats and cases. */
TEST(pgtable_bad_requests)
{
	struct okvm_test_pgtable_selftest r;
	int dev, vm;
	unsigned int i;

	dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);

	for (i = 0; i < ARRAY_SIZE(foreign_formats); i++)
		EXPECT_EQ(EOPNOTSUPP, pgtable_selftest(vm, OKVM_PGTEST_CASE_MAP,
						       foreign_formats[i], &r))
			TH_LOG("format %u", foreign_formats[i]);
	EXPECT_EQ(EINVAL, pgtable_selftest(vm, OKVM_PGTEST_CASE_MAP,
					   OKVM_PGTEST_NR_FORMATS, &r));
	EXPECT_EQ(EINVAL, pgtable_selftest(vm, OKVM_PGTEST_CASE_MAP,
					   ~0U, &r));
	EXPECT_EQ(EINVAL, pgtable_selftest(vm, OKVM_PGTEST_NR_CASES,
					   foreign_formats[0], &r));
	EXPECT_EQ(EFAULT, ioctl(vm, OKVM_TEST_PGTABLE_SELFTEST, NULL) ?
		  errno : 0);
	close(vm);
	close(dev);
}

OKVM_RELOAD_FIXTURE();

/* Without testing=1 the self-test is refused. */
TEST_F(reload, pgtable_testing_off_eperm)
{
	struct okvm_test_pgtable_selftest r;
	int dev, vm;

	ASSERT_EQ(0, okvm_unload());
	ASSERT_EQ(0, okvm_load(""));
	dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, dev);
	vm = okvm_create_vm(dev, 0);
	ASSERT_LE(0, vm);
	EXPECT_EQ(EPERM, pgtable_selftest(vm, OKVM_PGTEST_CASE_MAP, 0, &r));
	close(vm);
	close(dev);
}

TEST_HARNESS_MAIN
