// SPDX-License-Identifier: GPL-2.0
/*
 * OKVM_TEST_PGTABLE_SELFTEST: the page-table code checked from inside the
 * kernel, one case on one format per call (module parameter testing=1).
 *
 * Each call builds a private table with hooks that record what the walker
 * asks of its owner, runs the case with a local rwlock taken as mmu_lock
 * would be (so a sleeping allocation under it shows up on debug kernels),
 * then checks that every table page is accounted for and destroys it.
 *
 * Leaves point at pages the test allocates (for blocks, at the aligned
 * region that holds such a page) or, for the known encodings, at addresses
 * taken from the manuals. No guest runs and nothing is ever accessed
 * through the tables.
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "okvm.h"
#include "pgtable.h"
#include "pgtable_format.h"

#define OKVM_PGT_TEST_PAGES	8
#define OKVM_PGT_RW		(OKVM_PROT_R | OKVM_PROT_W)
#define OKVM_PGT_RX		(OKVM_PROT_R | OKVM_PROT_X)
#define OKVM_PGT_RWX		(OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X)

struct okvm_pgt_test_config {
	const char *name;
	enum okvm_pgtable_kind kind;
	unsigned int ia_bits;
	u64 flags;
};

static const struct okvm_pgt_test_config okvm_pgt_test_configs[] = {
	[OKVM_PGTEST_FMT_S2_IPA32] = { "s2-32", OKVM_PGT_KIND_STAGE2, 32, 0 },
	[OKVM_PGTEST_FMT_S2_IPA40] = { "s2-40", OKVM_PGT_KIND_STAGE2, 40, 0 },
	[OKVM_PGTEST_FMT_S2_IPA44] = { "s2-44", OKVM_PGT_KIND_STAGE2, 44, 0 },
	[OKVM_PGTEST_FMT_S2_IPA48] = { "s2-48", OKVM_PGT_KIND_STAGE2, 48, 0 },
	[OKVM_PGTEST_FMT_S2_FWB_IPA32] = { "s2fwb-32", OKVM_PGT_KIND_STAGE2,
					   32, OKVM_PGT_FWB },
	[OKVM_PGTEST_FMT_S2_FWB_IPA40] = { "s2fwb-40", OKVM_PGT_KIND_STAGE2,
					   40, OKVM_PGT_FWB },
	[OKVM_PGTEST_FMT_S2_FWB_IPA44] = { "s2fwb-44", OKVM_PGT_KIND_STAGE2,
					   44, OKVM_PGT_FWB },
	[OKVM_PGTEST_FMT_S2_FWB_IPA48] = { "s2fwb-48", OKVM_PGT_KIND_STAGE2,
					   48, OKVM_PGT_FWB },
	[OKVM_PGTEST_FMT_NPT4] = { "npt4", OKVM_PGT_KIND_NPT, 48, 0 },
	[OKVM_PGTEST_FMT_NPT5] = { "npt5", OKVM_PGT_KIND_NPT, 57,
				   OKVM_PGT_5LEVEL },
	[OKVM_PGTEST_FMT_EPT4] = { "ept4", OKVM_PGT_KIND_EPT, 48, 0 },
	[OKVM_PGTEST_FMT_EPT5] = { "ept5", OKVM_PGT_KIND_EPT, 57,
				   OKVM_PGT_5LEVEL },
};

struct okvm_pgt_test {
	struct okvm_pgtable pgt;
	const struct okvm_pgtable_format *fmt;
	const struct okvm_pgt_test_config *cfg;
	/* Stands in for the VM's mmu_lock. */
	rwlock_t lock;
	struct okvm_pgtable_cache mc;
	/* Pages taken out of t->mc by the table, as the test sees it. */
	unsigned long consumed;

	u32 passed;
	u32 failed;
	char msg[128];

	struct page *pages[OKVM_PGT_TEST_PAGES];
	u64 phys[OKVM_PGT_TEST_PAGES];

	/* What the hooks saw since okvm_pgt_hooks_reset(). */
	unsigned int nr_flush;
	u64 flush_start;
	u64 flush_end;
	int flush_level;
	unsigned int nr_clean;
	u64 clean_phys;
	u64 clean_size;
	unsigned int nr_icache;
	u64 icache_phys;
	u64 icache_size;
	/*
	 * With watch set, the hooks look at the leaf covering watch_addr:
	 * a break-before-make flush must find it gone, a cache clean must
	 * come before the new leaf is visible, an icache invalidation
	 * before the leaf is executable.
	 */
	bool watch;
	u64 watch_addr;
	unsigned int bbm_bad;
	unsigned int cmo_bad;
};

static __printf(4, 5)
bool okvm_pgt_check(struct okvm_pgt_test *t, bool ok, int line,
		    const char *fmt, ...)
{
	va_list args;
	int n;

	if (ok) {
		t->passed++;
		return true;
	}
	if (!t->failed++) {
		n = scnprintf(t->msg, sizeof(t->msg), "%s:%d: ",
			      t->cfg->name, line);
		va_start(args, fmt);
		vscnprintf(t->msg + n, sizeof(t->msg) - n, fmt, args);
		va_end(args);
	}
	return false;
}

#define T_CHECK(t, cond, ...) \
	okvm_pgt_check(t, cond, __LINE__, __VA_ARGS__)

/* Hooks. */

static struct okvm_pgt_test *okvm_pgt_test_of(struct okvm_pgtable *pgt)
{
	return container_of(pgt, struct okvm_pgt_test, pgt);
}

/* The leaf at the watched address, read inside a hook (lock held). */
static void okvm_pgt_peek(struct okvm_pgt_test *t,
			  struct okvm_pgtable_leaf *leaf)
{
	if (okvm_pgtable_get_leaf(&t->pgt, t->watch_addr, leaf))
		leaf->present = false;
}

static void okvm_pgt_test_flush(struct okvm_pgtable *pgt, u64 addr, u64 size,
				int level)
{
	struct okvm_pgt_test *t = okvm_pgt_test_of(pgt);
	struct okvm_pgtable_leaf leaf;

	if (!t->nr_flush++) {
		t->flush_start = addr;
		t->flush_end = addr + size;
		t->flush_level = level;
	} else {
		t->flush_start = min(t->flush_start, addr);
		t->flush_end = max(t->flush_end, addr + size);
		if (t->flush_level != level)
			t->flush_level = OKVM_PGT_LEVEL_ANY;
	}
	if (t->watch) {
		okvm_pgt_peek(t, &leaf);
		if (leaf.present)
			t->bbm_bad++;
	}
}

static void okvm_pgt_test_clean(struct okvm_pgtable *pgt, u64 phys, u64 size)
{
	struct okvm_pgt_test *t = okvm_pgt_test_of(pgt);
	struct okvm_pgtable_leaf leaf;

	t->nr_clean++;
	t->clean_phys = phys;
	t->clean_size = size;
	if (t->watch) {
		okvm_pgt_peek(t, &leaf);
		if (leaf.present && leaf.phys == phys)
			t->cmo_bad++;
	}
}

static void okvm_pgt_test_icache(struct okvm_pgtable *pgt, u64 phys, u64 size)
{
	struct okvm_pgt_test *t = okvm_pgt_test_of(pgt);
	struct okvm_pgtable_leaf leaf;

	t->nr_icache++;
	t->icache_phys = phys;
	t->icache_size = size;
	if (t->watch) {
		okvm_pgt_peek(t, &leaf);
		if (leaf.present && leaf.executable)
			t->cmo_bad++;
	}
}

static const struct okvm_pgtable_ops okvm_pgt_test_ops = {
	.flush_range	= okvm_pgt_test_flush,
	.clean_dcache	= okvm_pgt_test_clean,
	.inval_icache	= okvm_pgt_test_icache,
};

static void okvm_pgt_hooks_reset(struct okvm_pgt_test *t)
{
	t->nr_flush = 0;
	t->nr_clean = 0;
	t->nr_icache = 0;
	t->watch = false;
	t->bbm_bad = 0;
	t->cmo_bad = 0;
}

static void okvm_pgt_watch(struct okvm_pgt_test *t, u64 addr)
{
	okvm_pgt_hooks_reset(t);
	t->watch = true;
	t->watch_addr = addr;
}

/* The operations, called with the lock held as the owner would. */

static int t_map_mc(struct okvm_pgt_test *t, u64 addr, u64 size, u64 phys,
		    enum okvm_prot prot, struct okvm_pgtable_cache *mc)
{
	int ret;

	write_lock(&t->lock);
	ret = okvm_pgtable_map(&t->pgt, addr, size, phys, prot, mc);
	write_unlock(&t->lock);
	return ret;
}

static int t_map(struct okvm_pgt_test *t, u64 addr, u64 size, u64 phys,
		 enum okvm_prot prot)
{
	int before, ret;

	ret = okvm_pgtable_cache_topup(&t->mc, t->pgt.levels - 1);
	if (ret)
		return ret;
	before = t->mc.nr;
	ret = t_map_mc(t, addr, size, phys, prot, &t->mc);
	t->consumed += before - t->mc.nr;
	return ret;
}

static int t_unmap(struct okvm_pgt_test *t, u64 addr, u64 size)
{
	int ret;

	write_lock(&t->lock);
	ret = okvm_pgtable_unmap(&t->pgt, addr, size);
	write_unlock(&t->lock);
	return ret;
}

static int t_wrprotect(struct okvm_pgt_test *t, u64 addr, u64 size)
{
	int ret;

	write_lock(&t->lock);
	ret = okvm_pgtable_wrprotect(&t->pgt, addr, size);
	write_unlock(&t->lock);
	return ret;
}

static int t_relax(struct okvm_pgt_test *t, u64 addr, enum okvm_prot prot)
{
	int ret;

	write_lock(&t->lock);
	ret = okvm_pgtable_relax_perms(&t->pgt, addr, prot);
	write_unlock(&t->lock);
	return ret;
}

static bool t_young(struct okvm_pgt_test *t, u64 addr, u64 size, bool clear)
{
	bool ret;

	write_lock(&t->lock);
	ret = okvm_pgtable_test_clear_young(&t->pgt, addr, size, clear);
	write_unlock(&t->lock);
	return ret;
}

static int t_split_mc(struct okvm_pgt_test *t, u64 addr, u64 size,
		      struct okvm_pgtable_cache *mc)
{
	int ret;

	write_lock(&t->lock);
	ret = okvm_pgtable_split(&t->pgt, addr, size, mc);
	write_unlock(&t->lock);
	return ret;
}

/* Split the range whole, topping the cache up as often as needed. */
static int t_split(struct okvm_pgt_test *t, u64 addr, u64 size)
{
	int before, ret, tries = 0;

	do {
		ret = okvm_pgtable_cache_topup(&t->mc, OKVM_PGTABLE_CACHE_MAX);
		if (ret)
			return ret;
		before = t->mc.nr;
		ret = t_split_mc(t, addr, size, &t->mc);
		t->consumed += before - t->mc.nr;
	} while (ret == -ENOMEM && ++tries < 1000);
	return ret;
}

static int t_leaf(struct okvm_pgt_test *t, u64 addr,
		  struct okvm_pgtable_leaf *leaf)
{
	int ret;

	read_lock(&t->lock);
	ret = okvm_pgtable_get_leaf(&t->pgt, addr, leaf);
	read_unlock(&t->lock);
	return ret;
}

static u64 t_pte(struct okvm_pgt_test *t, u64 addr, unsigned int level)
{
	u64 pte = 0;

	read_lock(&t->lock);
	if (okvm_pgtable_read_pte(&t->pgt, addr, level, &pte))
		pte = 0;
	read_unlock(&t->lock);
	return pte;
}

static unsigned long t_live(struct okvm_pgt_test *t)
{
	return atomic_long_read(&t->pgt.nr_table_pages);
}

static unsigned long t_root_pages(struct okvm_pgt_test *t)
{
	return 1UL << t->pgt.root_order;
}

static u64 t_top(struct okvm_pgt_test *t)
{
	return BIT_ULL(t->pgt.ia_bits);
}

/* The level of a leaf of @size, or -1 if this table has none. */
static int t_level(struct okvm_pgt_test *t, u64 size)
{
	unsigned int level;

	for (level = 0; level <= t->pgt.start_level; level++)
		if (size == BIT_ULL(PAGE_SHIFT + 9 * level))
			return t->fmt->leaf_levels & BIT(level) ? level : -1;
	return -1;
}

/* An output address for a leaf of @size; the nth test page for pages. */
static u64 t_phys(struct okvm_pgt_test *t, u64 size, unsigned int nth)
{
	if (size == PAGE_SIZE)
		return t->phys[nth % OKVM_PGT_TEST_PAGES];
	return ALIGN_DOWN(t->phys[nth % OKVM_PGT_TEST_PAGES], size);
}

/* The leaf covering @addr must be exactly this one. */
static void t_expect_leaf(struct okvm_pgt_test *t, int line, u64 addr,
			  u64 size, u64 phys, enum okvm_prot prot)
{
	struct okvm_pgtable_leaf l;
	int ret = t_leaf(t, addr, &l);

	okvm_pgt_check(t, !ret && l.present && l.size == size &&
		       l.level == t_level(t, size) && l.phys == phys &&
		       l.writable == !!(prot & OKVM_PROT_W) &&
		       l.executable == !!(prot & OKVM_PROT_X),
		       line,
		       "leaf %#llx: %d p%d %#llx@%#llx l%d w%d x%d, want %#llx@%#llx p%x",
		       addr, ret, l.present, l.size, l.phys, l.level,
		       l.writable, l.executable, size, phys, prot);
}

static void t_expect_none(struct okvm_pgt_test *t, int line, u64 addr)
{
	struct okvm_pgtable_leaf l;
	int ret = t_leaf(t, addr, &l);

	okvm_pgt_check(t, !ret && !l.present, line,
		       "leaf %#llx: ret %d present %d (%#llx@%#llx), want none",
		       addr, ret, l.present, l.size, l.phys);
}

#define T_LEAF(t, addr, size, phys, prot) \
	t_expect_leaf(t, __LINE__, addr, size, phys, prot)
#define T_NONE(t, addr) t_expect_none(t, __LINE__, addr)

/* Every table page linked in is counted, and nothing else. */
static void t_expect_accounted(struct okvm_pgt_test *t, int line)
{
	unsigned long reachable, live;

	read_lock(&t->lock);
	reachable = okvm_pgtable_count_tables(&t->pgt);
	read_unlock(&t->lock);
	live = t_live(t);
	okvm_pgt_check(t, reachable == live, line,
		       "%lu table pages reachable, %lu counted", reachable,
		       live);
}

#define T_ACCOUNTED(t) t_expect_accounted(t, __LINE__)

/* Map 4K/2M/1G leaves at low, middle and top addresses; look them up. */
static void okvm_pgt_case_map(struct okvm_pgt_test *t)
{
	static const u64 sizes[] = { SZ_4K, SZ_2M, SZ_1G };
	static const enum okvm_prot prots[] = {
		OKVM_PROT_R, OKVM_PGT_RW, OKVM_PGT_RX, OKVM_PGT_RWX,
	};
	struct okvm_pgtable_leaf l;
	unsigned int i, j, n = 0;
	u64 top = t_top(t);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		u64 size = sizes[i];
		int level = t_level(t, size);
		/* 0, low, the middle (above 4 GiB from 34 bits on), the top */
		u64 addrs[] = { 0, 3 * size, top / 2 + size, top - size };

		if (level < 0) {
			T_CHECK(t, size == SZ_1G && t->pgt.start_level < 2,
				"no %#llx leaves", size);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(addrs); j++, n++) {
			u64 addr = addrs[j], phys = t_phys(t, size, n);
			enum okvm_prot prot = prots[n % ARRAY_SIZE(prots)];
			unsigned long consumed = t->consumed;

			okvm_pgt_watch(t, addr);
			T_CHECK(t, !t_map(t, addr, size, phys, prot),
				"map %#llx size %#llx", addr, size);
			/* From an empty table: one table per level down. */
			T_CHECK(t, t->consumed - consumed ==
				t->pgt.start_level - level &&
				t_live(t) == t_root_pages(t) +
				t->pgt.start_level - level,
				"map %#llx: took %lu pages, %lu live",
				addr, t->consumed - consumed, t_live(t));
			T_LEAF(t, addr, size, phys, prot);
			T_LEAF(t, addr + size - PAGE_SIZE, size, phys,
			       prot);
			T_CHECK(t, !t_leaf(t, addr + size / 2, &l) && l.young &&
				!l.dirty,
				"new leaf %#llx young %d dirty %d", addr,
				l.young, l.dirty);
			if (addr)
				T_NONE(t, addr - PAGE_SIZE);
			if (addr + size < top)
				T_NONE(t, addr + size);

			/* A new leaf needs no flush; maybe cache cleaning. */
			T_CHECK(t, !t->nr_flush, "flushed %u times for a map",
				t->nr_flush);
			T_CHECK(t, t->pgt.clean_on_map ?
				t->nr_clean == 1 && t->clean_phys == phys &&
				t->clean_size == size : !t->nr_clean,
				"map %#llx: %u dcache cleans (%#llx+%#llx)",
				addr, t->nr_clean, t->clean_phys,
				t->clean_size);
			T_CHECK(t, t->fmt->icache_on_exec && (prot & OKVM_PROT_X) ?
				t->nr_icache == 1 && t->icache_phys == phys &&
				t->icache_size == size : !t->nr_icache,
				"map %#llx prot %x: %u icache invalidations",
				addr, prot, t->nr_icache);
			T_CHECK(t, !t->cmo_bad,
				"cache maintenance after the leaf was visible");

			okvm_pgt_hooks_reset(t);
			T_CHECK(t, !t_unmap(t, addr, size), "unmap %#llx", addr);
			T_NONE(t, addr);
			T_CHECK(t, t->nr_flush && t->flush_start <= addr &&
				t->flush_end >= addr + size,
				"unmap %#llx: %u flushes [%#llx, %#llx)", addr,
				t->nr_flush, t->flush_start, t->flush_end);
			/* Unmapping a table's whole range frees the table. */
			T_CHECK(t, t_live(t) == t_root_pages(t),
				"unmap %#llx: %lu table pages left", addr,
				t_live(t));
		}
	}

	/* Leaves at both ends at once, removed by one unmap of everything. */
	T_CHECK(t, !t_map(t, 0, SZ_4K, t->phys[1], OKVM_PGT_RW), "map 0");
	T_CHECK(t, !t_map(t, top - SZ_4K, SZ_4K, t->phys[2], OKVM_PGT_RX),
		"map top page");
	T_CHECK(t, !t_map(t, top - SZ_2M, SZ_4K, t->phys[3], OKVM_PROT_R),
		"map top - 2M");
	T_LEAF(t, 0, SZ_4K, t->phys[1], OKVM_PGT_RW);
	T_LEAF(t, top - SZ_4K, SZ_4K, t->phys[2], OKVM_PGT_RX);
	T_LEAF(t, top - SZ_2M, SZ_4K, t->phys[3], OKVM_PROT_R);
	T_ACCOUNTED(t);
	T_CHECK(t, !t_unmap(t, 0, top), "unmap everything");
	T_NONE(t, 0);
	T_NONE(t, top - SZ_4K);
	T_NONE(t, top - SZ_2M);
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages left",
		t_live(t));
}

/* Raw entries and register values against the manuals' encodings. */
static void okvm_pgt_case_encoding(struct okvm_pgt_test *t)
{
	const struct okvm_pgtable_format *fmt = t->fmt;
	u64 root = virt_to_phys(t->pgt.root), top = t_top(t);
	unsigned int i, matched = 0;
	u64 pte;

	for (i = 0; i < fmt->nr_known_ptes; i++) {
		const struct okvm_pgtable_known_pte *k = &fmt->known_ptes[i];
		int level = t_level(t, k->size);
		u64 addr = top - k->size;

		if ((t->pgt.flags & k->flags_mask) != k->flags || level < 0)
			continue;
		matched++;
		T_CHECK(t, !t_map(t, addr, k->size, k->phys, k->prot),
			"map known %u", i);
		pte = t_pte(t, addr, level);
		T_CHECK(t, pte == k->leaf, "known %u: leaf %#llx, want %#llx",
			i, pte, k->leaf);
		T_LEAF(t, addr, k->size, k->phys, k->prot);
		if (level < t->pgt.start_level) {
			pte = t_pte(t, addr, level + 1);
			T_CHECK(t, (pte & ~fmt->addr_mask) == k->table_attr &&
				(pte & fmt->addr_mask) &&
				PAGE_ALIGNED(pte & fmt->addr_mask),
				"known %u: table entry %#llx, want %#llx", i,
				pte, k->table_attr);
		}
		T_CHECK(t, !t_unmap(t, addr, k->size), "unmap known %u", i);
	}
	T_CHECK(t, matched >= 2, "only %u known encodings apply", matched);

	/* The root: naturally aligned, in the register untruncated. */
	T_CHECK(t, IS_ALIGNED(root, PAGE_SIZE << t->pgt.root_order),
		"root %#llx not aligned to %lu pages", root,
		t_root_pages(t));
	T_CHECK(t, (okvm_pgtable_root_reg(&t->pgt) & fmt->addr_mask) == root,
		"root register %#llx, root %#llx",
		okvm_pgtable_root_reg(&t->pgt), root);

	matched = 0;
	for (i = 0; i < fmt->nr_known_geometry; i++) {
		const struct okvm_pgtable_known_geometry *g =
			&fmt->known_geometry[i];

		if (g->ia_bits != t->pgt.ia_bits || g->flags != t->pgt.flags)
			continue;
		matched++;
		T_CHECK(t, t->pgt.levels == g->levels &&
			t->pgt.start_level == g->levels - 1 &&
			t_root_pages(t) == g->root_pages,
			"%u levels, %lu root pages, want %u, %u",
			t->pgt.levels, t_root_pages(t), g->levels,
			g->root_pages);
		T_CHECK(t, okvm_pgtable_root_reg(&t->pgt) == (root | g->root_low),
			"root register %#llx, want %#llx",
			okvm_pgtable_root_reg(&t->pgt), root | g->root_low);
		if (fmt->ctl_reg)
			T_CHECK(t, fmt->ctl_reg(&t->pgt, g->pa_bits) == g->ctl,
				"control register %#llx for %u PA bits, want %#llx",
				fmt->ctl_reg(&t->pgt, g->pa_bits), g->pa_bits,
				g->ctl);
	}
	T_CHECK(t, matched, "no known geometry for this table");
}

/* Unmap: part of a table, a whole table, ranges cutting through blocks. */
static void okvm_pgt_case_unmap(struct okvm_pgt_test *t)
{
	u64 b = t_top(t) / 2, blk = t_phys(t, SZ_2M, 0);
	unsigned long live;
	unsigned int i;

	for (i = 0; i < 8; i++)
		T_CHECK(t, !t_map(t, b + i * SZ_4K, SZ_4K, t->phys[i],
				  OKVM_PGT_RW), "map page %u", i);
	T_CHECK(t, !t_map(t, b + 511 * SZ_4K, SZ_4K, t->phys[0], OKVM_PGT_RW),
		"map page 511");
	live = t_live(t);

	/* Part of a table: only those pages go, the table stays. */
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_unmap(t, b + 2 * SZ_4K, 3 * SZ_4K), "unmap pages 2-4");
	for (i = 0; i < 8; i++) {
		if (i >= 2 && i < 5)
			T_NONE(t, b + i * SZ_4K);
		else
			T_LEAF(t, b + i * SZ_4K, SZ_4K, t->phys[i],
			       OKVM_PGT_RW);
	}
	T_LEAF(t, b + 511 * SZ_4K, SZ_4K, t->phys[0], OKVM_PGT_RW);
	T_CHECK(t, t->nr_flush && t->flush_start <= b + 2 * SZ_4K &&
		t->flush_end >= b + 5 * SZ_4K,
		"%u flushes [%#llx, %#llx)", t->nr_flush, t->flush_start,
		t->flush_end);
	T_CHECK(t, t_live(t) == live, "table pages %lu, was %lu", t_live(t),
		live);

	/* Nothing there: nothing to flush. */
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_unmap(t, b + 64 * SZ_4K, 16 * SZ_4K), "unmap a hole");
	T_CHECK(t, !t->nr_flush, "%u flushes for nothing", t->nr_flush);

	/* The whole table's range: the table and the empty ones above go. */
	T_CHECK(t, !t_unmap(t, b, SZ_2M), "unmap the 2M");
	for (i = 0; i < 8; i++)
		T_NONE(t, b + i * SZ_4K);
	T_NONE(t, b + 511 * SZ_4K);
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages left",
		t_live(t));

	/* A range through two blocks removes both whole. */
	for (i = 0; i < 3; i++)
		T_CHECK(t, !t_map(t, b + i * SZ_2M, SZ_2M, blk, OKVM_PGT_RW),
			"map block %u", i);
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_unmap(t, b + SZ_1M, SZ_2M), "unmap across blocks");
	T_NONE(t, b);
	T_NONE(t, b + SZ_2M + SZ_1M + SZ_4K);
	T_LEAF(t, b + 2 * SZ_2M, SZ_2M, blk, OKVM_PGT_RW);
	T_CHECK(t, t->flush_start <= b && t->flush_end >= b + 2 * SZ_2M,
		"flushed [%#llx, %#llx) for two blocks", t->flush_start,
		t->flush_end);

	/* Pages, then a block partly covered; the other block stays. */
	T_CHECK(t, !t_map(t, b + 4 * SZ_2M - SZ_4K, SZ_4K, t->phys[5],
			  OKVM_PROT_R), "map page before block");
	T_CHECK(t, !t_map(t, b + 4 * SZ_2M, SZ_2M, blk, OKVM_PGT_RX),
		"map block 4");
	T_CHECK(t, !t_unmap(t, b + 4 * SZ_2M - SZ_4K, 2 * SZ_4K),
		"unmap page and block start");
	T_NONE(t, b + 4 * SZ_2M - SZ_4K);
	T_NONE(t, b + 5 * SZ_2M - SZ_4K);
	T_LEAF(t, b + 2 * SZ_2M, SZ_2M, blk, OKVM_PGT_RW);
	T_ACCOUNTED(t);

	/* A 4K unmap inside a 1G block removes the block. */
	if (t_level(t, SZ_1G) >= 0) {
		T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
		T_CHECK(t, !t_map(t, b, SZ_1G, t_phys(t, SZ_1G, 0), OKVM_PGT_RW),
			"map 1G");
		T_CHECK(t, !t_unmap(t, b + 5 * SZ_4K, SZ_4K), "unmap in 1G");
		T_NONE(t, b);
		T_NONE(t, b + SZ_1G - SZ_4K);
	}

	T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages left",
		t_live(t));
	T_ACCOUNTED(t);
}

/* Write-protect and relax permissions; young again after relax. */
static void okvm_pgt_case_perms(struct okvm_pgt_test *t)
{
	const struct okvm_pgtable_format *fmt = t->fmt;
	u64 b = t_top(t) / 2, blk = t_phys(t, SZ_2M, 1);
	struct okvm_pgtable_leaf l;
	u64 before, after;

	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[0], OKVM_PGT_RW), "map page");
	T_CHECK(t, !t_map(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RWX), "map block");
	before = t_pte(t, b, 0);

	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_wrprotect(t, b, 2 * SZ_2M), "wrprotect");
	T_LEAF(t, b, SZ_4K, t->phys[0], OKVM_PROT_R);
	T_LEAF(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RX);
	after = t_pte(t, b, 0);
	T_CHECK(t, (before ^ after) == fmt->prot_w,
		"wrprotect changed %#llx into %#llx", before, after);
	T_CHECK(t, t->nr_flush && t->flush_start <= b &&
		t->flush_end >= b + 2 * SZ_2M,
		"wrprotect: %u flushes [%#llx, %#llx)", t->nr_flush,
		t->flush_start, t->flush_end);

	/* Nothing writable left: nothing changes, nothing is flushed. */
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_wrprotect(t, b, 2 * SZ_2M), "wrprotect again");
	T_CHECK(t, !t_wrprotect(t, b + SZ_1G / 2, SZ_2M), "wrprotect a hole");
	T_CHECK(t, !t->nr_flush, "%u flushes for nothing", t->nr_flush);

	/* Write back; relaxing flushes only where the format needs it. */
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_relax(t, b, OKVM_PROT_W), "relax W");
	T_LEAF(t, b, SZ_4K, t->phys[0], OKVM_PGT_RW);
	T_CHECK(t, t_pte(t, b, 0) == before, "relaxed entry %#llx, was %#llx",
		t_pte(t, b, 0), before);
	T_CHECK(t, t->nr_flush == (fmt->flush_on_relax ? 1 : 0),
		"relax: %u flushes", t->nr_flush);

	/* Inside a block, at an address that is not the block's. */
	T_CHECK(t, !t_relax(t, b + SZ_2M + 3 * SZ_4K + 5, OKVM_PROT_W),
		"relax W in block");
	T_LEAF(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RWX);

	/* Execute: the icache first, where the format needs it. */
	okvm_pgt_watch(t, b);
	T_CHECK(t, !t_relax(t, b, OKVM_PROT_X), "relax X");
	T_LEAF(t, b, SZ_4K, t->phys[0], OKVM_PGT_RWX);
	T_CHECK(t, fmt->icache_on_exec ?
		t->nr_icache == 1 && t->icache_phys == t->phys[0] &&
		t->icache_size == SZ_4K : !t->nr_icache,
		"relax X: %u icache invalidations", t->nr_icache);
	T_CHECK(t, !t->cmo_bad, "icache invalidated after the leaf was executable");

	/* Nothing to add: no change, no flush. */
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_relax(t, b, OKVM_PGT_RWX), "relax nothing");
	T_CHECK(t, !t->nr_flush && !t->nr_icache, "relax nothing: %u flushes",
		t->nr_flush);

	/* Old, then young again after relax (the access-flag fault path). */
	T_CHECK(t, t_young(t, b, SZ_4K, true), "clear young");
	T_CHECK(t, !t_leaf(t, b, &l) && !l.young, "still young");
	T_CHECK(t, !t_relax(t, b, OKVM_PROT_R), "relax R");
	T_CHECK(t, !t_leaf(t, b, &l) && l.young, "not young after relax");

	/* A write-protected block partly in range loses W whole. */
	T_CHECK(t, !t_wrprotect(t, b + SZ_2M + SZ_1M, SZ_4K), "wrprotect 4K");
	T_LEAF(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RX);

	T_CHECK(t, t_relax(t, b + SZ_1G / 2, OKVM_PROT_W) == -ENOENT,
		"relax of nothing");
	T_ACCOUNTED(t);
	T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
}

/* Test and clear the accessed flags, without flushing. */
static void okvm_pgt_case_young(struct okvm_pgt_test *t)
{
	u64 b = t_top(t) / 2, blk = t_phys(t, SZ_2M, 2);
	const struct okvm_pgtable_format *fmt = t->fmt;
	struct okvm_pgtable_leaf l;

	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[0], OKVM_PGT_RW), "map 0");
	T_CHECK(t, !t_map(t, b + SZ_4K, SZ_4K, t->phys[1], OKVM_PGT_RW),
		"map 1");
	T_CHECK(t, !t_map(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RW), "map block");
	okvm_pgt_hooks_reset(t);

	T_CHECK(t, t_young(t, b, 2 * SZ_2M, false), "new leaves not young");
	T_CHECK(t, !t_leaf(t, b, &l) && l.young, "test cleared young");
	T_CHECK(t, t_young(t, b, SZ_4K, true), "clear page 0");
	T_CHECK(t, !t_leaf(t, b, &l) && !l.young, "page 0 still young");
	T_CHECK(t, !(t_pte(t, b, 0) & fmt->young_mask), "young bit still set");
	T_CHECK(t, !t_leaf(t, b + SZ_4K, &l) && l.young, "page 1 old");
	T_CHECK(t, !t_young(t, b, SZ_4K, false), "page 0 young again");
	T_CHECK(t, t_young(t, b, 2 * SZ_4K, true), "page 1 not young");
	T_CHECK(t, !t_young(t, b, 2 * SZ_4K, false), "pages young again");
	T_CHECK(t, t_young(t, b + SZ_2M + SZ_1M, SZ_4K, true), "block old");
	T_CHECK(t, !t_leaf(t, b + SZ_2M, &l) && !l.young, "block still young");
	T_CHECK(t, !t_young(t, b, 2 * SZ_2M, false), "something young");
	T_CHECK(t, !t_young(t, b + SZ_1G / 2, SZ_2M, false), "hole young");
	T_CHECK(t, !t->nr_flush, "%u flushes for aging", t->nr_flush);

	/* Relax makes one young; mapping the same leaf again another. */
	T_CHECK(t, !t_relax(t, b + SZ_4K, OKVM_PROT_R), "relax page 1");
	T_CHECK(t, t_young(t, b, 2 * SZ_2M, false), "relaxed page old");
	T_CHECK(t, !t_leaf(t, b, &l) && !l.young, "page 0 young");
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[0], OKVM_PGT_RW), "map again");
	T_CHECK(t, !t_leaf(t, b, &l) && l.young, "old after a map");
	T_CHECK(t, !t->nr_flush && !t->nr_clean, "same leaf: %u flushes",
		t->nr_flush);
	T_CHECK(t, !t_young(t, t_top(t), SZ_4K, false), "beyond the top");
	T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
}

/* Check the 512 leaves a block of @size at @addr was split into. */
static void t_expect_split(struct okvm_pgt_test *t, int line, u64 addr,
			   u64 size, u64 phys, enum okvm_prot prot,
			   u64 block_pte)
{
	const struct okvm_pgtable_format *fmt = t->fmt;
	u64 step = size / 512, want, pte;
	unsigned int i, bad = 0, first = 0;
	int level = t_level(t, step);
	struct okvm_pgtable_leaf l;

	want = (block_pte & ~(fmt->addr_mask | fmt->type_mask)) |
	       (level ? fmt->block_type : fmt->page_type);
	for (i = 0; i < 512; i++) {
		u64 a = addr + i * step;

		pte = t_pte(t, a, level);
		if (t_leaf(t, a, &l) || !l.present || l.size != step ||
		    l.phys != phys + i * step ||
		    l.writable != !!(prot & OKVM_PROT_W) ||
		    l.executable != !!(prot & OKVM_PROT_X) ||
		    (pte & ~fmt->addr_mask) != want ||
		    (pte & fmt->addr_mask) != phys + i * step) {
			if (!bad++)
				first = i;
		}
	}
	okvm_pgt_check(t, !bad, line,
		       "split %#llx: %u bad leaves, first %u", addr, bad,
		       first);
}

/* Blocks into pages with the same attributes. */
static void okvm_pgt_case_split(struct okvm_pgt_test *t)
{
	struct okvm_pgtable_cache empty = {};
	u64 b = t_top(t) / 2, blk = t_phys(t, SZ_2M, 3);
	unsigned long consumed, i;
	u64 pte;

	T_CHECK(t, !t_map(t, b, SZ_2M, blk, OKVM_PGT_RW), "map block");
	pte = t_pte(t, b, 1);
	okvm_pgt_watch(t, b + 7 * SZ_4K);
	consumed = t->consumed;
	T_CHECK(t, !t_split(t, b, SZ_2M), "split");
	T_CHECK(t, t->consumed - consumed == 1, "split took %lu pages",
		t->consumed - consumed);
	t_expect_split(t, __LINE__, b, SZ_2M, blk, OKVM_PGT_RW, pte);
	T_CHECK(t, t->nr_flush && t->flush_start <= b &&
		t->flush_end >= b + SZ_2M && !t->bbm_bad,
		"split: %u flushes [%#llx, %#llx), %u with the block mapped",
		t->nr_flush, t->flush_start, t->flush_end, t->bbm_bad);
	T_CHECK(t, !t->nr_clean && !t->nr_icache, "split: cache maintenance");

	/* Nothing left to split. */
	consumed = t->consumed;
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_split(t, b, SZ_2M), "split pages");
	T_CHECK(t, t->consumed == consumed && !t->nr_flush,
		"split of pages took %lu pages, %u flushes",
		t->consumed - consumed, t->nr_flush);

	/* No page in the cache: -ENOMEM and the block is still whole. */
	T_CHECK(t, !t_map(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RX), "map block 2");
	pte = t_pte(t, b + SZ_2M, 1);
	T_CHECK(t, t_split_mc(t, b + SZ_2M, SZ_2M, &empty) == -ENOMEM,
		"split without pages");
	T_CHECK(t, t_split_mc(t, b + SZ_2M, SZ_2M, NULL) == -ENOMEM,
		"split without a cache");
	T_LEAF(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RX);
	T_CHECK(t, t_pte(t, b + SZ_2M, 1) == pte, "block changed");

	/* A range inside a block splits all of it. */
	T_CHECK(t, !t_split(t, b + SZ_2M + 9 * SZ_4K, SZ_4K), "split 4K");
	t_expect_split(t, __LINE__, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RX, pte);
	T_ACCOUNTED(t);

	/* 1G: 512 blocks of 2M, each into 512 pages; 513 table pages. */
	if (t_level(t, SZ_1G) >= 0) {
		u64 g = b + SZ_1G, gphys = t_phys(t, SZ_1G, 4);

		T_CHECK(t, !t_map(t, g, SZ_1G, gphys, OKVM_PGT_RWX), "map 1G");
		pte = t_pte(t, g, 2);
		consumed = t->consumed;
		T_CHECK(t, !t_split(t, g, SZ_1G), "split 1G");
		T_CHECK(t, t->consumed - consumed == 513,
			"1G split took %lu pages", t->consumed - consumed);
		for (i = 0; i < 512; i += 73)
			t_expect_split(t, __LINE__, g + i * SZ_2M, SZ_2M,
				       gphys + i * SZ_2M, OKVM_PGT_RWX, pte);
		t_expect_split(t, __LINE__, g + 511 * SZ_2M, SZ_2M,
			       gphys + 511 * SZ_2M, OKVM_PGT_RWX, pte);
		T_ACCOUNTED(t);
	}

	T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages left",
		t_live(t));
}

/* Bad arguments: -EINVAL, and nothing changes. */
static void okvm_pgt_case_invalid(struct okvm_pgt_test *t)
{
	static const u64 bad_sizes[] = {
		0, SZ_8K, SZ_1M, SZ_4M, SZ_1G + SZ_2M, 1ULL << 39,
	};
	const struct okvm_pgtable_format *fmt = t->fmt;
	u64 top = t_top(t), b = top / 2, p = t->phys[0];
	struct okvm_pgtable_cache mc = {};
	struct okvm_pgtable_leaf l;
	struct okvm_pgtable other;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_sizes); i++)
		T_CHECK(t, t_map(t, b, bad_sizes[i], p, OKVM_PROT_R) == -EINVAL,
			"map size %#llx", bad_sizes[i]);
	if (t_level(t, SZ_1G) < 0)
		T_CHECK(t, t_map(t, 0, SZ_1G, 0, OKVM_PROT_R) == -EINVAL,
			"1G without a 1G level");

	T_CHECK(t, t_map(t, b + SZ_4K, SZ_2M, t_phys(t, SZ_2M, 0),
			 OKVM_PROT_R) == -EINVAL, "unaligned block address");
	T_CHECK(t, t_map(t, b, SZ_2M, t_phys(t, SZ_2M, 0) + SZ_4K,
			 OKVM_PROT_R) == -EINVAL, "unaligned block phys");
	T_CHECK(t, t_map(t, b + 8, SZ_4K, p, OKVM_PROT_R) == -EINVAL,
		"unaligned address");
	T_CHECK(t, t_map(t, b, SZ_4K, p + 8, OKVM_PROT_R) == -EINVAL,
		"unaligned phys");
	T_CHECK(t, t_map(t, top, SZ_4K, p, OKVM_PROT_R) == -EINVAL,
		"map at the top");
	T_CHECK(t, t_map(t, top, SZ_2M, t_phys(t, SZ_2M, 0), OKVM_PROT_R) ==
		-EINVAL, "block at the top");
	T_CHECK(t, t_map(t, -(u64)SZ_4K, SZ_4K, p, OKVM_PROT_R) == -EINVAL,
		"map at 2^64 - 4K");
	T_CHECK(t, t_map(t, b | BIT_ULL(63), SZ_4K, p, OKVM_PROT_R) == -EINVAL,
		"map with bit 63");
	/* The first output address the format cannot hold. */
	T_CHECK(t, t_map(t, b, SZ_4K, fmt->addr_mask + SZ_4K, OKVM_PROT_R) ==
		-EINVAL, "phys beyond the output size");
	T_CHECK(t, t_map(t, b, SZ_4K, p | BIT_ULL(63), OKVM_PROT_R) == -EINVAL,
		"phys with bit 63");
	T_CHECK(t, t_map(t, b, SZ_4K, p, 0) == -EINVAL, "no permission");
	T_CHECK(t, t_map(t, b, SZ_4K, p, OKVM_PROT_W) == -EINVAL, "W only");
	T_CHECK(t, t_map(t, b, SZ_4K, p, OKVM_PROT_X) == -EINVAL, "X only");
	T_CHECK(t, t_map(t, b, SZ_4K, p, OKVM_PROT_R | BIT(3)) == -EINVAL,
		"unknown permission");

	T_CHECK(t, t_unmap(t, b, 0) == -EINVAL, "unmap 0 bytes");
	T_CHECK(t, t_unmap(t, b + 8, SZ_4K) == -EINVAL, "unmap unaligned");
	T_CHECK(t, t_unmap(t, b, SZ_4K + 8) == -EINVAL, "unmap odd size");
	T_CHECK(t, t_unmap(t, top - SZ_4K, 2 * SZ_4K) == -EINVAL,
		"unmap past the top");
	T_CHECK(t, t_unmap(t, SZ_4K, -(u64)SZ_4K) == -EINVAL,
		"unmap wrapping around");
	T_CHECK(t, t_wrprotect(t, top, SZ_4K) == -EINVAL, "wrprotect the top");
	T_CHECK(t, t_wrprotect(t, b, 0) == -EINVAL, "wrprotect 0 bytes");
	T_CHECK(t, t_split(t, top - SZ_2M, SZ_4M) == -EINVAL,
		"split past the top");
	T_CHECK(t, t_relax(t, top, OKVM_PROT_W) == -EINVAL, "relax the top");
	T_CHECK(t, t_relax(t, b, BIT(3)) == -EINVAL, "relax unknown");
	T_CHECK(t, t_leaf(t, top, &l) == -EINVAL && !l.present,
		"leaf at the top");
	T_CHECK(t, t_leaf(t, -(u64)1, &l) == -EINVAL, "leaf at 2^64 - 1");
	T_CHECK(t, !t_young(t, top, SZ_4K, true), "young at the top");
	T_CHECK(t, okvm_pgtable_cache_topup(&mc, OKVM_PGTABLE_CACHE_MAX + 1) ==
		-EINVAL && !mc.nr, "cache topup over the maximum");

	/* Nothing of the above changed the table. */
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages",
		t_live(t));
	T_NONE(t, b);
	T_ACCOUNTED(t);

	/* Parameters a format cannot have. */
	other.ops = NULL;
	T_CHECK(t, okvm_pgtable_init(&other, fmt, 31, 0) == -EINVAL,
		"init with 31 bits");
	T_CHECK(t, okvm_pgtable_init(&other, fmt, 58, OKVM_PGT_5LEVEL) ==
		-EINVAL, "init with 58 bits");
	T_CHECK(t, okvm_pgtable_init(&other, fmt, 40, BIT_ULL(7)) == -EINVAL,
		"init with an unknown flag");
	if (fmt->kind == OKVM_PGT_KIND_STAGE2) {
		T_CHECK(t, okvm_pgtable_init(&other, fmt, 49, 0) == -EINVAL,
			"stage-2 with 49 bits");
		T_CHECK(t, okvm_pgtable_init(&other, fmt, 40, OKVM_PGT_5LEVEL) ==
			-EINVAL, "stage-2 with 5 levels");
	} else {
		T_CHECK(t, okvm_pgtable_init(&other, fmt, 49, 0) == -EINVAL,
			"4 levels with 49 bits");
		T_CHECK(t, okvm_pgtable_init(&other, fmt, 40, OKVM_PGT_FWB) ==
			-EINVAL, "x86 with FWB");
	}
	T_CHECK(t, !other.root, "a failed init allocated a root");
}

/* Too few pages in the cache: -ENOMEM before anything changes. */
static void okvm_pgt_case_nomem(struct okvm_pgt_test *t)
{
	struct okvm_pgtable_cache empty = {}, one = {};
	u64 b = t_top(t) / 2, blk = t_phys(t, SZ_2M, 0);
	unsigned long live, tables;
	u64 pte;

	T_CHECK(t, t_map_mc(t, b, SZ_4K, t->phys[0], OKVM_PROT_R, &empty) ==
		-ENOMEM, "map into an empty table without pages");
	T_CHECK(t, t_map_mc(t, b, SZ_4K, t->phys[0], OKVM_PROT_R, NULL) ==
		-ENOMEM, "map without a cache");
	T_NONE(t, b);
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages",
		t_live(t));
	T_ACCOUNTED(t);

	/* A leaf in the root needs no page. */
	if (t_level(t, BIT_ULL(PAGE_SHIFT + 9 * t->pgt.start_level)) >= 0) {
		u64 size = BIT_ULL(PAGE_SHIFT + 9 * t->pgt.start_level);

		T_CHECK(t, !t_map_mc(t, 0, size, t_phys(t, size, 0),
				     OKVM_PROT_R, &empty), "root leaf");
		T_LEAF(t, 0, size, t_phys(t, size, 0), OKVM_PROT_R);
		T_CHECK(t, !t_unmap(t, 0, size), "unmap root leaf");
	}

	/* Next to an existing page: its table is there already. */
	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[0], OKVM_PROT_R), "map");
	T_CHECK(t, !t_map_mc(t, b + SZ_4K, SZ_4K, t->phys[1], OKVM_PROT_R,
			     &empty), "map next to it without pages");
	T_LEAF(t, b + SZ_4K, SZ_4K, t->phys[1], OKVM_PROT_R);

	/* One page short, or more: nothing taken, nothing changed. */
	T_CHECK(t, !okvm_pgtable_cache_topup(&one, 1), "topup");
	while (one.nr > 1) {
		one.nr--;
		free_page((unsigned long)one.pages[one.nr]);
		one.pages[one.nr] = NULL;
	}
	live = t_live(t);
	T_CHECK(t, t_map_mc(t, b + SZ_2M, SZ_4K, t->phys[2], OKVM_PROT_R,
			    &empty) == -ENOMEM, "new table without pages");
	T_NONE(t, b + SZ_2M);
	if (t->pgt.start_level >= 3) {
		/* 512 GiB away: two or more tables, one page. */
		u64 far = b - BIT_ULL(PAGE_SHIFT + 27);

		T_CHECK(t, t_map_mc(t, far, SZ_4K, t->phys[3], OKVM_PROT_R,
				    &one) == -ENOMEM && one.nr == 1,
			"map needing tables with one page: %d left", one.nr);
		T_NONE(t, far);
	}
	T_CHECK(t, t_live(t) == live, "table pages %lu, were %lu", t_live(t),
		live);
	T_CHECK(t, !t_map_mc(t, b + SZ_2M, SZ_4K, t->phys[2], OKVM_PROT_R,
			     &one) && !one.nr, "map with the one page needed");
	T_LEAF(t, b + SZ_2M, SZ_4K, t->phys[2], OKVM_PROT_R);
	T_CHECK(t, t_live(t) == live + 1, "table pages %lu, want %lu",
		t_live(t), live + 1);

	/* A page inside a block: the block is not broken without a page. */
	T_CHECK(t, !t_map(t, b + 4 * SZ_2M, SZ_2M, blk, OKVM_PGT_RW),
		"map block");
	pte = t_pte(t, b + 4 * SZ_2M, 1);
	read_lock(&t->lock);
	tables = okvm_pgtable_count_tables(&t->pgt);
	read_unlock(&t->lock);
	T_CHECK(t, t_map_mc(t, b + 4 * SZ_2M + SZ_4K, SZ_4K, t->phys[4],
			    OKVM_PROT_R, &empty) == -ENOMEM,
		"page in a block without pages");
	T_LEAF(t, b + 4 * SZ_2M, SZ_2M, blk, OKVM_PGT_RW);
	T_CHECK(t, t_pte(t, b + 4 * SZ_2M, 1) == pte, "block changed");
	read_lock(&t->lock);
	T_CHECK(t, okvm_pgtable_count_tables(&t->pgt) == tables,
		"tables changed");
	read_unlock(&t->lock);

	T_ACCOUNTED(t);
	okvm_pgtable_cache_free(&one);
	T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
}

/* Replacing leaves and tables: break, flush, then make. */
static void okvm_pgt_case_replace(struct okvm_pgt_test *t)
{
	u64 b = t_top(t) / 2, blk = t_phys(t, SZ_2M, 5);
	unsigned long live, consumed;
	unsigned int i;

	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[0], OKVM_PGT_RW), "map");

	/* Another page at the same address. */
	okvm_pgt_watch(t, b);
	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[1], OKVM_PGT_RW), "remap");
	T_LEAF(t, b, SZ_4K, t->phys[1], OKVM_PGT_RW);
	T_CHECK(t, t->nr_flush == 1 && t->flush_start == b &&
		t->flush_end == b + SZ_4K && t->flush_level == 0,
		"remap: %u flushes [%#llx, %#llx) level %d", t->nr_flush,
		t->flush_start, t->flush_end, t->flush_level);
	T_CHECK(t, !t->bbm_bad, "flushed with the old page still mapped");
	T_CHECK(t, t->pgt.clean_on_map ?
		t->nr_clean == 1 && t->clean_phys == t->phys[1] :
		!t->nr_clean, "remap: %u cleans", t->nr_clean);
	T_CHECK(t, !t->cmo_bad, "cleaned after the new page was mapped");

	/* The same leaf again: nothing to do. */
	okvm_pgt_hooks_reset(t);
	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[1], OKVM_PGT_RW), "same map");
	T_CHECK(t, !t->nr_flush && !t->nr_clean, "same map: %u flushes",
		t->nr_flush);

	/* Other permissions: a new leaf too. */
	okvm_pgt_watch(t, b);
	T_CHECK(t, !t_map(t, b, SZ_4K, t->phys[1], OKVM_PROT_R), "map R");
	T_LEAF(t, b, SZ_4K, t->phys[1], OKVM_PROT_R);
	T_CHECK(t, t->nr_flush == 1 && !t->bbm_bad, "map R: %u flushes",
		t->nr_flush);

	/* A block over a table of pages: the table is freed. */
	for (i = 0; i < 3; i++)
		T_CHECK(t, !t_map(t, b + SZ_2M + i * SZ_4K, SZ_4K, t->phys[i],
				  OKVM_PGT_RW), "map page %u", i);
	live = t_live(t);
	okvm_pgt_watch(t, b + SZ_2M);
	T_CHECK(t, !t_map(t, b + SZ_2M, SZ_2M, blk, OKVM_PGT_RW),
		"block over a table");
	T_LEAF(t, b + SZ_2M + SZ_4K, SZ_2M, blk, OKVM_PGT_RW);
	T_CHECK(t, t_live(t) == live - 1, "table pages %lu, want %lu",
		t_live(t), live - 1);
	T_CHECK(t, t->nr_flush == 1 && t->flush_start == b + SZ_2M &&
		t->flush_end == b + 2 * SZ_2M &&
		t->flush_level == OKVM_PGT_LEVEL_ANY && !t->bbm_bad,
		"block over table: %u flushes [%#llx, %#llx) level %d",
		t->nr_flush, t->flush_start, t->flush_end, t->flush_level);

	/* A page inside a block: the block goes, the page comes. */
	consumed = t->consumed;
	okvm_pgt_watch(t, b + SZ_2M);
	T_CHECK(t, !t_map(t, b + SZ_2M + 8 * SZ_4K, SZ_4K, t->phys[2],
			  OKVM_PROT_R), "page in block");
	T_LEAF(t, b + SZ_2M + 8 * SZ_4K, SZ_4K, t->phys[2], OKVM_PROT_R);
	T_NONE(t, b + SZ_2M);
	T_CHECK(t, t->consumed - consumed == 1 && t->nr_flush == 1 &&
		t->flush_start == b + SZ_2M && t->flush_end == b + 2 * SZ_2M &&
		!t->bbm_bad,
		"page in block: %lu pages, %u flushes", t->consumed - consumed,
		t->nr_flush);
	T_ACCOUNTED(t);

	/* A 1G block over tables of tables. */
	if (t_level(t, SZ_1G) >= 0) {
		u64 g = ALIGN_DOWN(b, SZ_1G), gphys = t_phys(t, SZ_1G, 6);

		okvm_pgt_watch(t, b);
		T_CHECK(t, !t_map(t, g, SZ_1G, gphys, OKVM_PGT_RWX),
			"1G over tables");
		T_LEAF(t, b + SZ_2M + 8 * SZ_4K, SZ_1G, gphys,
		       OKVM_PGT_RWX);
		T_CHECK(t, !t->bbm_bad && t->nr_flush == 1,
			"1G over tables: %u flushes", t->nr_flush);
		T_ACCOUNTED(t);
	}

	T_CHECK(t, !t_unmap(t, 0, t_top(t)), "unmap everything");
	T_CHECK(t, t_live(t) == t_root_pages(t), "%lu table pages left",
		t_live(t));
}

/* A big table with every kind of change; the teardown destroys it. */
static void okvm_pgt_case_destroy(struct okvm_pgt_test *t)
{
	u64 top = t_top(t), addr, stride;
	unsigned long consumed = t->consumed;
	unsigned int i;

	/* Pages spread over the whole range: tables at every level. */
	stride = top / 64;
	for (i = 0; i < 64; i++) {
		/* The middle is for the pages and blocks below. */
		if (i == 32)
			continue;
		addr = i * stride + (u64)(i % 7) * SZ_2M + (u64)(i % 5) * SZ_4K;
		T_CHECK(t, !t_map(t, addr, SZ_4K, t_phys(t, SZ_4K, i),
				  OKVM_PGT_RW), "map %#llx", addr);
	}
	for (i = 0; i < 16; i++)
		T_CHECK(t, !t_map(t, top / 2 + i * SZ_4K, SZ_4K,
				  t_phys(t, SZ_4K, i), OKVM_PROT_R),
			"map page %u", i);
	for (i = 0; i < 8; i++)
		T_CHECK(t, !t_map(t, top / 2 + (i + 1) * SZ_2M, SZ_2M,
				  t_phys(t, SZ_2M, i), OKVM_PGT_RX),
			"map block %u", i);
	/* Only maps into empty entries so far: live = root + taken. */
	T_CHECK(t, t_live(t) == t_root_pages(t) + t->consumed - consumed,
		"%lu table pages, %lu root + %lu taken", t_live(t),
		t_root_pages(t), t->consumed - consumed);
	T_ACCOUNTED(t);

	T_CHECK(t, !t_split(t, top / 2 + SZ_2M, 4 * SZ_2M), "split");
	T_CHECK(t, !t_map(t, top / 2 + 6 * SZ_2M, SZ_2M, t_phys(t, SZ_2M, 0),
			  OKVM_PGT_RW), "block over a table");
	T_CHECK(t, !t_unmap(t, stride, 2 * stride), "unmap a big range");
	T_CHECK(t, !t_unmap(t, top / 2 + SZ_4K, SZ_4K), "unmap a page");
	T_CHECK(t, !t_wrprotect(t, 0, top), "wrprotect everything");
	T_CHECK(t, t_young(t, 0, top, true), "age everything");
	T_ACCOUNTED(t);
	T_CHECK(t, t_live(t) > t_root_pages(t), "only %lu table pages",
		t_live(t));
}

static void (*const okvm_pgt_cases[OKVM_PGTEST_NR_CASES])(struct okvm_pgt_test *t) = {
	[OKVM_PGTEST_CASE_MAP]		= okvm_pgt_case_map,
	[OKVM_PGTEST_CASE_ENCODING]	= okvm_pgt_case_encoding,
	[OKVM_PGTEST_CASE_UNMAP]	= okvm_pgt_case_unmap,
	[OKVM_PGTEST_CASE_PERMS]	= okvm_pgt_case_perms,
	[OKVM_PGTEST_CASE_YOUNG]	= okvm_pgt_case_young,
	[OKVM_PGTEST_CASE_SPLIT]	= okvm_pgt_case_split,
	[OKVM_PGTEST_CASE_INVALID]	= okvm_pgt_case_invalid,
	[OKVM_PGTEST_CASE_NOMEM]	= okvm_pgt_case_nomem,
	[OKVM_PGTEST_CASE_REPLACE]	= okvm_pgt_case_replace,
	[OKVM_PGTEST_CASE_DESTROY]	= okvm_pgt_case_destroy,
};

static const struct okvm_pgtable_format *
okvm_pgt_find_format(enum okvm_pgtable_kind kind)
{
	unsigned int i;

	for (i = 0; okvm_pgtable_formats[i]; i++)
		if (okvm_pgtable_formats[i]->kind == kind)
			return okvm_pgtable_formats[i];
	return NULL;
}

static void okvm_pgt_test_free(struct okvm_pgt_test *t)
{
	unsigned int i;

	okvm_pgtable_cache_free(&t->mc);
	for (i = 0; i < OKVM_PGT_TEST_PAGES; i++)
		if (t->pages[i])
			__free_page(t->pages[i]);
	kfree(t);
}

static int okvm_pgt_test_run(struct okvm_pgt_test *t, u32 case_id)
{
	unsigned int i;
	int ret;

	for (i = 0; i < OKVM_PGT_TEST_PAGES; i++) {
		t->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT);
		if (!t->pages[i])
			return -ENOMEM;
		t->phys[i] = page_to_phys(t->pages[i]);
	}
	rwlock_init(&t->lock);
	t->pgt.ops = &okvm_pgt_test_ops;
	ret = okvm_pgtable_init(&t->pgt, t->fmt, t->cfg->ia_bits,
				t->cfg->flags);
	if (ret)
		return ret;
	T_CHECK(t, t->pgt.ops == &okvm_pgt_test_ops, "init replaced the hooks");

	okvm_pgt_cases[case_id](t);

	/* No table page was lost on the way, and destroy frees them all. */
	okvm_pgt_hooks_reset(t);
	T_ACCOUNTED(t);
	okvm_pgtable_destroy(&t->pgt);
	T_CHECK(t, !t->pgt.root && !t_live(t),
		"destroy left %lu table pages", t_live(t));
	T_CHECK(t, t->nr_flush == 1 && t->flush_start == 0 &&
		t->flush_end == t_top(t),
		"destroy: %u flushes [%#llx, %#llx)", t->nr_flush,
		t->flush_start, t->flush_end);
	return 0;
}

long okvm_test_pgtable_selftest(struct okvm *vm, void __user *argp)
{
	struct okvm_test_pgtable_selftest req;
	const struct okvm_pgtable_format *fmt;
	struct okvm_pgt_test *t;
	int ret;

	if (!okvm_testing)
		return -EPERM;
	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.case_id >= OKVM_PGTEST_NR_CASES ||
	    req.format >= ARRAY_SIZE(okvm_pgt_test_configs))
		return -EINVAL;
	fmt = okvm_pgt_find_format(okvm_pgt_test_configs[req.format].kind);
	if (!fmt)
		return -EOPNOTSUPP;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	t->fmt = fmt;
	t->cfg = &okvm_pgt_test_configs[req.format];
	ret = okvm_pgt_test_run(t, req.case_id);
	req.passed = t->passed;
	req.failed = t->failed;
	memcpy(req.msg, t->msg, sizeof(req.msg));
	okvm_pgt_test_free(t);
	if (ret)
		return ret;
	return copy_to_user(argp, &req, sizeof(req)) ? -EFAULT : 0;
}
