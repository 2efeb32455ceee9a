/* mem.c — the allocator policy of a long-running daemon whose memory use
 * rises and falls with the number of open channels. */
#include "mem.h"

#include <malloc.h>

#include "log.h"

/* Blocks this large (the pumps' buffers, the FTP rewriter's state) are
 * mmapped: freed, they go straight back to the system instead of leaving
 * holes in the heap, and pages a channel never touches are never
 * resident. Setting it also stops glibc's sliding threshold, which after
 * the first freed pump buffer would put all later ones on the heap. The
 * heap keeps the small and churning allocations: libssh2's packets
 * (32 KiB), channel and session structures. */
#define MMAP_THRESHOLD (64 * 1024)

void mem_setup(void)
{
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
}

void mem_trim(void)
{
	malloc_trim(0);
}

void mem_log_stats(void)
{
	struct mallinfo2 mi = mallinfo2();

	log_warn("memory: heap %zu KiB (in use %zu, free %zu, releasable at "
		 "the top %zu), mmapped %zu KiB in %zu blocks",
		 mi.arena / 1024, mi.uordblks / 1024, mi.fordblks / 1024,
		 mi.keepcost / 1024, mi.hblkhd / 1024, mi.hblks);
}
