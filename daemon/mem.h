/* mem.h — the daemon's use of the C library's allocator: how it is set up,
 * when freed memory goes back to the system, and what it reports. */
#ifndef MEM_H
#define MEM_H

/* Logs the allocator's figures (heap, in use, free, mmapped) at warning
 * level, for the SIGUSR1 dump. */
void mem_log_stats(void);

#endif
