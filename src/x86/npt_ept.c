// SPDX-License-Identifier: GPL-2.0
/*
 * x86 second-stage tables: AMD NPT (nested page tables, which use the
 * host's long-mode paging format) and Intel EPT, each with 4 or 5 levels.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/sizes.h>

#include "pgtable.h"
#include "pgtable_format.h"

/* Both: physical address bits [51:12] (MAXPHYADDR is at most 52). */
#define OKVM_X86_ADDR_MASK	GENMASK_ULL(51, 12)
#define OKVM_X86_MIN_IA_BITS	32
/* Bit 7 of a non-leaf entry (PS): this entry is a 2 MiB or 1 GiB leaf. */
#define OKVM_X86_PS		BIT_ULL(7)

/*
 * NPT entries are ordinary x86-64 paging entries. Guest accesses count as
 * user accesses, so every level needs US.
 */
#define OKVM_NPT_P		BIT_ULL(0)
#define OKVM_NPT_RW		BIT_ULL(1)
#define OKVM_NPT_US		BIT_ULL(2)
#define OKVM_NPT_A		BIT_ULL(5)
#define OKVM_NPT_D		BIT_ULL(6)
#define OKVM_NPT_NX		BIT_ULL(63)

/* EPT entries (Intel SDM vol. 3, "EPT Translation Mechanism"). */
#define OKVM_EPT_R		BIT_ULL(0)
#define OKVM_EPT_W		BIT_ULL(1)
#define OKVM_EPT_X		BIT_ULL(2)
/* Leaf memory type in bits [5:3]: 6 is write-back. */
#define OKVM_EPT_MT_WB		(6ULL << 3)
/* Ignore the guest's PAT: the EPT memory type alone applies. */
#define OKVM_EPT_IPAT		BIT_ULL(6)
/* Accessed and dirty flags, when the EPTP enables them. */
#define OKVM_EPT_A		BIT_ULL(8)
#define OKVM_EPT_D		BIT_ULL(9)

/* EPTP: paging-structure memory type WB, walk length - 1, A/D enable. */
#define OKVM_EPTP_MT_WB		6ULL
#define OKVM_EPTP_PWL_SHIFT	3
#define OKVM_EPTP_AD		BIT_ULL(6)

static int okvm_x86_init(struct okvm_pgtable *pgt, u64 leaf_attr)
{
	unsigned int levels = pgt->flags & OKVM_PGT_5LEVEL ? 5 : 4;

	if ((pgt->flags & ~OKVM_PGT_5LEVEL) ||
	    pgt->ia_bits < OKVM_X86_MIN_IA_BITS ||
	    pgt->ia_bits > PAGE_SHIFT + 9 * levels)
		return -EINVAL;

	pgt->levels = levels;
	pgt->start_level = levels - 1;
	pgt->root_order = 0;
	pgt->leaf_attr = leaf_attr;
	/* x86 caches are coherent with the guest's view of memory. */
	pgt->clean_on_map = false;
	return 0;
}

static int okvm_npt_init(struct okvm_pgtable *pgt)
{
	return okvm_x86_init(pgt, OKVM_NPT_P | OKVM_NPT_US);
}

static int okvm_ept_init(struct okvm_pgtable *pgt)
{
	return okvm_x86_init(pgt, OKVM_EPT_MT_WB | OKVM_EPT_IPAT);
}

/* nCR3 in the VMCB. */
static u64 okvm_npt_root_reg(const struct okvm_pgtable *pgt)
{
	return virt_to_phys(pgt->root);
}

u64 okvm_ept_eptp(const struct okvm_pgtable *pgt)
{
	return virt_to_phys(pgt->root) | OKVM_EPTP_MT_WB |
	       (u64)(pgt->levels - 1) << OKVM_EPTP_PWL_SHIFT | OKVM_EPTP_AD;
}

/*
 * Known encodings, from the bit positions above: NPT P 0, RW 1, US 2,
 * A 5, PS 7, NX 63; EPT R 0, W 1, X 2, memory type [5:3], IPAT 6, PS 7,
 * A 8. New leaves are accessed and clean; table entries are fully
 * permissive (and accessed), the leaves restrict.
 */
static const struct okvm_pgtable_known_pte okvm_npt_known_ptes[] = {
	/* 4 KiB read-write: P | RW | US | A, NX; address up to bit 51 */
	{ 0, 0, SZ_4K, 0x000fedcba9876000ULL, OKVM_PROT_R | OKVM_PROT_W,
	  0x800fedcba9876027ULL, 0x27 },
	/* 4 KiB read-only: P | US | A, NX */
	{ 0, 0, SZ_4K, 0x000fedcba9876000ULL, OKVM_PROT_R,
	  0x800fedcba9876025ULL, 0x27 },
	/* 2 MiB read-execute: P | US | A | PS */
	{ 0, 0, SZ_2M, 0x0000012345600000ULL, OKVM_PROT_R | OKVM_PROT_X,
	  0x00000123456000a5ULL, 0x27 },
	/* 1 GiB read-write-execute: P | RW | US | A | PS */
	{ 0, 0, SZ_1G, 0x0008000040000000ULL,
	  OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X, 0x00080000400000a7ULL,
	  0x27 },
};

static const struct okvm_pgtable_known_pte okvm_ept_known_ptes[] = {
	/* 4 KiB read-write: R | W | WB (0x30) | IPAT (0x40) | A (0x100) */
	{ 0, 0, SZ_4K, 0x000fedcba9876000ULL, OKVM_PROT_R | OKVM_PROT_W,
	  0x000fedcba9876173ULL, 0x107 },
	/* 4 KiB read-only */
	{ 0, 0, SZ_4K, 0x000fedcba9876000ULL, OKVM_PROT_R,
	  0x000fedcba9876171ULL, 0x107 },
	/* 2 MiB read-execute: R | X | WB | IPAT | PS | A */
	{ 0, 0, SZ_2M, 0x0000012345600000ULL, OKVM_PROT_R | OKVM_PROT_X,
	  0x00000123456001f5ULL, 0x107 },
	/* 1 GiB read-write-execute */
	{ 0, 0, SZ_1G, 0x0008000040000000ULL,
	  OKVM_PROT_R | OKVM_PROT_W | OKVM_PROT_X, 0x00080000400001f7ULL,
	  0x107 },
};

static const struct okvm_pgtable_known_geometry okvm_npt_known_geometry[] = {
	{ 48, 0, 4, 1, 0 },
	{ 57, OKVM_PGT_5LEVEL, 5, 1, 0 },
};

/* EPTP low bits: WB 6 | (walk length - 1) << 3 | A/D 0x40. */
static const struct okvm_pgtable_known_geometry okvm_ept_known_geometry[] = {
	{ 48, 0, 4, 1, 0x5e },
	{ 57, OKVM_PGT_5LEVEL, 5, 1, 0x66 },
};

const struct okvm_pgtable_format okvm_npt_format = {
	.name			= "npt",
	.kind			= OKVM_PGT_KIND_NPT,
	.init			= okvm_npt_init,
	.valid_mask		= OKVM_NPT_P,
	.addr_mask		= OKVM_X86_ADDR_MASK,
	.type_mask		= OKVM_X86_PS,
	.table_type		= 0,
	.page_type		= 0,
	.block_type		= OKVM_X86_PS,
	.table_attr		= OKVM_NPT_P | OKVM_NPT_RW | OKVM_NPT_US |
				  OKVM_NPT_A,
	.prot_r			= 0,
	.prot_w			= OKVM_NPT_RW,
	.prot_x			= 0,
	.prot_nx		= OKVM_NPT_NX,
	.young_mask		= OKVM_NPT_A,
	.dirty_mask		= OKVM_NPT_D,
	.leaf_levels		= BIT(0) | BIT(1) | BIT(2),
	.root_reg		= okvm_npt_root_reg,
	.known_ptes		= okvm_npt_known_ptes,
	.nr_known_ptes		= ARRAY_SIZE(okvm_npt_known_ptes),
	.known_geometry		= okvm_npt_known_geometry,
	.nr_known_geometry	= ARRAY_SIZE(okvm_npt_known_geometry),
};

const struct okvm_pgtable_format okvm_ept_format = {
	.name			= "ept",
	.kind			= OKVM_PGT_KIND_EPT,
	.init			= okvm_ept_init,
	/* Any of R, W, X makes an EPT entry present. */
	.valid_mask		= OKVM_EPT_R | OKVM_EPT_W | OKVM_EPT_X,
	.addr_mask		= OKVM_X86_ADDR_MASK,
	.type_mask		= OKVM_X86_PS,
	.table_type		= 0,
	.page_type		= 0,
	.block_type		= OKVM_X86_PS,
	.table_attr		= OKVM_EPT_R | OKVM_EPT_W | OKVM_EPT_X |
				  OKVM_EPT_A,
	.prot_r			= OKVM_EPT_R,
	.prot_w			= OKVM_EPT_W,
	.prot_x			= OKVM_EPT_X,
	.prot_nx		= 0,
	.young_mask		= OKVM_EPT_A,
	.dirty_mask		= OKVM_EPT_D,
	.leaf_levels		= BIT(0) | BIT(1) | BIT(2),
	.root_reg		= okvm_ept_eptp,
	.known_ptes		= okvm_ept_known_ptes,
	.nr_known_ptes		= ARRAY_SIZE(okvm_ept_known_ptes),
	.known_geometry		= okvm_ept_known_geometry,
	.nr_known_geometry	= ARRAY_SIZE(okvm_ept_known_geometry),
};

const struct okvm_pgtable_format *const okvm_pgtable_formats[] = {
	&okvm_npt_format,
	&okvm_ept_format,
	NULL,
};
