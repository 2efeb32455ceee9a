/* mem.c — the allocator policy of a long-running daemon whose memory use
 * rises and falls with the number of open channels. */
#include "mem.h"

#include <malloc.h>

#include "log.h"

void mem_log_stats(void)
{
	struct mallinfo2 mi = mallinfo2();

	log_warn("memory: heap %zu KiB (in use %zu, free %zu, releasable at "
		 "the top %zu), mmapped %zu KiB in %zu blocks",
		 mi.arena / 1024, mi.uordblks / 1024, mi.fordblks / 1024,
		 mi.keepcost / 1024, mi.hblkhd / 1024, mi.hblks);
}
