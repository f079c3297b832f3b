// The page size (arch/arm64/include/asm/page-def.h with CONFIG_ARM64_4K_PAGES; x86_64's is the
// same): below mm/, because the engine's layout is cut in pages too.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
