# mk/deb.mk — the Debian package (debian/, scripts/deb.sh) and its test;
# included from the Makefile (which defines BUILD).
#   make deb         $(BUILD)/ftp-tunnel_VERSION_ARCH.deb
#   make check-deb   builds it, lintian, installs it, a tunneled transfer
#                    with the installed commands, purges it (as root)
deb:
	@BUILD=$(BUILD) sh scripts/deb.sh

# The package is installed system-wide: two checkouts testing it at once
# on one machine would remove each other's files, so one at a time.
check-deb:
	@sh scripts/deps.sh test
	@BUILD=$(BUILD) flock /run/lock/ftp-tunnel-check-deb.lock \
		bash tests/package/t_deb.sh

.PHONY: deb check-deb
