/* mem.h — the daemon's use of the C library's allocator: how it is set up,
 * when freed memory goes back to the system, and what it reports. */
#ifndef MEM_H
#define MEM_H

/* Sets glibc's malloc up for a process whose memory rises and falls with
 * its channels. Call once, first thing in main. */
void mem_setup(void);
/* Hands the free memory inside the heap back to the system: call when
 * the last channel of a session has gone. Cheap next to a channel. */
void mem_trim(void);
/* Logs the allocator's figures (heap, in use, free, mmapped) at warning
 * level, for the SIGUSR1 dump. */
void mem_log_stats(void);

#endif
