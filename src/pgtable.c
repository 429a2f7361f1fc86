// SPDX-License-Identifier: GPL-2.0
/*
 * The second-stage page-table walker and the operations built on it.
 *
 * okvm_pgtable_walk() is the only code that descends a table. Each
 * operation is a visitor that the walker calls on the entries of a range
 * with a context: where the entry is, its value when the walker read it,
 * the address and level it maps. The format (pgtable_format.h) says how
 * entries are encoded; nothing here depends on the architecture.
 *
 * Locking: the caller holds its mmu_lock, for write around every change
 * and at least for read around okvm_pgtable_get_leaf(). Entries are read
 * once per visit with READ_ONCE() and written whole with single stores,
 * so a lockless reader never sees a torn entry (Documentation/pgtable.rst
 * explains how this grows into parallel faults).
 */
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mm.h>

#include "pgtable.h"
#include "pgtable_format.h"

/* Every format has 512 entries of 8 bytes per 4 KiB table. */
#define OKVM_PGT_TABLE_SHIFT	9
#define OKVM_PGT_PTRS		BIT(OKVM_PGT_TABLE_SHIFT)
/* Unlinked tables freed together after one TLB flush. */
#define OKVM_PGT_FREE_BATCH	16

static unsigned int okvm_level_shift(unsigned int level)
{
	return PAGE_SHIFT + OKVM_PGT_TABLE_SHIFT * level;
}

static u64 okvm_level_size(unsigned int level)
{
	return BIT_ULL(okvm_level_shift(level));
}

/* The root may be smaller than a page, or several pages concatenated. */
static unsigned int okvm_root_entries(const struct okvm_pgtable *pgt)
{
	return 1U << (pgt->ia_bits - okvm_level_shift(pgt->start_level));
}

static bool okvm_pte_valid(const struct okvm_pgtable_format *fmt, u64 pte)
{
	return pte & fmt->valid_mask;
}

static bool okvm_pte_is_table(const struct okvm_pgtable_format *fmt, u64 pte,
			      unsigned int level)
{
	return level && okvm_pte_valid(fmt, pte) &&
	       (pte & fmt->type_mask) == fmt->table_type;
}

static bool okvm_pte_is_leaf(const struct okvm_pgtable_format *fmt, u64 pte,
			     unsigned int level)
{
	return okvm_pte_valid(fmt, pte) && !okvm_pte_is_table(fmt, pte, level);
}

static u64 *okvm_pte_table(const struct okvm_pgtable_format *fmt, u64 pte)
{
	return phys_to_virt(pte & fmt->addr_mask);
}

/* Output address of a leaf: of the whole block. */
static u64 okvm_pte_phys(const struct okvm_pgtable_format *fmt, u64 pte,
			 unsigned int level)
{
	return pte & fmt->addr_mask & ~(okvm_level_size(level) - 1);
}

static bool okvm_pte_exec(const struct okvm_pgtable_format *fmt, u64 pte)
{
	if (fmt->prot_x)
		return pte & fmt->prot_x;
	return !(pte & fmt->prot_nx);
}

static u64 okvm_table_pte(const struct okvm_pgtable_format *fmt, void *table)
{
	return virt_to_phys(table) | fmt->table_type | fmt->table_attr;
}

/* A new leaf: young, clean, with exactly the permissions in @prot. */
static u64 okvm_leaf_pte(const struct okvm_pgtable *pgt, u64 phys,
			 unsigned int level, enum okvm_prot prot)
{
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	u64 pte = phys | pgt->leaf_attr | fmt->prot_r | fmt->young_mask;

	pte |= level ? fmt->block_type : fmt->page_type;
	if (prot & OKVM_PROT_W)
		pte |= fmt->prot_w;
	pte |= prot & OKVM_PROT_X ? fmt->prot_x : fmt->prot_nx;
	return pte;
}

/* What the walker visits; a walker asks for any combination. */
enum okvm_visit {
	/* An entry that is not a table: invalid, a page or a block. */
	OKVM_VISIT_LEAF		= BIT(0),
	/* A table entry, before the walker descends into it. */
	OKVM_VISIT_TABLE_PRE	= BIT(1),
	/* A table entry, after its table was walked. */
	OKVM_VISIT_TABLE_POST	= BIT(2),
};

/* A visitor's return value that ends the walk early, successfully. */
#define OKVM_WALK_STOP		1

struct okvm_visit_ctx {
	struct okvm_pgtable *pgt;
	u64 *ptep;
	/* *ptep as read just before the visit. */
	u64 old;
	/* First address the entry maps. */
	u64 addr;
	unsigned int level;
	/* The range being walked. */
	u64 start;
	u64 end;
	void *arg;
};

struct okvm_walker {
	/* 0 to go on, OKVM_WALK_STOP, or a negative errno that ends the walk. */
	int (*visit)(const struct okvm_visit_ctx *ctx, enum okvm_visit visit);
	unsigned int visits;
	void *arg;
};

struct okvm_walk_state {
	struct okvm_pgtable *pgt;
	const struct okvm_walker *walker;
	u64 start;
	/* Next address to visit. */
	u64 addr;
	u64 end;
};

/*
 * Writing entries. Each write stores a whole entry at once:
 *
 * - install: into an entry the visitor read as invalid. A store-release,
 *   so that a walker (the MMU, or a lockless reader) that sees a new table
 *   entry also sees the table's contents. With faults under a read lock
 *   this becomes a cmpxchg from ctx->old that fails with -EAGAIN.
 * - clear: make a valid entry invalid; a flush follows before anything
 *   that depended on it is reused.
 * - modify: change attribute bits of a valid leaf with cmpxchg, because
 *   on x86 the MMU sets accessed/dirty bits in live leaves concurrently
 *   and a plain read-modify-write could lose them.
 */
static void okvm_pte_install(const struct okvm_visit_ctx *ctx, u64 new)
{
	/* Orders the new table's (or leaf's) contents before the entry. */
	smp_store_release(ctx->ptep, new);
}

static void okvm_pte_clear(const struct okvm_visit_ctx *ctx)
{
	WRITE_ONCE(*ctx->ptep, 0);
}

/* Clear then set bits of a valid leaf; returns the value replaced. */
static u64 okvm_pte_modify(u64 *ptep, u64 clear, u64 set)
{
	u64 old = READ_ONCE(*ptep);
	u64 new, prev;

	for (;;) {
		new = (old & ~clear) | set;
		if (new == old)
			return old;
		prev = cmpxchg(ptep, old, new);
		if (prev == old)
			return old;
		old = prev;
	}
}

static int okvm_walk_table(struct okvm_walk_state *w, u64 *table,
			   unsigned int level, unsigned int nr_entries);

static int okvm_walk_entry(struct okvm_walk_state *w, u64 *ptep,
			   unsigned int level)
{
	const struct okvm_pgtable_format *fmt = w->pgt->fmt;
	const struct okvm_walker *walker = w->walker;
	u64 size = okvm_level_size(level);
	struct okvm_visit_ctx ctx = {
		.pgt	= w->pgt,
		.ptep	= ptep,
		.old	= READ_ONCE(*ptep),
		.addr	= ALIGN_DOWN(w->addr, size),
		.level	= level,
		.start	= w->start,
		.end	= w->end,
		.arg	= walker->arg,
	};
	bool table = okvm_pte_is_table(fmt, ctx.old, level);
	int ret;

	if (table && (walker->visits & OKVM_VISIT_TABLE_PRE)) {
		ret = walker->visit(&ctx, OKVM_VISIT_TABLE_PRE);
		if (ret)
			return ret;
		/* Replaced by a leaf: already visited, nothing to descend. */
		ctx.old = READ_ONCE(*ptep);
		table = okvm_pte_is_table(fmt, ctx.old, level);
	} else if (!table && (walker->visits & OKVM_VISIT_LEAF)) {
		ret = walker->visit(&ctx, OKVM_VISIT_LEAF);
		if (ret)
			return ret;
		/* A table put here (map, split) is walked like any other. */
		ctx.old = READ_ONCE(*ptep);
		table = okvm_pte_is_table(fmt, ctx.old, level);
	}

	if (!table) {
		w->addr = ctx.addr + size;
		return 0;
	}

	ret = okvm_walk_table(w, okvm_pte_table(fmt, ctx.old), level - 1,
			      OKVM_PGT_PTRS);
	if (ret)
		return ret;
	if (walker->visits & OKVM_VISIT_TABLE_POST)
		return walker->visit(&ctx, OKVM_VISIT_TABLE_POST);
	return 0;
}

static int okvm_walk_table(struct okvm_walk_state *w, u64 *table,
			   unsigned int level, unsigned int nr_entries)
{
	unsigned int idx;
	int ret;

	idx = (w->addr >> okvm_level_shift(level)) & (nr_entries - 1);
	for (; idx < nr_entries && w->addr < w->end; idx++) {
		ret = okvm_walk_entry(w, &table[idx], level);
		if (ret)
			return ret;
	}
	return 0;
}

/* Visit [addr, addr + size), which the caller checked. */
static int okvm_pgtable_walk(struct okvm_pgtable *pgt, u64 addr, u64 size,
			     const struct okvm_walker *walker)
{
	struct okvm_walk_state w = {
		.pgt	= pgt,
		.walker	= walker,
		.start	= addr,
		.addr	= addr,
		.end	= addr + size,
	};
	int ret;

	ret = okvm_walk_table(&w, pgt->root, pgt->start_level,
			      okvm_root_entries(pgt));
	return ret == OKVM_WALK_STOP ? 0 : ret;
}

static bool okvm_range_ok(const struct okvm_pgtable *pgt, u64 addr, u64 size)
{
	u64 limit = BIT_ULL(pgt->ia_bits);

	return size && IS_ALIGNED(addr, PAGE_SIZE) &&
	       IS_ALIGNED(size, PAGE_SIZE) && addr < limit &&
	       size <= limit - addr;
}

/* Table pages. */

int okvm_pgtable_cache_topup(struct okvm_pgtable_cache *mc, int min)
{
	void *page;

	if (min < 0 || min > OKVM_PGTABLE_CACHE_MAX)
		return -EINVAL;
	if (mc->nr >= min)
		return 0;
	while (mc->nr < OKVM_PGTABLE_CACHE_MAX) {
		page = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!page)
			return mc->nr >= min ? 0 : -ENOMEM;
		mc->pages[mc->nr++] = page;
	}
	return 0;
}

void okvm_pgtable_cache_free(struct okvm_pgtable_cache *mc)
{
	while (mc->nr > 0) {
		mc->nr--;
		free_page((unsigned long)mc->pages[mc->nr]);
		mc->pages[mc->nr] = NULL;
	}
}

static void *okvm_cache_take(struct okvm_pgtable *pgt,
			     struct okvm_pgtable_cache *mc)
{
	void *page;

	if (!mc || mc->nr <= 0)
		return NULL;
	mc->nr--;
	page = mc->pages[mc->nr];
	mc->pages[mc->nr] = NULL;
	atomic_long_inc(&pgt->nr_table_pages);
	return page;
}

static void okvm_free_table(struct okvm_pgtable *pgt, void *table)
{
	free_page((unsigned long)table);
	atomic_long_dec(&pgt->nr_table_pages);
}

/* Free @table (of entries at @level) and every table under it. */
static void okvm_free_subtree(struct okvm_pgtable *pgt, u64 *table,
			      unsigned int level)
{
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	unsigned int i;
	u64 pte;

	for (i = 0; i < OKVM_PGT_PTRS; i++) {
		pte = READ_ONCE(table[i]);
		if (okvm_pte_is_table(fmt, pte, level))
			okvm_free_subtree(pgt, okvm_pte_table(fmt, pte),
					  level - 1);
	}
	okvm_free_table(pgt, table);
}

static bool okvm_table_empty(const struct okvm_pgtable_format *fmt,
			     u64 *table)
{
	unsigned int i;

	for (i = 0; i < OKVM_PGT_PTRS; i++)
		if (okvm_pte_valid(fmt, READ_ONCE(table[i])))
			return false;
	return true;
}

/*
 * Changes that need a flush, collected over a walk: the union of the
 * ranges of the entries cleared or restricted, and the tables unlinked,
 * which may only be freed after that flush.
 */
struct okvm_zap {
	bool pending;
	u64 start;
	u64 end;
	int level;
	unsigned int nr_free;
	void *free[OKVM_PGT_FREE_BATCH];
};

static void okvm_zap_note(struct okvm_zap *z, u64 addr, u64 size, int level)
{
	if (!z->pending) {
		z->pending = true;
		z->start = addr;
		z->end = addr + size;
		z->level = level;
		return;
	}
	z->start = min(z->start, addr);
	z->end = max(z->end, addr + size);
	if (z->level != level)
		z->level = OKVM_PGT_LEVEL_ANY;
}

static void okvm_zap_flush(struct okvm_pgtable *pgt, struct okvm_zap *z)
{
	unsigned int i;

	if (z->pending) {
		pgt->ops->flush_range(pgt, z->start, z->end - z->start,
				      z->level);
		z->pending = false;
	}
	for (i = 0; i < z->nr_free; i++)
		okvm_free_table(pgt, z->free[i]);
	z->nr_free = 0;
}

/* Free an unlinked table, whose range was noted, after the next flush. */
static void okvm_zap_free_later(struct okvm_pgtable *pgt, struct okvm_zap *z,
				void *table)
{
	if (z->nr_free == ARRAY_SIZE(z->free))
		okvm_zap_flush(pgt, z);
	z->free[z->nr_free++] = table;
}

/*
 * Break: clear a valid entry, flush it, and free the tables under it if it
 * was a table. The first half of break-before-make.
 */
static void okvm_break(const struct okvm_visit_ctx *ctx)
{
	struct okvm_pgtable *pgt = ctx->pgt;
	bool table = okvm_pte_is_table(pgt->fmt, ctx->old, ctx->level);

	okvm_pte_clear(ctx);
	pgt->ops->flush_range(pgt, ctx->addr, okvm_level_size(ctx->level),
			      table ? OKVM_PGT_LEVEL_ANY : ctx->level);
	if (table)
		okvm_free_subtree(pgt, okvm_pte_table(pgt->fmt, ctx->old),
				  ctx->level - 1);
}

/* Map. */

struct okvm_map_arg {
	u64 phys;
	u64 pte;
	unsigned int level;
	enum okvm_prot prot;
	struct okvm_pgtable_cache *mc;
	/* Table pages the map will take, counted before it starts. */
	unsigned int need;
};

/* The level of a leaf of @size, or -1 if the table cannot have one. */
static int okvm_leaf_level(const struct okvm_pgtable *pgt, u64 size)
{
	unsigned int level;

	for (level = 0; level <= pgt->start_level; level++)
		if (size == okvm_level_size(level))
			return pgt->fmt->leaf_levels & BIT(level) ? level : -1;
	return -1;
}

/* Count the tables missing between the deepest one and the leaf's level. */
static int okvm_map_count_visit(const struct okvm_visit_ctx *ctx,
				enum okvm_visit visit)
{
	struct okvm_map_arg *m = ctx->arg;

	if (ctx->level <= m->level)
		return OKVM_WALK_STOP;
	if (visit == OKVM_VISIT_TABLE_PRE)
		return 0;
	m->need = ctx->level - m->level;
	return OKVM_WALK_STOP;
}

static void okvm_map_leaf(const struct okvm_visit_ctx *ctx,
			  const struct okvm_map_arg *m)
{
	struct okvm_pgtable *pgt = ctx->pgt;
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	u64 hw = fmt->young_mask | fmt->dirty_mask;
	u64 size = okvm_level_size(ctx->level);

	/* The same leaf, maybe aged or dirtied since: just make it young. */
	if (okvm_pte_is_leaf(fmt, ctx->old, ctx->level) &&
	    (ctx->old & ~hw) == (m->pte & ~hw)) {
		okvm_pte_modify(ctx->ptep, 0, fmt->young_mask);
		return;
	}

	if (okvm_pte_valid(fmt, ctx->old))
		okvm_break(ctx);
	if (pgt->clean_on_map)
		pgt->ops->clean_dcache(pgt, m->phys, size);
	if (fmt->icache_on_exec && (m->prot & OKVM_PROT_X))
		pgt->ops->inval_icache(pgt, m->phys, size);
	okvm_pte_install(ctx, m->pte);
}

static int okvm_map_visit(const struct okvm_visit_ctx *ctx,
			  enum okvm_visit visit)
{
	struct okvm_map_arg *m = ctx->arg;
	struct okvm_pgtable *pgt = ctx->pgt;
	void *table;

	if (ctx->level == m->level) {
		okvm_map_leaf(ctx, m);
		return 0;
	}
	if (visit == OKVM_VISIT_TABLE_PRE)
		return 0;

	/*
	 * Above the leaf's level and not a table: put a table in. A block
	 * in the way is removed whole; the rest of it faults in again.
	 */
	table = okvm_cache_take(pgt, m->mc);
	if (WARN_ON_ONCE(!table))
		return -ENOMEM;
	if (okvm_pte_valid(pgt->fmt, ctx->old))
		okvm_break(ctx);
	okvm_pte_install(ctx, okvm_table_pte(pgt->fmt, table));
	return 0;
}

static bool okvm_prot_ok(enum okvm_prot prot)
{
	return (prot & OKVM_PROT_R) &&
	       !(prot & ~(OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X));
}

int okvm_pgtable_map(struct okvm_pgtable *pgt, u64 addr, u64 size, u64 phys,
		     enum okvm_prot prot, struct okvm_pgtable_cache *mc)
{
	struct okvm_map_arg m = { .phys = phys, .prot = prot, .mc = mc };
	struct okvm_walker walker = {
		.visit	= okvm_map_count_visit,
		.visits	= OKVM_VISIT_LEAF | OKVM_VISIT_TABLE_PRE,
		.arg	= &m,
	};
	int level = okvm_leaf_level(pgt, size);

	if (level < 0 || !okvm_range_ok(pgt, addr, size) ||
	    !IS_ALIGNED(addr, size) || !IS_ALIGNED(phys, size) ||
	    (phys & ~pgt->fmt->addr_mask) || !okvm_prot_ok(prot))
		return -EINVAL;
	m.level = level;
	m.pte = okvm_leaf_pte(pgt, phys, level, prot);

	/* Fail before changing anything if the cache cannot cover it. */
	okvm_pgtable_walk(pgt, addr, size, &walker);
	if (m.need > (mc && mc->nr > 0 ? mc->nr : 0))
		return -ENOMEM;

	walker.visit = okvm_map_visit;
	return okvm_pgtable_walk(pgt, addr, size, &walker);
}

/* Unmap. */

static int okvm_unmap_visit(const struct okvm_visit_ctx *ctx,
			    enum okvm_visit visit)
{
	struct okvm_pgtable *pgt = ctx->pgt;
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	u64 size = okvm_level_size(ctx->level);
	struct okvm_zap *z = ctx->arg;
	u64 *table;

	if (visit == OKVM_VISIT_LEAF) {
		if (okvm_pte_valid(fmt, ctx->old)) {
			okvm_pte_clear(ctx);
			okvm_zap_note(z, ctx->addr, size, ctx->level);
		}
		return 0;
	}

	/*
	 * After the table's entries: unlink it if it is empty now, which it
	 * is without looking when the range covered all of it.
	 */
	table = okvm_pte_table(fmt, ctx->old);
	if ((ctx->addr < ctx->start || ctx->addr + size > ctx->end) &&
	    !okvm_table_empty(fmt, table))
		return 0;
	okvm_pte_clear(ctx);
	okvm_zap_note(z, ctx->addr, size, OKVM_PGT_LEVEL_ANY);
	okvm_zap_free_later(pgt, z, table);
	return 0;
}

/*
 * Walk [addr, addr + size) with @walker, whose visitor notes what it
 * cleared or restricted in the okvm_zap passed as its argument, then
 * flush what was noted.
 */
static int okvm_pgtable_walk_zap(struct okvm_pgtable *pgt, u64 addr, u64 size,
				 struct okvm_walker *walker)
{
	struct okvm_zap z = {};
	int ret;

	if (!okvm_range_ok(pgt, addr, size))
		return -EINVAL;
	walker->arg = &z;
	ret = okvm_pgtable_walk(pgt, addr, size, walker);
	okvm_zap_flush(pgt, &z);
	return ret;
}

int okvm_pgtable_unmap(struct okvm_pgtable *pgt, u64 addr, u64 size)
{
	struct okvm_walker walker = {
		.visit	= okvm_unmap_visit,
		.visits	= OKVM_VISIT_LEAF | OKVM_VISIT_TABLE_POST,
	};

	return okvm_pgtable_walk_zap(pgt, addr, size, &walker);
}

/* Write-protect. */

static int okvm_wrprotect_visit(const struct okvm_visit_ctx *ctx,
				enum okvm_visit visit)
{
	const struct okvm_pgtable_format *fmt = ctx->pgt->fmt;
	struct okvm_zap *z = ctx->arg;

	if (!okvm_pte_valid(fmt, ctx->old) || !(ctx->old & fmt->prot_w))
		return 0;
	okvm_pte_modify(ctx->ptep, fmt->prot_w, 0);
	okvm_zap_note(z, ctx->addr, okvm_level_size(ctx->level), ctx->level);
	return 0;
}

int okvm_pgtable_wrprotect(struct okvm_pgtable *pgt, u64 addr, u64 size)
{
	struct okvm_walker walker = {
		.visit	= okvm_wrprotect_visit,
		.visits	= OKVM_VISIT_LEAF,
	};

	return okvm_pgtable_walk_zap(pgt, addr, size, &walker);
}

/* Relax permissions. */

static int okvm_relax_visit(const struct okvm_visit_ctx *ctx,
			    enum okvm_visit visit)
{
	struct okvm_pgtable *pgt = ctx->pgt;
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	u64 size = okvm_level_size(ctx->level);
	enum okvm_prot *prot = ctx->arg;
	u64 set = fmt->young_mask, clear = 0;
	u64 old, new;

	if (!okvm_pte_valid(fmt, ctx->old))
		return -ENOENT;

	if (*prot & OKVM_PROT_W)
		set |= fmt->prot_w;
	if (*prot & OKVM_PROT_X) {
		set |= fmt->prot_x;
		clear |= fmt->prot_nx;
		/* The icache must be clean before the guest may execute. */
		if (fmt->icache_on_exec && !okvm_pte_exec(fmt, ctx->old))
			pgt->ops->inval_icache(pgt,
					       okvm_pte_phys(fmt, ctx->old,
							     ctx->level),
					       size);
	}

	old = okvm_pte_modify(ctx->ptep, clear, set);
	new = (old & ~clear) | set;
	/* A stale, stricter TLB entry would fault again and again. */
	if (fmt->flush_on_relax &&
	    ((old ^ new) & (fmt->prot_w | fmt->prot_x | fmt->prot_nx)))
		pgt->ops->flush_range(pgt, ctx->addr, size, ctx->level);
	return 0;
}

int okvm_pgtable_relax_perms(struct okvm_pgtable *pgt, u64 addr,
			     enum okvm_prot prot)
{
	struct okvm_walker walker = {
		.visit	= okvm_relax_visit,
		.visits	= OKVM_VISIT_LEAF,
		.arg	= &prot,
	};

	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (!okvm_range_ok(pgt, addr, PAGE_SIZE) ||
	    (prot & ~(OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X)))
		return -EINVAL;
	return okvm_pgtable_walk(pgt, addr, PAGE_SIZE, &walker);
}

/* Accessed flags. */

struct okvm_young_arg {
	bool clear;
	bool young;
};

static int okvm_young_visit(const struct okvm_visit_ctx *ctx,
			    enum okvm_visit visit)
{
	const struct okvm_pgtable_format *fmt = ctx->pgt->fmt;
	struct okvm_young_arg *y = ctx->arg;

	if (!okvm_pte_valid(fmt, ctx->old) || !(ctx->old & fmt->young_mask))
		return 0;
	y->young = true;
	if (y->clear)
		okvm_pte_modify(ctx->ptep, fmt->young_mask, 0);
	return 0;
}

bool okvm_pgtable_test_clear_young(struct okvm_pgtable *pgt, u64 addr,
				   u64 size, bool clear)
{
	struct okvm_young_arg y = { .clear = clear };
	struct okvm_walker walker = {
		.visit	= okvm_young_visit,
		.visits	= OKVM_VISIT_LEAF,
		.arg	= &y,
	};

	if (!okvm_range_ok(pgt, addr, size))
		return false;
	okvm_pgtable_walk(pgt, addr, size, &walker);
	return y.young;
}

/* Split. */

static int okvm_split_visit(const struct okvm_visit_ctx *ctx,
			    enum okvm_visit visit)
{
	struct okvm_pgtable *pgt = ctx->pgt;
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	unsigned int level = ctx->level - 1, i;
	u64 size = okvm_level_size(level);
	u64 *table, attr, phys;

	if (!ctx->level || !okvm_pte_valid(fmt, ctx->old))
		return 0;
	table = okvm_cache_take(pgt, ctx->arg);
	if (!table)
		return -ENOMEM;

	/*
	 * The block's attributes on 512 leaves of the next level down; the
	 * walker then descends into the new table and splits them again if
	 * they are blocks too.
	 */
	attr = ctx->old & ~(fmt->addr_mask | fmt->type_mask);
	attr |= level ? fmt->block_type : fmt->page_type;
	phys = okvm_pte_phys(fmt, ctx->old, ctx->level);
	for (i = 0; i < OKVM_PGT_PTRS; i++)
		table[i] = attr | (phys + i * size);

	okvm_break(ctx);
	okvm_pte_install(ctx, okvm_table_pte(fmt, table));
	return 0;
}

int okvm_pgtable_split(struct okvm_pgtable *pgt, u64 addr, u64 size,
		       struct okvm_pgtable_cache *mc)
{
	struct okvm_walker walker = {
		.visit	= okvm_split_visit,
		.visits	= OKVM_VISIT_LEAF,
		.arg	= mc,
	};

	if (!okvm_range_ok(pgt, addr, size))
		return -EINVAL;
	return okvm_pgtable_walk(pgt, addr, size, &walker);
}

/* Look-ups. */

static int okvm_get_leaf_visit(const struct okvm_visit_ctx *ctx,
			       enum okvm_visit visit)
{
	const struct okvm_pgtable_format *fmt = ctx->pgt->fmt;
	struct okvm_pgtable_leaf *leaf = ctx->arg;
	u64 pte = ctx->old;

	if (!okvm_pte_valid(fmt, pte))
		return OKVM_WALK_STOP;
	leaf->present = true;
	leaf->writable = pte & fmt->prot_w;
	leaf->executable = okvm_pte_exec(fmt, pte);
	leaf->young = pte & fmt->young_mask;
	leaf->dirty = pte & fmt->dirty_mask;
	leaf->level = ctx->level;
	leaf->size = okvm_level_size(ctx->level);
	leaf->phys = okvm_pte_phys(fmt, pte, ctx->level);
	return OKVM_WALK_STOP;
}

int okvm_pgtable_get_leaf(struct okvm_pgtable *pgt, u64 addr,
			  struct okvm_pgtable_leaf *leaf)
{
	struct okvm_walker walker = {
		.visit	= okvm_get_leaf_visit,
		.visits	= OKVM_VISIT_LEAF,
		.arg	= leaf,
	};

	memset(leaf, 0, sizeof(*leaf));
	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (!okvm_range_ok(pgt, addr, PAGE_SIZE))
		return -EINVAL;
	return okvm_pgtable_walk(pgt, addr, PAGE_SIZE, &walker);
}

struct okvm_read_pte_arg {
	unsigned int level;
	u64 *pte;
};

static int okvm_read_pte_visit(const struct okvm_visit_ctx *ctx,
			       enum okvm_visit visit)
{
	struct okvm_read_pte_arg *r = ctx->arg;

	if (ctx->level == r->level) {
		*r->pte = ctx->old;
		return OKVM_WALK_STOP;
	}
	return visit == OKVM_VISIT_LEAF ? -ENOENT : 0;
}

int okvm_pgtable_read_pte(struct okvm_pgtable *pgt, u64 addr,
			  unsigned int level, u64 *pte)
{
	struct okvm_read_pte_arg r = { .level = level, .pte = pte };
	struct okvm_walker walker = {
		.visit	= okvm_read_pte_visit,
		.visits	= OKVM_VISIT_LEAF | OKVM_VISIT_TABLE_PRE,
		.arg	= &r,
	};

	addr = ALIGN_DOWN(addr, PAGE_SIZE);
	if (!okvm_range_ok(pgt, addr, PAGE_SIZE) || level > pgt->start_level)
		return -EINVAL;
	return okvm_pgtable_walk(pgt, addr, PAGE_SIZE, &walker);
}

static int okvm_count_visit(const struct okvm_visit_ctx *ctx,
			    enum okvm_visit visit)
{
	unsigned long *nr = ctx->arg;

	(*nr)++;
	return 0;
}

unsigned long okvm_pgtable_count_tables(struct okvm_pgtable *pgt)
{
	unsigned long nr = 1UL << pgt->root_order;
	struct okvm_walker walker = {
		.visit	= okvm_count_visit,
		.visits	= OKVM_VISIT_TABLE_PRE,
		.arg	= &nr,
	};

	okvm_pgtable_walk(pgt, 0, BIT_ULL(pgt->ia_bits), &walker);
	return nr;
}

u64 okvm_pgtable_root_reg(const struct okvm_pgtable *pgt)
{
	return pgt->fmt->root_reg(pgt);
}

/* Life cycle. */

static void okvm_noguest_flush_range(struct okvm_pgtable *pgt, u64 addr,
				     u64 size, int level)
{
}

static void okvm_noguest_cmo(struct okvm_pgtable *pgt, u64 phys, u64 size)
{
}

const struct okvm_pgtable_ops okvm_pgtable_noguest_ops = {
	.flush_range	= okvm_noguest_flush_range,
	.clean_dcache	= okvm_noguest_cmo,
	.inval_icache	= okvm_noguest_cmo,
};

/* What the format's init chose must fit the walker's assumptions. */
static bool okvm_geometry_ok(const struct okvm_pgtable *pgt)
{
	unsigned int shift;

	if (!pgt->levels || pgt->levels > OKVM_PGT_MAX_LEVELS ||
	    pgt->start_level != pgt->levels - 1 || pgt->ia_bits >= 64)
		return false;
	shift = okvm_level_shift(pgt->start_level);
	return pgt->ia_bits > shift &&
	       pgt->ia_bits - shift <= OKVM_PGT_TABLE_SHIFT + pgt->root_order;
}

int okvm_pgtable_init(struct okvm_pgtable *pgt,
		      const struct okvm_pgtable_format *fmt,
		      unsigned int ia_bits, u64 fmt_flags)
{
	struct page *page;
	int ret;

	/* Every format here has 4 KiB tables and granules. */
	BUILD_BUG_ON(PAGE_SHIFT != 12);

	pgt->fmt = fmt;
	pgt->root = NULL;
	pgt->ia_bits = ia_bits;
	pgt->flags = fmt_flags;
	pgt->levels = 0;
	pgt->start_level = 0;
	pgt->root_order = 0;
	pgt->leaf_attr = 0;
	pgt->clean_on_map = false;
	ret = fmt->init(pgt);
	if (ret)
		return ret;
	if (WARN_ON_ONCE(!okvm_geometry_ok(pgt)))
		return -EINVAL;

	page = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, pgt->root_order);
	if (!page)
		return -ENOMEM;
	pgt->root = page_address(page);
	atomic_long_set(&pgt->nr_table_pages, 1L << pgt->root_order);
	if (!pgt->ops)
		pgt->ops = &okvm_pgtable_noguest_ops;
	return 0;
}

void okvm_pgtable_destroy(struct okvm_pgtable *pgt)
{
	const struct okvm_pgtable_format *fmt = pgt->fmt;
	unsigned int i, nr;
	u64 *root = pgt->root;
	u64 pte;

	if (!root)
		return;

	/* Nothing may walk the tables any more once they are freed. */
	pgt->ops->flush_range(pgt, 0, BIT_ULL(pgt->ia_bits),
			      OKVM_PGT_LEVEL_ANY);
	nr = okvm_root_entries(pgt);
	for (i = 0; i < nr; i++) {
		pte = READ_ONCE(root[i]);
		if (okvm_pte_is_table(fmt, pte, pgt->start_level))
			okvm_free_subtree(pgt, okvm_pte_table(fmt, pte),
					  pgt->start_level - 1);
	}
	free_pages((unsigned long)root, pgt->root_order);
	atomic_long_sub(1L << pgt->root_order, &pgt->nr_table_pages);
	pgt->root = NULL;
	/* Every page taken from a cache was freed, or the count is off. */
	WARN_ON_ONCE(atomic_long_read(&pgt->nr_table_pages));
}
