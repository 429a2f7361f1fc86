// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failure sweeps: every okvm ioctl that allocates memory must
 * fail cleanly when any single one of its slab allocations fails. For each
 * operation the sweep fails its 1st, 2nd, 3rd, ... slab allocation, one per
 * run, until a run no longer reaches the armed allocation. After every run
 * that had an allocation failed, the operation must either have failed
 * with an errno and changed nothing observable, or have succeeded (some
 * allocations have a fallback) with exactly the state a success gives.
 * Leaks (kmemleak) and splats in the kernel log are the harness' part.
 *
 * The failure is injected with failslab and the calling thread's fail-nth
 * counter (Documentation/fault-injection/fault-injection.rst): writing n
 * makes the thread's n-th eligible slab allocation fail, reading back 0
 * says that it did. failslab's interval/times knobs cannot do this: the
 * interval counter is global, runs across operations and is never reset,
 * so interval=n does not select the n-th allocation of one operation.
 * Allocations that may sleep are only eligible with ignore-gfp-wait=N.
 *
 * Kernels without CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS (the
 * Debian ones) skip every test; the arm64 debug kernel has both.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include "okvm_util.h"

#define PAGE		4096UL
#define SLOT_SIZE	(2UL << 20)
#define SLOT_PAGES	(SLOT_SIZE / PAGE)
#define BITMAP_WORDS	(SLOT_PAGES / 64)
#define SLOT_ID		1U
#define SLOT_GPA	0x40000000ULL
#define MOVE_GPA	0x40400000ULL
/* A one-page slot that is never touched: the generation is read from it. */
#define CANARY_ID	7U
#define CANARY_GPA	0x80000000ULL
#define LOG		KVM_MEM_LOG_DIRTY_PAGES

/* No operation here comes close; a sweep that gets there is broken. */
#define MAX_NTH		200
#define MAX_ERRNO	256
#define SWEEP_TIMEOUT	600

/* The pfn cache under test, and where in the slot it points. */
#define PFC_ID		0U
#define PFC_GPA		(SLOT_GPA + 5 * PAGE + 0x238)
#define PFC_HVA_OFF	(5 * PAGE + 0x238)

#define DEBUGFS		"/sys/kernel/debug"
#define FAILSLAB	DEBUGFS "/failslab"

/* Pages of the slot that are mapped or dirtied: first, last, both words. */
static const unsigned int touched[] = { 0, 1, 65, 300, SLOT_PAGES - 1 };
#define NR_TOUCHED	ARRAY_SIZE(touched)

/*
 * failslab set up for fail-nth alone: every slab allocation of the armed
 * thread counts, sleeping ones included, and with probability 0 nothing
 * fails at random nor prints (verbose 2, the default, would print a stack
 * trace per failure, which the harness rightly counts as a splat).
 */
static const char * const knob_name[] = {
	"probability", "task-filter", "ignore-gfp-wait", "cache-filter",
	"interval", "times", "space", "verbose",
};

static const char * const knob_value[] = {
	"0", "Y", "N", "N", "1", "-1", "0", "0",
};

FIXTURE(failslab) {
	int dev;
	int vm;
	int nth;		/* this thread's fail-nth file */
	bool knobs_set;
	char saved[ARRAY_SIZE(knob_name)][32];
	char *mem;		/* SLOT_SIZE bytes behind slot SLOT_ID */
	char *canary;		/* one page behind slot CANARY_ID */
	/* What slot SLOT_ID is right now: its GPA (0: no slot), its flags. */
	__u64 slot_gpa;
	__u32 slot_flags;
	/* Recorded before each operation. */
	__u64 gen;
	__u64 phys[NR_TOUCHED];
	/* Per test: the flags CREATE uses, the next page RESOLVE maps. */
	__u32 create_flags;
	unsigned int next_page;
	/* KVM_CREATE_VM: its result, and the lowest free fd before it. */
	int new_fd;
	int free_fd;
	__u64 pfc_value;
	uint64_t bits[BITMAP_WORDS];
};

/* ---- failslab */

static void knobs_restore(FIXTURE_DATA(failslab) *self, unsigned int n)
{
	char path[128];

	while (n--) {
		snprintf(path, sizeof(path), FAILSLAB "/%s", knob_name[n]);
		okvm_write_str(path, self->saved[n]);
	}
}

/* Save every knob, then set them; 0, or an errno with nothing changed. */
static int knobs_set(FIXTURE_DATA(failslab) *self)
{
	char path[128];
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(knob_name); i++) {
		snprintf(path, sizeof(path), FAILSLAB "/%s", knob_name[i]);
		err = okvm_read_str(path, self->saved[i],
				    sizeof(self->saved[i]));
		if (err)
			return err;
	}
	for (i = 0; i < ARRAY_SIZE(knob_name); i++) {
		snprintf(path, sizeof(path), FAILSLAB "/%s", knob_name[i]);
		err = okvm_write_str(path, knob_value[i]);
		if (err) {
			knobs_restore(self, i);
			return err;
		}
	}
	return 0;
}

/* ---- okvm ioctls, each returning 0 or an errno */

static int resolve_write(int vm, __u64 gpa)
{
	struct okvm_test_resolve r = { .gpa = gpa, .access = OKVM_ACCESS_WRITE };

	return ioctl(vm, OKVM_TEST_RESOLVE, &r) ? errno : 0;
}

static int read_entry(int vm, __u64 gpa, struct okvm_test_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->gpa = gpa;
	return ioctl(vm, OKVM_TEST_READ_ENTRY, e) ? errno : 0;
}

static int get_log(int vm, uint64_t *bits)
{
	struct kvm_dirty_log log = { .slot = SLOT_ID, .dirty_bitmap = bits };

	memset(bits, 0, BITMAP_WORDS * sizeof(*bits));
	return ioctl(vm, KVM_GET_DIRTY_LOG, &log) ? errno : 0;
}

static int clear_log(int vm, uint64_t *mask)
{
	struct kvm_clear_dirty_log c = {
		.slot = SLOT_ID, .num_pages = SLOT_PAGES, .dirty_bitmap = mask,
	};

	return ioctl(vm, KVM_CLEAR_DIRTY_LOG, &c) ? errno : 0;
}

static int pfc(int vm, __u32 op, __u64 addr, __u32 len, __u32 flags,
	       __u64 value)
{
	struct okvm_test_pfncache c = {
		.op = op, .id = PFC_ID, .addr = addr, .len = len,
		.flags = flags, .value = value,
	};

	return ioctl(vm, OKVM_TEST_PFNCACHE, &c) ? errno : 0;
}

/* Slot SLOT_ID over self->mem at @gpa with @flags. */
static int set_slot(FIXTURE_DATA(failslab) *self, __u64 gpa, __u32 flags)
{
	return okvm_set_region(self->vm, SLOT_ID, flags, gpa, SLOT_SIZE,
			       (uintptr_t)self->mem);
}

static int delete_slot(FIXTURE_DATA(failslab) *self)
{
	return okvm_set_region(self->vm, SLOT_ID, 0, 0, 0, 0);
}

/* The dirty bitmap that writes to the touched pages leave. */
static void touched_mask(uint64_t *mask)
{
	unsigned int i;

	memset(mask, 0, BITMAP_WORDS * sizeof(*mask));
	for (i = 0; i < NR_TOUCHED; i++)
		mask[touched[i] / 64] |= 1ULL << (touched[i] % 64);
}

/* ---- state checks */

static bool failed(struct __test_metadata *_metadata)
{
	return _metadata->exit_code == KSFT_FAIL;
}

static __u64 generation(struct __test_metadata *_metadata,
			FIXTURE_DATA(failslab) *self)
{
	struct okvm_test_memslot m;

	ASSERT_EQ(0, okvm_lookup(self->vm, OKVM_LOOKUP_GPA, CANARY_GPA, &m));
	return m.generation;
}

static void expect_gen_unchanged(struct __test_metadata *_metadata,
				 FIXTURE_DATA(failslab) *self)
{
	EXPECT_EQ(self->gen, generation(_metadata, self))
		TH_LOG("a failed update published a new memslot set");
}

/* Slot SLOT_ID covers [@gpa, @gpa + SLOT_SIZE) with @flags and self->mem. */
static void expect_slot(struct __test_metadata *_metadata,
			FIXTURE_DATA(failslab) *self, __u64 gpa, __u32 flags)
{
	struct okvm_test_memslot m;
	int err;

	err = okvm_lookup(self->vm, OKVM_LOOKUP_GPA, gpa + SLOT_SIZE - 1, &m);
	ASSERT_EQ(0, err) TH_LOG("no slot at %#llx: %s",
				 (unsigned long long)gpa, strerror(err));
	EXPECT_EQ(SLOT_ID, m.slot);
	EXPECT_EQ(flags, m.flags);
	EXPECT_EQ(gpa, m.guest_phys_addr);
	EXPECT_EQ(SLOT_SIZE, m.memory_size);
	EXPECT_EQ((uintptr_t)self->mem, m.userspace_addr);
}

/* No slot covers @gpa's range; with @hva_too, none covers self->mem. */
static void expect_no_slot(struct __test_metadata *_metadata,
			   FIXTURE_DATA(failslab) *self, __u64 gpa,
			   bool hva_too)
{
	struct okvm_test_memslot m;

	EXPECT_EQ(ENOENT, okvm_lookup(self->vm, OKVM_LOOKUP_GPA, gpa, &m))
		TH_LOG("slot %u at %#llx", m.slot, (unsigned long long)gpa);
	EXPECT_EQ(ENOENT, okvm_lookup(self->vm, OKVM_LOOKUP_GPA,
				      gpa + SLOT_SIZE - 1, &m));
	if (hva_too)
		EXPECT_EQ(ENOENT, okvm_lookup(self->vm, OKVM_LOOKUP_HVA,
					      (uintptr_t)self->mem, &m));
}

/* Map the touched pages of the slot at @gpa for writing; record them. */
static void map_touched(struct __test_metadata *_metadata,
			FIXTURE_DATA(failslab) *self, __u64 gpa)
{
	struct okvm_test_entry e;
	unsigned int i;

	for (i = 0; i < NR_TOUCHED; i++) {
		ASSERT_EQ(0, resolve_write(self->vm, gpa + touched[i] * PAGE));
		ASSERT_EQ(0, read_entry(self->vm, gpa + touched[i] * PAGE, &e));
		ASSERT_EQ(1U, e.present);
		ASSERT_EQ(1U, e.writable);
		self->phys[i] = e.phys;
	}
}

/* The touched pages are still mapped as map_touched() left them. */
static void expect_still_mapped(struct __test_metadata *_metadata,
				FIXTURE_DATA(failslab) *self, __u64 gpa)
{
	struct okvm_test_entry e;
	unsigned int i;

	for (i = 0; i < NR_TOUCHED; i++) {
		__u64 at = gpa + touched[i] * PAGE;

		ASSERT_EQ(0, read_entry(self->vm, at, &e));
		EXPECT_EQ(1U, e.present) TH_LOG("gpa %#llx lost its mapping",
						(unsigned long long)at);
		EXPECT_EQ(1U, e.writable) TH_LOG("gpa %#llx lost write access",
						 (unsigned long long)at);
		EXPECT_EQ(self->phys[i], e.phys);
	}
}

/* No touched page of the range at @gpa can be written without a fault. */
static void expect_not_writable(struct __test_metadata *_metadata,
				FIXTURE_DATA(failslab) *self, __u64 gpa,
				bool unmapped)
{
	struct okvm_test_entry e;
	unsigned int i;

	for (i = 0; i < NR_TOUCHED; i++) {
		__u64 at = gpa + touched[i] * PAGE;

		ASSERT_EQ(0, read_entry(self->vm, at, &e));
		if (unmapped) {
			EXPECT_EQ(0U, e.present)
				TH_LOG("gpa %#llx still mapped",
				       (unsigned long long)at);
		} else {
			EXPECT_TRUE(!e.present || !e.writable)
				TH_LOG("gpa %#llx still writable",
				       (unsigned long long)at);
		}
	}
}

/* ---- the sweep */

struct sweep {
	const char *name;
	/* The operation allocates nothing from slab, or may not (a comment says why). */
	bool may_not_allocate;
	/* Outside the armed window: bring the state the operation starts from. */
	void (*before)(struct __test_metadata *_metadata,
		       FIXTURE_DATA(failslab) *self);
	/* The armed operation alone: returns 0 or an errno. */
	int (*op)(FIXTURE_DATA(failslab) *self);
	/*
	 * Check the state the operation left (@err: its result) and, if it
	 * succeeded, undo whatever before() cannot redo.
	 */
	void (*after)(struct __test_metadata *_metadata,
		      FIXTURE_DATA(failslab) *self, int err);
};

static const char *errno_name(int err)
{
	switch (err) {
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case EINTR: return "EINTR";
	case EBUSY: return "EBUSY";
	case ENOSPC: return "ENOSPC";
	case EMFILE: return "EMFILE";
	case ENFILE: return "ENFILE";
	default: return NULL;
	}
}

/*
 * Fail the 1st, 2nd, ... slab allocation of @s->op, one per run, until a
 * run had nothing failed. Prints one diagnostic line; returns how many
 * allocations were failed one by one.
 */
static unsigned int sweep(struct __test_metadata *_metadata,
			  FIXTURE_DATA(failslab) *self, const struct sweep *s)
{
	unsigned int seen[MAX_ERRNO] = {}, survived = 0, nr = 0, n;
	/* One letter per run: M ENOMEM, s success, e another errno. */
	char runs[MAX_NTH + 1] = "";
	bool done = false;
	char line[768];
	int len, e;

	for (n = 1; n <= MAX_NTH && !done; n++) {
		int err, fired;

		s->before(_metadata, self);
		if (failed(_metadata))
			break;
		ASSERT_EQ(0, okvm_fail_nth_set(self->nth, n));
		err = s->op(self);
		fired = okvm_fail_nth_fired(self->nth);
		ASSERT_LE(0, fired) TH_LOG("%s: reading fail-nth: %s", s->name,
					   strerror(-fired));
		if (!fired) {
			/* Fewer than n allocations: the whole operation ran. */
			EXPECT_EQ(0, err)
				TH_LOG("%s: %s with no allocation failed",
				       s->name, strerror(err));
			nr = n - 1;
			done = true;
		} else if (err) {
			seen[err < MAX_ERRNO ? err : 0]++;
			runs[n - 1] = err == ENOMEM ? 'M' : 'e';
		} else {
			survived++;
			runs[n - 1] = 's';
		}
		s->after(_metadata, self, err);
		if (failed(_metadata)) {
			TH_LOG("%s: wrong state after failing allocation %u (%s)",
			       s->name, n, err ? strerror(err) : "succeeded");
			break;
		}
	}
	if (failed(_metadata))
		return nr;
	ASSERT_TRUE(done) TH_LOG("%s: still failing after %u allocations",
				 s->name, MAX_NTH);

	len = snprintf(line, sizeof(line),
		       "%s: %u allocations failed one by one, errnos seen:",
		       s->name, nr);
	for (e = 0; e < MAX_ERRNO; e++) {
		const char *name = errno_name(e);

		if (!seen[e] || len >= (int)sizeof(line))
			continue;
		if (name)
			len += snprintf(line + len, sizeof(line) - len,
					" %s x%u", name, seen[e]);
		else
			len += snprintf(line + len, sizeof(line) - len,
					" errno %d x%u", e, seen[e]);
	}
	if (len < (int)sizeof(line) && survived)
		len += snprintf(line + len, sizeof(line) - len,
				" (succeeded anyway x%u)", survived);
	if (len < (int)sizeof(line) && !nr)
		len += snprintf(line + len, sizeof(line) - len,
				" none: no slab allocation");
	if (len < (int)sizeof(line) && nr)
		len += snprintf(line + len, sizeof(line) - len, " [runs %s]",
				runs);
	if (len < (int)sizeof(line))
		snprintf(line + len, sizeof(line) - len, ", all clean");
	/* stderr: the harness' forked test process _exit()s, losing stdout. */
	fprintf(stderr, "# %s\n", line);

	if (!s->may_not_allocate)
		EXPECT_LT(0U, nr) TH_LOG("%s: nothing to fail, nothing proved",
					 s->name);
	return nr;
}

/* ---- fixture */

static bool debugfs_mounted(void)
{
	struct statfs st;

	return !statfs(DEBUGFS, &st) && st.f_type == DEBUGFS_MAGIC;
}

FIXTURE_SETUP(failslab)
{
	int err;

	self->dev = -1;
	self->vm = -1;
	self->nth = -1;
	self->new_fd = -1;
	if (!debugfs_mounted() &&
	    mount("debugfs", DEBUGFS, "debugfs", 0, NULL) && errno != EBUSY)
		TH_LOG("mount debugfs: %s", strerror(errno));
	if (access(FAILSLAB, F_OK))
		SKIP(return, "no %s: no CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS",
		     FAILSLAB);
	if (access(OKVM_FAIL_NTH, F_OK))
		SKIP(return, "no %s: kernel without CONFIG_FAULT_INJECTION",
		     OKVM_FAIL_NTH);
	if (access(OKVM_DEV, F_OK))
		SKIP(return, "%s: %s", OKVM_DEV, strerror(errno));

	self->dev = okvm_open(OKVM_DEV);
	ASSERT_LE(0, self->dev);
	self->vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, self->vm);
	/* Small pages only: the same tables in every run of a sweep. */
	self->mem = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	madvise(self->mem, SLOT_SIZE, MADV_NOHUGEPAGE);
	/* Present pages: no fault of the host inside a sweep allocates. */
	memset(self->mem, 0x11, SLOT_SIZE);
	self->canary = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->canary);
	memset(self->canary, 0x22, PAGE);
	ASSERT_EQ(0, okvm_set_region(self->vm, CANARY_ID, 0, CANARY_GPA, PAGE,
				     (uintptr_t)self->canary));
	self->nth = okvm_fail_nth_open();
	ASSERT_LE(0, self->nth) TH_LOG("%s: %s", OKVM_FAIL_NTH,
				       strerror(errno));

	err = knobs_set(self);
	ASSERT_EQ(0, err) TH_LOG("setting up %s: %s", FAILSLAB, strerror(err));
	self->knobs_set = true;
}

FIXTURE_TEARDOWN(failslab)
{
	/* An assertion may have ended the test while armed. */
	if (self->nth >= 0) {
		okvm_fail_nth_set(self->nth, 0);
		close(self->nth);
	}
	if (self->knobs_set)
		knobs_restore(self, ARRAY_SIZE(knob_name));
	if (self->new_fd >= 0)
		close(self->new_fd);
	if (self->vm >= 0)
		close(self->vm);
	if (self->dev >= 0)
		close(self->dev);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, SLOT_SIZE);
	if (self->canary && self->canary != MAP_FAILED)
		munmap(self->canary, PAGE);
}

/* ---- memslot CREATE, without and with a dirty bitmap */

static void create_before(struct __test_metadata *_metadata,
			  FIXTURE_DATA(failslab) *self)
{
	self->gen = generation(_metadata, self);
}

static int create_op(FIXTURE_DATA(failslab) *self)
{
	return set_slot(self, SLOT_GPA, self->create_flags);
}

static void create_after(struct __test_metadata *_metadata,
			 FIXTURE_DATA(failslab) *self, int err)
{
	if (err) {
		expect_no_slot(_metadata, self, SLOT_GPA, true);
		expect_gen_unchanged(_metadata, self);
		if (self->create_flags & LOG)
			EXPECT_EQ(ENOENT, get_log(self->vm, self->bits));
		return;
	}
	expect_slot(_metadata, self, SLOT_GPA, self->create_flags);
	EXPECT_NE(self->gen, generation(_metadata, self));
	if (self->create_flags & LOG) {
		uint64_t zero[BITMAP_WORDS] = {};

		EXPECT_EQ(0, get_log(self->vm, self->bits));
		EXPECT_EQ(0, memcmp(zero, self->bits, sizeof(zero)));
	}
	ASSERT_EQ(0, delete_slot(self));
}

static const struct sweep create_sweep = {
	.name = "memslot CREATE",
	.before = create_before,
	.op = create_op,
	.after = create_after,
};

static const struct sweep create_log_sweep = {
	.name = "memslot CREATE with KVM_MEM_LOG_DIRTY_PAGES",
	.before = create_before,
	.op = create_op,
	.after = create_after,
};

TEST_F_TIMEOUT(failslab, memslot_create, SWEEP_TIMEOUT)
{
	self->create_flags = 0;
	sweep(_metadata, self, &create_sweep);
	/* Nothing was left behind: the slot can be created for real. */
	ASSERT_EQ(0, set_slot(self, SLOT_GPA, 0));
	expect_slot(_metadata, self, SLOT_GPA, 0);
}

TEST_F_TIMEOUT(failslab, memslot_create_dirty_log, SWEEP_TIMEOUT)
{
	self->create_flags = LOG;
	sweep(_metadata, self, &create_log_sweep);
	ASSERT_EQ(0, set_slot(self, SLOT_GPA, LOG));
	expect_slot(_metadata, self, SLOT_GPA, LOG);
}

/* ---- DELETE and MOVE of a slot with live mappings */

/* Slot SLOT_ID at SLOT_GPA with no flags, its touched pages mapped. */
static void mapped_slot_before(struct __test_metadata *_metadata,
			       FIXTURE_DATA(failslab) *self)
{
	/* A CREATE, or the MOVE back, or logging turned off again. */
	if (!self->slot_gpa || self->slot_gpa != SLOT_GPA || self->slot_flags)
		ASSERT_EQ(0, set_slot(self, SLOT_GPA, 0));
	self->slot_gpa = SLOT_GPA;
	self->slot_flags = 0;
	map_touched(_metadata, self, SLOT_GPA);
	self->gen = generation(_metadata, self);
}

/* After a failure: the slot, its generation and its mappings as before. */
static void expect_mapped_slot_unchanged(struct __test_metadata *_metadata,
					 FIXTURE_DATA(failslab) *self)
{
	expect_slot(_metadata, self, SLOT_GPA, 0);
	expect_gen_unchanged(_metadata, self);
	expect_still_mapped(_metadata, self, SLOT_GPA);
}

static int delete_op(FIXTURE_DATA(failslab) *self)
{
	return delete_slot(self);
}

static void delete_after(struct __test_metadata *_metadata,
			 FIXTURE_DATA(failslab) *self, int err)
{
	if (err) {
		expect_mapped_slot_unchanged(_metadata, self);
		return;
	}
	expect_no_slot(_metadata, self, SLOT_GPA, true);
	expect_not_writable(_metadata, self, SLOT_GPA, true);
	self->slot_gpa = 0;
}

/* A DELETE may only allocate the INVALID copy of the slot. */
static const struct sweep delete_sweep = {
	.name = "memslot DELETE with mappings",
	.before = mapped_slot_before,
	.op = delete_op,
	.after = delete_after,
};

TEST_F_TIMEOUT(failslab, memslot_delete_mapped, SWEEP_TIMEOUT)
{
	sweep(_metadata, self, &delete_sweep);
}

static int move_op(FIXTURE_DATA(failslab) *self)
{
	return set_slot(self, MOVE_GPA, 0);
}

static void move_after(struct __test_metadata *_metadata,
		       FIXTURE_DATA(failslab) *self, int err)
{
	if (err) {
		expect_mapped_slot_unchanged(_metadata, self);
		expect_no_slot(_metadata, self, MOVE_GPA, false);
		return;
	}
	expect_slot(_metadata, self, MOVE_GPA, 0);
	expect_no_slot(_metadata, self, SLOT_GPA, false);
	expect_not_writable(_metadata, self, SLOT_GPA, true);
	self->slot_gpa = MOVE_GPA;
}

static const struct sweep move_sweep = {
	.name = "memslot MOVE with mappings",
	.before = mapped_slot_before,
	.op = move_op,
	.after = move_after,
};

TEST_F_TIMEOUT(failslab, memslot_move_mapped, SWEEP_TIMEOUT)
{
	sweep(_metadata, self, &move_sweep);
}

/* ---- FLAGS_ONLY: dirty logging turned on over writable mappings */

static int flags_op(FIXTURE_DATA(failslab) *self)
{
	return set_slot(self, SLOT_GPA, LOG);
}

static void flags_after(struct __test_metadata *_metadata,
			FIXTURE_DATA(failslab) *self, int err)
{
	if (err) {
		expect_mapped_slot_unchanged(_metadata, self);
		/* No bitmap was left on the slot. */
		EXPECT_EQ(ENOENT, get_log(self->vm, self->bits));
		return;
	}
	expect_slot(_metadata, self, SLOT_GPA, LOG);
	/* Every write from now on must fault, to be logged. */
	expect_not_writable(_metadata, self, SLOT_GPA, false);
	self->slot_flags = LOG;
}

static const struct sweep flags_sweep = {
	.name = "memslot FLAGS_ONLY dirty logging on",
	.before = mapped_slot_before,
	.op = flags_op,
	.after = flags_after,
};

TEST_F_TIMEOUT(failslab, memslot_flags_only_dirty_log_on, SWEEP_TIMEOUT)
{
	sweep(_metadata, self, &flags_sweep);
}

/* ---- KVM_CREATE_VM */

/* The lowest free file descriptor number. */
static int lowest_free_fd(struct __test_metadata *_metadata,
			  FIXTURE_DATA(failslab) *self)
{
	int fd = fcntl(self->dev, F_DUPFD_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	close(fd);
	return fd;
}

static void create_vm_before(struct __test_metadata *_metadata,
			     FIXTURE_DATA(failslab) *self)
{
	self->free_fd = lowest_free_fd(_metadata, self);
}

static int create_vm_op(FIXTURE_DATA(failslab) *self)
{
	self->new_fd = okvm_create_vm(self->dev, 0);
	return self->new_fd < 0 ? errno : 0;
}

static void create_vm_after(struct __test_metadata *_metadata,
			    FIXTURE_DATA(failslab) *self, int err)
{
	if (err) {
		EXPECT_EQ(-1, self->new_fd);
		/* No descriptor was installed, not even for a moment. */
		EXPECT_EQ(self->free_fd, lowest_free_fd(_metadata, self));
		return;
	}
	EXPECT_EQ(self->free_fd, self->new_fd);
	/* A whole VM: it takes a memslot and answers the test interface. */
	EXPECT_EQ(0, okvm_set_region(self->new_fd, CANARY_ID, 0, CANARY_GPA,
				     PAGE, (uintptr_t)self->canary));
	close(self->new_fd);
	self->new_fd = -1;
}

static const struct sweep create_vm_sweep = {
	.name = "KVM_CREATE_VM",
	.before = create_vm_before,
	.op = create_vm_op,
	.after = create_vm_after,
};

TEST_F_TIMEOUT(failslab, create_vm, SWEEP_TIMEOUT)
{
	int vm;

	sweep(_metadata, self, &create_vm_sweep);
	vm = okvm_create_vm(self->dev, 0);
	ASSERT_LE(0, vm);
	close(vm);
}

/* ---- OKVM_TEST_RESOLVE */

/* Each run maps another page of the slot, one that is not mapped yet. */
static void resolve_before(struct __test_metadata *_metadata,
			   FIXTURE_DATA(failslab) *self)
{
	struct okvm_test_entry e;

	ASSERT_GT(SLOT_PAGES, self->next_page);
	ASSERT_EQ(0, read_entry(self->vm, SLOT_GPA + self->next_page * PAGE,
				&e));
	ASSERT_EQ(0U, e.present);
}

static int resolve_op(FIXTURE_DATA(failslab) *self)
{
	return resolve_write(self->vm, SLOT_GPA + self->next_page * PAGE);
}

static void resolve_after(struct __test_metadata *_metadata,
			  FIXTURE_DATA(failslab) *self, int err)
{
	struct okvm_test_entry e;

	ASSERT_EQ(0, read_entry(self->vm, SLOT_GPA + self->next_page * PAGE,
				&e));
	if (err) {
		EXPECT_EQ(0U, e.present);
		return;
	}
	EXPECT_EQ(1U, e.present);
	EXPECT_EQ(1U, e.writable);
	self->next_page++;
}

/*
 * The fault path takes its table pages from a cache it fills from the
 * page allocator, and the host page is already present: it may well have
 * no slab allocation at all, and a sweep of 0 is a valid result here.
 */
static const struct sweep resolve_sweep = {
	.name = "OKVM_TEST_RESOLVE write",
	.may_not_allocate = true,
	.before = resolve_before,
	.op = resolve_op,
	.after = resolve_after,
};

TEST_F_TIMEOUT(failslab, resolve, SWEEP_TIMEOUT)
{
	ASSERT_EQ(0, set_slot(self, SLOT_GPA, 0));
	/* Page 0 first, so that the runs share the same table pages. */
	ASSERT_EQ(0, resolve_write(self->vm, SLOT_GPA));
	self->next_page = 1;
	sweep(_metadata, self, &resolve_sweep);
}

/* ---- OKVM_TEST_PFNCACHE */

static void pfc_first_before(struct __test_metadata *_metadata,
			     FIXTURE_DATA(failslab) *self)
{
}

/* The VM's first call allocates its test caches. */
static int pfc_first_op(FIXTURE_DATA(failslab) *self)
{
	int err = pfc(self->vm, OKVM_PFNCACHE_OP_CHECK, 0, 8, 0, 0);

	/* An inactive cache never checks valid: EAGAIN is its success. */
	return err == EAGAIN ? 0 : err;
}

static void pfc_first_after(struct __test_metadata *_metadata,
			    FIXTURE_DATA(failslab) *self, int err)
{
	/* Whatever happened, the next call works. */
	EXPECT_EQ(EAGAIN, pfc(self->vm, OKVM_PFNCACHE_OP_CHECK, 0, 8, 0, 0));
}

static const struct sweep pfc_first_sweep = {
	.name = "OKVM_TEST_PFNCACHE first call",
	.before = pfc_first_before,
	.op = pfc_first_op,
	.after = pfc_first_after,
};

static void pfc_activate_before(struct __test_metadata *_metadata,
				FIXTURE_DATA(failslab) *self)
{
	/* Inactive, so that activating maps the page anew. */
	ASSERT_EQ(0, pfc(self->vm, OKVM_PFNCACHE_OP_DEACTIVATE, 0, 0, 0, 0));
	ASSERT_EQ(EAGAIN, pfc(self->vm, OKVM_PFNCACHE_OP_CHECK, 0, 8, 0, 0));
}

static int pfc_activate_op(FIXTURE_DATA(failslab) *self)
{
	return pfc(self->vm, OKVM_PFNCACHE_OP_ACTIVATE, PFC_GPA, 8,
		   OKVM_PFNCACHE_F_WRITE, 0);
}

static void pfc_activate_after(struct __test_metadata *_metadata,
			       FIXTURE_DATA(failslab) *self, int err)
{
	__u64 *word = (__u64 *)(self->mem + PFC_HVA_OFF);

	if (err) {
		/* Active but not valid; a refresh without injection fixes it. */
		EXPECT_EQ(EAGAIN, pfc(self->vm, OKVM_PFNCACHE_OP_CHECK, 0, 8,
				      0, 0));
		EXPECT_EQ(0, pfc(self->vm, OKVM_PFNCACHE_OP_REFRESH, 0, 8, 0,
				 0));
	}
	EXPECT_EQ(0, pfc(self->vm, OKVM_PFNCACHE_OP_CHECK, 0, 8, 0, 0));
	/* And it writes into the page userspace sees at that GPA. */
	self->pfc_value++;
	EXPECT_EQ(0, pfc(self->vm, OKVM_PFNCACHE_OP_WRITE, 0, 0, 0,
			 self->pfc_value));
	EXPECT_EQ(self->pfc_value, __atomic_load_n(word, __ATOMIC_RELAXED));
}

static const struct sweep pfc_activate_sweep = {
	.name = "OKVM_TEST_PFNCACHE ACTIVATE gpa write",
	.before = pfc_activate_before,
	.op = pfc_activate_op,
	.after = pfc_activate_after,
};

TEST_F_TIMEOUT(failslab, pfncache_activate, SWEEP_TIMEOUT)
{
	ASSERT_EQ(0, set_slot(self, SLOT_GPA, 0));
	sweep(_metadata, self, &pfc_first_sweep);
	if (failed(_metadata))
		return;
	self->pfc_value = 0x1000;
	sweep(_metadata, self, &pfc_activate_sweep);
	EXPECT_EQ(0, pfc(self->vm, OKVM_PFNCACHE_OP_DEACTIVATE, 0, 0, 0, 0));
}

/* ---- dirty logging: KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG */

/* Dirty the touched pages (again): writes after a pass fault and log. */
static void dirty_touched(struct __test_metadata *_metadata,
			  FIXTURE_DATA(failslab) *self)
{
	unsigned int i;

	for (i = 0; i < NR_TOUCHED; i++)
		ASSERT_EQ(0, resolve_write(self->vm,
					   SLOT_GPA + touched[i] * PAGE));
}

static void expect_bits(struct __test_metadata *_metadata,
			const uint64_t *bits, bool dirty)
{
	uint64_t want[BITMAP_WORDS] = {};
	unsigned int i;

	if (dirty)
		touched_mask(want);
	for (i = 0; i < BITMAP_WORDS; i++)
		EXPECT_EQ(want[i], bits[i]) TH_LOG("dirty bitmap word %u", i);
}

static int get_log_op(FIXTURE_DATA(failslab) *self)
{
	return get_log(self->vm, self->bits);
}

static void get_log_after(struct __test_metadata *_metadata,
			  FIXTURE_DATA(failslab) *self, int err)
{
	/* After a failure the next pass reports every bit: none was lost. */
	if (err)
		ASSERT_EQ(0, get_log(self->vm, self->bits));
	expect_bits(_metadata, self->bits, true);
	/* The pass took them all. */
	ASSERT_EQ(0, get_log(self->vm, self->bits));
	expect_bits(_metadata, self->bits, false);
}

static const struct sweep get_log_sweep = {
	.name = "KVM_GET_DIRTY_LOG",
	.before = dirty_touched,
	.op = get_log_op,
	.after = get_log_after,
};

TEST_F_TIMEOUT(failslab, get_dirty_log, SWEEP_TIMEOUT)
{
	ASSERT_EQ(0, set_slot(self, SLOT_GPA, LOG));
	sweep(_metadata, self, &get_log_sweep);
}

static void clear_log_before(struct __test_metadata *_metadata,
			     FIXTURE_DATA(failslab) *self)
{
	dirty_touched(_metadata, self);
	ASSERT_EQ(0, get_log(self->vm, self->bits));
	expect_bits(_metadata, self->bits, true);
	map_touched(_metadata, self, SLOT_GPA);
}

static int clear_log_op(FIXTURE_DATA(failslab) *self)
{
	touched_mask(self->bits);
	return clear_log(self->vm, self->bits);
}

static void clear_log_after(struct __test_metadata *_metadata,
			    FIXTURE_DATA(failslab) *self, int err)
{
	ASSERT_EQ(0, get_log(self->vm, self->bits));
	expect_bits(_metadata, self->bits, err != 0);
	if (err)
		expect_still_mapped(_metadata, self, SLOT_GPA);
	else
		expect_not_writable(_metadata, self, SLOT_GPA, false);
}

static const struct sweep clear_log_sweep = {
	.name = "KVM_CLEAR_DIRTY_LOG (manual protect)",
	.before = clear_log_before,
	.op = clear_log_op,
	.after = clear_log_after,
};

TEST_F_TIMEOUT(failslab, clear_dirty_log_manual_protect, SWEEP_TIMEOUT)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
	};

	ASSERT_EQ(0, ioctl(self->vm, KVM_ENABLE_CAP, &cap));
	ASSERT_EQ(0, set_slot(self, SLOT_GPA, LOG));
	sweep(_metadata, self, &clear_log_sweep);
}

TEST_HARNESS_MAIN
