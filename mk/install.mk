# mk/install.mk — installs the manual pages of the transparent mode and
# the systemd user units; included from the Makefile (which defines
# PREFIX, BINDIR and MANDIR).
#   make install-extra
# ftp-tunneld.service names the daemon by its installed path: @BINDIR@ is
# replaced by $(BINDIR) (without DESTDIR, where it will run from).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSTEMD_USER_DIR ?= $(PREFIX)/lib/systemd/user

install-extra:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSTEMD_USER_DIR)
	install -m 644 man/ftp-tunnel-wrap.1 $(DESTDIR)$(MANDIR)/man1/ftp-tunnel-wrap.1
	install -m 644 man/libftptunnel.7 $(DESTDIR)$(MANDIR)/man7/libftptunnel.7
	install -m 644 man/ftp-tunnel.conf.5 $(DESTDIR)$(MANDIR)/man5/ftp-tunnel.conf.5
	install -m 644 man/ftp-tunneld.8 $(DESTDIR)$(MANDIR)/man8/ftp-tunneld.8
	install -m 644 systemd/ftp-tunneld.socket \
		$(DESTDIR)$(SYSTEMD_USER_DIR)/ftp-tunneld.socket
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/ftp-tunneld.service \
		>$(DESTDIR)$(SYSTEMD_USER_DIR)/ftp-tunneld.service.tmp
	chmod 644 $(DESTDIR)$(SYSTEMD_USER_DIR)/ftp-tunneld.service.tmp
	mv -f $(DESTDIR)$(SYSTEMD_USER_DIR)/ftp-tunneld.service.tmp \
		$(DESTDIR)$(SYSTEMD_USER_DIR)/ftp-tunneld.service

.PHONY: install-extra
