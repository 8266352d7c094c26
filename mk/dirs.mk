# SPDX-License-Identifier: GPL-2.0
#
# Shared by the userspace Makefiles: the one version (file VERSION at the
# top of the tree), installation directories and the user's build flags.
#
#   PREFIX=/usr/local  LIBDIR=$(PREFIX)/lib (multiarch: /usr/lib/x86_64-linux-gnu)
#   BINDIR SBINDIR INCLUDEDIR MANDIR PKGCONFIGDIR UDEVRULESDIR MODULESLOADDIR
#   DESTDIR (staging root)
#   CPPFLAGS CFLAGS LDFLAGS are honoured (e.g. hardening: LDFLAGS=-Wl,-z,now)
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
VERSION := $(shell cat $(TOP)/VERSION)
ifeq ($(VERSION),)
$(error $(TOP)/VERSION is missing or empty)
endif

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# udev and modules-load.d read /usr/lib and /etc, not /usr/local/lib: with
# PREFIX=/usr/local, pass UDEVRULESDIR=/etc/udev/rules.d and
# MODULESLOADDIR=/etc/modules-load.d to have them used.
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d

CC ?= cc
CFLAGS ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=
VERSION_CPPFLAGS := -DP2PMAP_VERSION='"$(VERSION)"'

# pc_subst IN OUT: a .pc file for the directories of this make invocation
pc_subst = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $(1) > $(2)
# man_subst IN OUT: a man page with the version in its footer
man_subst = sed -e 's|@VERSION@|$(VERSION)|g' $(1) > $(2)
