/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a page-table format is, for pgtable.c, the architecture files that
 * define formats, and the self-test. Nothing else should include this.
 *
 * A format is mostly data: which bits make an entry valid, a table, a
 * block; where the address is; how permissions, accessed and dirty state
 * are encoded. The callbacks compute what depends on the table's
 * parameters (input size, flags) and the registers the vCPU code loads.
 */
#ifndef OKVM_PGTABLE_FORMAT_H
#define OKVM_PGTABLE_FORMAT_H

#include <linux/types.h>

#include "pgtable.h"

enum okvm_pgtable_kind {
	OKVM_PGT_KIND_STAGE2,
	OKVM_PGT_KIND_NPT,
	OKVM_PGT_KIND_EPT,
};

/*
 * A leaf encoding taken from the architecture manual, checked by the
 * self-test: mapping @size at @phys with @prot, in a table whose flags
 * masked by @flags_mask equal @flags, must write exactly @leaf, and the
 * table entry above it must carry @table_attr besides its address.
 */
struct okvm_pgtable_known_pte {
	u64 flags_mask;
	u64 flags;
	u64 size;
	u64 phys;
	enum okvm_prot prot;
	u64 leaf;
	u64 table_attr;
};

/*
 * The geometry and register values of a table with @ia_bits and @flags:
 * @levels, a root of @root_pages pages, root_reg() equal to the root's
 * address ORed with @root_low, and (for a format with ctl_reg) ctl_reg()
 * for a host with @pa_bits equal to @ctl.
 */
struct okvm_pgtable_known_geometry {
	unsigned int ia_bits;
	u64 flags;
	unsigned int levels;
	unsigned int root_pages;
	u64 root_low;
	unsigned int pa_bits;
	u64 ctl;
};

struct okvm_pgtable_format {
	const char *name;
	enum okvm_pgtable_kind kind;

	/*
	 * Check pgt->ia_bits and pgt->flags (-EINVAL if the format cannot
	 * have them) and set levels, start_level, root_order, leaf_attr and
	 * clean_on_map.
	 */
	int (*init)(struct okvm_pgtable *pgt);

	/* An entry is valid if it has any of these bits. */
	u64 valid_mask;
	/* The next table's address, or a leaf's output address. */
	u64 addr_mask;
	/*
	 * (entry & type_mask) of a valid entry is table_type for a table
	 * (levels above 0) or page_type for a page (level 0), and block_type
	 * for a block.
	 */
	u64 type_mask;
	u64 table_type;
	u64 page_type;
	u64 block_type;
	/* A table entry: its address | table_type | table_attr. */
	u64 table_attr;
	/*
	 * Permission bits of a leaf: prot_r, prot_w and prot_x are set to
	 * grant, prot_nx to deny execution; prot_r is 0 where every valid
	 * leaf is readable.
	 */
	u64 prot_r;
	u64 prot_w;
	u64 prot_x;
	u64 prot_nx;
	/* Accessed and dirty flags of a leaf; 0 if the format has none. */
	u64 young_mask;
	u64 dirty_mask;
	/* BIT(level) for each level that may hold a leaf. */
	unsigned int leaf_levels;
	/* Making a leaf executable needs ops->inval_icache(). */
	bool icache_on_exec;
	/* Relaxing permissions needs ops->flush_range() (arm64). */
	bool flush_on_relax;

	/* See okvm_pgtable_root_reg(). */
	u64 (*root_reg)(const struct okvm_pgtable *pgt);
	/* The translation control register (VTCR_EL2), or NULL. */
	u64 (*ctl_reg)(const struct okvm_pgtable *pgt, unsigned int pa_bits);

	/* Known answers for the self-test. */
	const struct okvm_pgtable_known_pte *known_ptes;
	unsigned int nr_known_ptes;
	const struct okvm_pgtable_known_geometry *known_geometry;
	unsigned int nr_known_geometry;
};

/* The formats linked into okvm.ko, NULL-terminated (one per arch file). */
extern const struct okvm_pgtable_format *const okvm_pgtable_formats[];

/* For the self-test: read the entry mapping @addr at @level. */
int okvm_pgtable_read_pte(struct okvm_pgtable *pgt, u64 addr,
			  unsigned int level, u64 *pte);
/* For the self-test: the table pages reachable from the root, root included. */
unsigned long okvm_pgtable_count_tables(struct okvm_pgtable *pgt);

#endif /* OKVM_PGTABLE_FORMAT_H */
