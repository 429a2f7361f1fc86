// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 stage-2 translation tables, 4 KiB granule (Arm ARM, VMSAv8-64
 * translation table format descriptors, stage 2 attributes), and the
 * VTCR_EL2 value that goes with them.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/sizes.h>

#include "pgtable.h"
#include "pgtable_format.h"

/* Input (IPA) sizes this format handles: T0SZ 32..16. */
#define OKVM_S2_MIN_IA_BITS	32
#define OKVM_S2_MAX_IA_BITS	48
/* Up to 16 tables may be concatenated at the start level: 4 more bits. */
#define OKVM_S2_CONCAT_BITS	4

/* Descriptor bits. */
#define OKVM_S2_VALID		BIT_ULL(0)
/* Set: a table (lookup levels 0-2) or a page (level 3); clear: a block. */
#define OKVM_S2_TYPE		BIT_ULL(1)
/* MemAttr[3:0] in bits [5:2]: Normal, outer and inner Write-Back. */
#define OKVM_S2_MEMATTR_WB	(0xfULL << 2)
/* With HCR_EL2.FWB, MemAttr 0b0110: Normal Write-Back, whatever stage 1 says. */
#define OKVM_S2_MEMATTR_FWB_WB	(0x6ULL << 2)
/* S2AP[1:0] in bits [7:6]: read, write. */
#define OKVM_S2_S2AP_R		BIT_ULL(6)
#define OKVM_S2_S2AP_W		BIT_ULL(7)
/* SH[1:0] in bits [9:8]: inner shareable. */
#define OKVM_S2_SH_INNER	(3ULL << 8)
#define OKVM_S2_AF		BIT_ULL(10)
/* Output address: bits [47:12] (no 52-bit output without LPA2). */
#define OKVM_S2_ADDR_MASK	GENMASK_ULL(47, 12)
/* XN[1] (bit 54): not executable at EL1 or EL0, with or without FEAT_XNX. */
#define OKVM_S2_XN		BIT_ULL(54)

/* VTCR_EL2 fields. */
#define OKVM_VTCR_SL0_SHIFT	6
/* IRGN0 and ORGN0: Normal memory, Write-Back Read-Allocate Write-Allocate. */
#define OKVM_VTCR_IRGN0_WBWA	BIT_ULL(8)
#define OKVM_VTCR_ORGN0_WBWA	BIT_ULL(10)
#define OKVM_VTCR_SH0_INNER	(3ULL << 12)
/* TG0 = 0b00: 4 KiB granule. */
#define OKVM_VTCR_TG0_4K	(0ULL << 14)
#define OKVM_VTCR_PS_SHIFT	16
#define OKVM_VTCR_RES1		BIT_ULL(31)

static int okvm_stage2_init(struct okvm_pgtable *pgt)
{
	unsigned int ia_bits = pgt->ia_bits, levels, resolved;
	bool fwb = pgt->flags & OKVM_PGT_FWB;

	if (ia_bits < OKVM_S2_MIN_IA_BITS || ia_bits > OKVM_S2_MAX_IA_BITS ||
	    (pgt->flags & ~OKVM_PGT_FWB))
		return -EINVAL;

	/*
	 * As few levels as possible: the start level's table, concatenated
	 * up to 16 times, resolves what the levels below it do not. 32-bit
	 * IPAs start at lookup level 2 with 4 tables, 40-bit ones at level 1
	 * with 2, 44 and 48 bits at level 0 with one (partly used) table.
	 */
	levels = DIV_ROUND_UP(ia_bits - PAGE_SHIFT - OKVM_S2_CONCAT_BITS, 9);
	resolved = PAGE_SHIFT + 9 * levels;

	pgt->levels = levels;
	pgt->start_level = levels - 1;
	pgt->root_order = ia_bits > resolved ? ia_bits - resolved : 0;
	pgt->leaf_attr = OKVM_S2_VALID | OKVM_S2_SH_INNER |
			 (fwb ? OKVM_S2_MEMATTR_FWB_WB : OKVM_S2_MEMATTR_WB);
	/* Without FWB a guest running with its caches off reads RAM. */
	pgt->clean_on_map = !fwb;
	return 0;
}

/* VTTBR_EL2.BADDR: the root, aligned to its (concatenated) size. */
static u64 okvm_stage2_root_reg(const struct okvm_pgtable *pgt)
{
	return virt_to_phys(pgt->root);
}

/* VTCR_EL2.PS for an address size, rounded up; at most 48 bits. */
static u64 okvm_stage2_ps(unsigned int bits)
{
	static const unsigned char ps_bits[] = { 32, 36, 40, 42, 44, 48 };
	unsigned int ps;

	for (ps = 0; ps < ARRAY_SIZE(ps_bits) - 1; ps++)
		if (bits <= ps_bits[ps])
			break;
	return ps;
}

/*
 * T0SZ and SL0 describe the table; PS must cover both the IPA size and the
 * host physical addresses the leaves point to (a 32-bit IPA space may be
 * backed by RAM far above 4 GiB), so it comes from the host's PARange.
 * VS (16-bit VMIDs) and the hardware AF/dirty bits are left to the vCPU
 * code: okvm manages AF in software and never sets HA or HD.
 */
u64 okvm_stage2_vtcr(const struct okvm_pgtable *pgt, unsigned int pa_bits)
{
	/* SL0 (4 KiB granule): 0, 1, 2 start at lookup level 2, 1, 0. */
	u64 sl0 = pgt->levels - 2;

	return OKVM_VTCR_RES1 | (64ULL - pgt->ia_bits) |
	       sl0 << OKVM_VTCR_SL0_SHIFT |
	       OKVM_VTCR_IRGN0_WBWA | OKVM_VTCR_ORGN0_WBWA |
	       OKVM_VTCR_SH0_INNER | OKVM_VTCR_TG0_4K |
	       okvm_stage2_ps(max(pa_bits, pgt->ia_bits)) << OKVM_VTCR_PS_SHIFT;
}

/*
 * Known encodings, worked out by hand from the descriptor layout:
 * page 0b11 / block 0b01 in bits [1:0], MemAttr [5:2], S2AP [7:6],
 * SH [9:8], AF 10, output address [47:12], XN 54.
 */
static const struct okvm_pgtable_known_pte okvm_stage2_known_ptes[] = {
	/* 4 KiB read-write page: 0x3 | 0x3c | 0xc0 | 0x300 | 0x400, XN */
	{ OKVM_PGT_FWB, 0, SZ_4K, 0x0000123456789000ULL,
	  OKVM_PROT_R | OKVM_PROT_W, 0x00401234567897ffULL, 0x3 },
	/* The same with FWB: MemAttr 0b0110 (0x18) */
	{ OKVM_PGT_FWB, OKVM_PGT_FWB, SZ_4K, 0x0000123456789000ULL,
	  OKVM_PROT_R | OKVM_PROT_W, 0x00401234567897dbULL, 0x3 },
	/* 2 MiB read-only block: 0x1 | 0x3c | 0x40 | 0x300 | 0x400, XN */
	{ OKVM_PGT_FWB, 0, SZ_2M, 0x0000abcde0200000ULL,
	  OKVM_PROT_R, 0x0040abcde020077dULL, 0x3 },
	/* 2 MiB read-execute block with FWB: 0x1 | 0x18 | 0x40 | 0x700 */
	{ OKVM_PGT_FWB, OKVM_PGT_FWB, SZ_2M, 0x0000abcde0200000ULL,
	  OKVM_PROT_R | OKVM_PROT_X, 0x0000abcde0200759ULL, 0x3 },
	/* 1 GiB read-write-execute block at the top of a 48-bit PA space */
	{ OKVM_PGT_FWB, 0, SZ_1G, 0x0000ffffc0000000ULL,
	  OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X, 0x0000ffffc00007fdULL,
	  0x3 },
	{ OKVM_PGT_FWB, OKVM_PGT_FWB, SZ_1G, 0x0000ffffc0000000ULL,
	  OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X, 0x0000ffffc00007d9ULL,
	  0x3 },
};

/*
 * VTCR_EL2 = RES1 (bit 31) | PS << 16 | SH0 0b11 << 12 | ORGN0 0b01 << 10
 * | IRGN0 0b01 << 8 | SL0 << 6 | T0SZ, TG0 0 (4 KiB).
 */
static const struct okvm_pgtable_known_geometry okvm_stage2_known_geometry[] = {
	/* T0SZ 32, SL0 0 (level 2), 4 tables; PS 2 (40 bits) or 5 */
	{ 32, 0, 2, 4, 0, 40, 0x80023520 },
	{ 32, 0, 2, 4, 0, 52, 0x80053520 },
	{ 32, OKVM_PGT_FWB, 2, 4, 0, 40, 0x80023520 },
	/* T0SZ 24, SL0 1 (level 1), 2 tables */
	{ 40, 0, 3, 2, 0, 40, 0x80023558 },
	{ 40, OKVM_PGT_FWB, 3, 2, 0, 40, 0x80023558 },
	/* T0SZ 20, SL0 2 (level 0); PS at least the IPA size (4: 44 bits) */
	{ 44, 0, 4, 1, 0, 40, 0x80043594 },
	{ 44, OKVM_PGT_FWB, 4, 1, 0, 40, 0x80043594 },
	/* T0SZ 16, SL0 2; PS 5 (48 bits), also for a 52-bit host */
	{ 48, 0, 4, 1, 0, 48, 0x80053590 },
	{ 48, 0, 4, 1, 0, 52, 0x80053590 },
	{ 48, OKVM_PGT_FWB, 4, 1, 0, 40, 0x80053590 },
};

const struct okvm_pgtable_format okvm_stage2_format = {
	.name			= "stage2",
	.kind			= OKVM_PGT_KIND_STAGE2,
	.init			= okvm_stage2_init,
	.valid_mask		= OKVM_S2_VALID,
	.addr_mask		= OKVM_S2_ADDR_MASK,
	.type_mask		= OKVM_S2_TYPE,
	.table_type		= OKVM_S2_TYPE,
	.page_type		= OKVM_S2_TYPE,
	.block_type		= 0,
	.table_attr		= OKVM_S2_VALID,
	.prot_r			= OKVM_S2_S2AP_R,
	.prot_w			= OKVM_S2_S2AP_W,
	.prot_x			= 0,
	.prot_nx		= OKVM_S2_XN,
	.young_mask		= OKVM_S2_AF,
	.dirty_mask		= 0,
	/* Pages, and blocks at lookup levels 2 and 1. */
	.leaf_levels		= BIT(0) | BIT(1) | BIT(2),
	.icache_on_exec		= true,
	.flush_on_relax		= true,
	.root_reg		= okvm_stage2_root_reg,
	.ctl_reg		= okvm_stage2_vtcr,
	.known_ptes		= okvm_stage2_known_ptes,
	.nr_known_ptes		= ARRAY_SIZE(okvm_stage2_known_ptes),
	.known_geometry		= okvm_stage2_known_geometry,
	.nr_known_geometry	= ARRAY_SIZE(okvm_stage2_known_geometry),
};

const struct okvm_pgtable_format *const okvm_pgtable_formats[] = {
	&okvm_stage2_format,
	NULL,
};
