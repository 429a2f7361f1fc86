/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Second-stage page tables: arm64 stage-2, x86 NPT and x86 EPT.
 *
 * One generic walker (pgtable.c) does every traversal; the formats are data
 * and a few callbacks provided by the architecture file that is linked in.
 * See Documentation/pgtable.rst for the design, the locking contract and
 * the contract of the maintenance hooks.
 *
 * Levels count up from the leaves, whatever the format: level 0 entries
 * map 4 KiB, level 1 2 MiB, level 2 1 GiB, level 3 512 GiB, level 4
 * 256 TiB. A table of @levels levels has its root at start_level =
 * levels - 1. (The arm64 lookup level is 3 - level, x86's PG_LEVEL_* is
 * level + 1.)
 */
#ifndef OKVM_PGTABLE_H
#define OKVM_PGTABLE_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/types.h>

struct okvm;

enum okvm_prot {
	OKVM_PROT_R = BIT(0),
	OKVM_PROT_W = BIT(1),
	OKVM_PROT_X = BIT(2),
};

/* okvm_pgtable_init() @fmt_flags */
#define OKVM_PGT_5LEVEL		BIT_ULL(0)	/* x86: 5 levels (host CR4.LA57) */
#define OKVM_PGT_FWB		BIT_ULL(1)	/* arm64: HCR_EL2.FWB is set */

/* The most levels any format has. */
#define OKVM_PGT_MAX_LEVELS	5
/* flush_range() level hint: entries of several levels, or tables. */
#define OKVM_PGT_LEVEL_ANY	(-1)

/* Opaque outside pgtable.c, the arch files and the self-test. */
struct okvm_pgtable_format;

/* Only the formats of the architecture linked into okvm.ko exist. */
extern const struct okvm_pgtable_format okvm_stage2_format;
extern const struct okvm_pgtable_format okvm_npt_format;
extern const struct okvm_pgtable_format okvm_ept_format;

/*
 * Table pages are taken from a cache that the caller fills (it may sleep)
 * before it takes mmu_lock, so that nothing allocates under the lock. One
 * map from an empty table needs at most OKVM_PGT_MAX_LEVELS - 1 pages (in
 * general pgt->levels - 1) and splitting one 2 MiB block needs one more.
 */
#define OKVM_PGTABLE_CACHE_MAX	OKVM_PGT_MAX_LEVELS

struct okvm_pgtable_cache {
	int nr;
	void *pages[OKVM_PGTABLE_CACHE_MAX];
};

/*
 * Make @mc hold at least @min zeroed pages (GFP_KERNEL_ACCOUNT; may sleep).
 * When it has fewer it is filled up to OKVM_PGTABLE_CACHE_MAX. Returns 0,
 * -EINVAL if @min is larger than that, or -ENOMEM.
 */
int okvm_pgtable_cache_topup(struct okvm_pgtable_cache *mc, int min);
/* Free the pages left in @mc. */
void okvm_pgtable_cache_free(struct okvm_pgtable_cache *mc);

struct okvm_pgtable;

/*
 * Maintenance hooks, supplied by the table's owner. They are called with
 * mmu_lock held as the operation was called and must not sleep.
 */
struct okvm_pgtable_ops {
	/*
	 * When it returns, no CPU may use a translation (TLB entry or cached
	 * table entry) for an address in [addr, addr + size) that came from
	 * an entry cleared or restricted before the call. @level is the
	 * level of the changed entries when they were all leaves of that
	 * level, else OKVM_PGT_LEVEL_ANY; it is a hint that may be ignored.
	 */
	void (*flush_range)(struct okvm_pgtable *pgt, u64 addr, u64 size,
			    int level);
	/*
	 * Make [phys, phys + size) visible to a guest that accesses it with
	 * its caches off: clean the data cache to the point of coherency.
	 * Called before the leaf is installed, only by formats that need it
	 * (arm64 stage-2 without FWB).
	 */
	void (*clean_dcache)(struct okvm_pgtable *pgt, u64 phys, u64 size);
	/*
	 * [phys, phys + size) becomes executable for the guest: invalidate
	 * the instruction cache to the point of unification. Called before
	 * the leaf is installed or made executable, only by formats that need
	 * it (arm64 stage-2; the hook may skip it when CTR_EL0.DIC is set).
	 */
	void (*inval_icache)(struct okvm_pgtable *pgt, u64 phys, u64 size);
};

/*
 * Hooks that do nothing, for a table no guest has used yet (there is no
 * VMID/ASID whose TLB entries could exist). Installed by okvm_pgtable_init()
 * when pgt->ops is NULL.
 */
extern const struct okvm_pgtable_ops okvm_pgtable_noguest_ops;

struct okvm_pgtable {
	const struct okvm_pgtable_format *fmt;
	/* Root table: 1 << root_order contiguous pages, naturally aligned. */
	void *root;
	/* Input address bits; every address handled is below 1 << ia_bits. */
	unsigned int ia_bits;
	unsigned int levels;
	unsigned int start_level;
	/* OKVM_PGT_* given to okvm_pgtable_init(). */
	u64 flags;

	/*
	 * Maintenance hooks. The owner may set them before or after
	 * okvm_pgtable_init() (which keeps a non-NULL value), but before the
	 * table is shared. Hooks find their owner with container_of().
	 */
	const struct okvm_pgtable_ops *ops;

	/* Set by the format at init, read-only afterwards. */
	unsigned int root_order;
	/* Bits every leaf carries: type of memory, shareability, ... */
	u64 leaf_attr;
	/* New leaves need ops->clean_dcache() first. */
	bool clean_on_map;

	/* Table pages linked into this table, root included. */
	atomic_long_t nr_table_pages;
};

int okvm_pgtable_init(struct okvm_pgtable *pgt,
		      const struct okvm_pgtable_format *fmt,
		      unsigned int ia_bits, u64 fmt_flags);
void okvm_pgtable_destroy(struct okvm_pgtable *pgt);

/*
 * Every call below that changes the table needs the owner's mmu_lock held
 * for write; okvm_pgtable_get_leaf() needs it at least for read. Addresses
 * and sizes must be multiples of PAGE_SIZE (get_leaf and relax_perms take
 * any address) and the range must lie below 1 << ia_bits, else -EINVAL.
 */

/*
 * Map [addr, addr + size) to phys as one leaf of that size (PAGE_SIZE, or
 * the block size of a level where the format allows a leaf: 2 MiB, 1 GiB).
 * An existing leaf or table there is replaced (break-before-make); a larger
 * block in the way is removed whole. @prot must contain OKVM_PROT_R. The
 * new leaf is young (accessed) and clean. Returns -EINVAL for bad
 * arguments and -ENOMEM, with nothing changed, if @mc has too few pages.
 */
int okvm_pgtable_map(struct okvm_pgtable *pgt, u64 addr, u64 size, u64 phys,
		     enum okvm_prot prot, struct okvm_pgtable_cache *mc);
/* Remove the leaves in the range; a block partly inside goes whole. */
int okvm_pgtable_unmap(struct okvm_pgtable *pgt, u64 addr, u64 size);
/* Remove write permission from the leaves in the range (whole blocks). */
int okvm_pgtable_wrprotect(struct okvm_pgtable *pgt, u64 addr, u64 size);
/*
 * Add @prot to the leaf covering @addr and mark it young. Returns
 * -ENOENT if nothing maps @addr.
 */
int okvm_pgtable_relax_perms(struct okvm_pgtable *pgt, u64 addr,
			     enum okvm_prot prot);
/*
 * Whether any leaf in the range is young; with @clear, also make them old
 * (no TLB flush: a stale young TLB entry only delays the next access
 * fault). A bad range gives false.
 */
bool okvm_pgtable_test_clear_young(struct okvm_pgtable *pgt, u64 addr,
				   u64 size, bool clear);
/*
 * Split every block in the range (whole) into PAGE_SIZE leaves with the
 * same attributes. Takes one page per block broken: a 1 GiB block needs
 * 513. Returns -ENOMEM when @mc runs dry; what was split stays split, so
 * the caller tops the cache up and calls again.
 */
int okvm_pgtable_split(struct okvm_pgtable *pgt, u64 addr, u64 size,
		       struct okvm_pgtable_cache *mc);

struct okvm_pgtable_leaf {
	bool present, writable, executable, young, dirty;
	int level;
	/* Size and output address of the whole leaf (not of @addr's page). */
	u64 size;
	u64 phys;
};

/*
 * Describe the leaf covering @addr; leaf->present is false if nothing maps
 * it. dirty is always false on arm64 (stage-2 dirty state is not managed
 * by the hardware; dirty logging write-protects). -EINVAL out of range.
 */
int okvm_pgtable_get_leaf(struct okvm_pgtable *pgt, u64 addr,
			  struct okvm_pgtable_leaf *leaf);

/*
 * The value the vCPU code loads to use the table: VTTBR_EL2.BADDR (VMID
 * and CnP still to be added) on arm64, nCR3 for NPT, the EPTP for EPT.
 */
u64 okvm_pgtable_root_reg(const struct okvm_pgtable *pgt);

/* arm64 only: VTCR_EL2 for a stage-2 table; @pa_bits is the host PARange. */
u64 okvm_stage2_vtcr(const struct okvm_pgtable *pgt, unsigned int pa_bits);
/* x86 only: the EPTP of an EPT table (write-back, A/D flags enabled). */
u64 okvm_ept_eptp(const struct okvm_pgtable *pgt);

/* OKVM_TEST_PGTABLE_SELFTEST (pgtable_selftest.c). */
long okvm_test_pgtable_selftest(struct okvm *vm, void __user *argp);

#endif /* OKVM_PGTABLE_H */
