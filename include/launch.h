/* launch.h — finding and starting ftp-tunneld: one starter for the shim,
 * ftp-tunnel-wrap and ftp-tunnel -f. The daemon starts detached (a
 * session of its own, not the caller's child), in "/", with default
 * signals, stdio on /dev/null and nothing open but its --ready-fd pipe;
 * an exec failure comes back as an "ERR errno" line. A privileged process
 * (launch_privileged) starts nothing and reads none of the variables.
 * libc only (no libssh2): the shim links it. */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <stddef.h>

/* Whether the process has privileges its real user lacks: secure-execution
 * mode (AT_SECURE: set-user-ID, set-group-ID, file capabilities), or real,
 * effective and saved user or group IDs that differ. Checked on each call
 * (a process may change its IDs); keeps errno. */
int launch_privileged(void);

/* What a caller with descriptors of its own to protect (the shim: a
 * program must not close them under it) does with the starter's pipe.
 * Either member may be NULL: nothing, and close(2). */
struct launch_fds {
	void (*own)(int fd);
	void (*close)(int fd);
};

/* Starts the daemon at path (absolute) with --ready-fd, its environment
 * ours without the shim in LD_PRELOAD and without the routing variables,
 * and waits up to timeout_ms for its READY line. Blocks; 0, or -errno
 * with a one-line reason in why (-EACCES in a privileged process). fds
 * may be NULL. */
int launch_daemon(const char *path, int timeout_ms,
		  const struct launch_fds *fds, char *why, size_t whylen);

/* The directory of the running program (/proc/self/exe) into out. 0 or
 * -1. */
int launch_self_dir(char *out, size_t outlen);

/* The daemon to start into out: $FTP_TUNNELD; else, with near_self, the
 * ftp-tunneld beside the running program (an installed bin/ or the build
 * tree) when there is one; else the built-in path (BINDIR/ftp-tunneld when
 * built). A privileged process gets the built-in path. 0, or
 * -ENAMETOOLONG. */
int launch_daemon_bin_path(int near_self, char *out, size_t outlen);

/* The shim beside the running program: in its directory (the build
 * tree), else in the library directory of its installation: LIBDIR as
 * seen from BINDIR when built (FTP_TUNNEL_LIB_FROM_BIN, ../lib or
 * ../lib/<triplet> for a Debian package), ../lib and ../lib/<triplet>.
 * 0 with its path in out, or -ENOENT. */
int launch_shim_near_self(char *out, size_t outlen);
/* launch_shim_near_self, else the built-in path (LIBDIR/libftptunnel.so
 * when built) if readable. 0, or -ENOENT. */
int launch_shim_path(char *out, size_t outlen);

#endif
