# SPDX-License-Identifier: GPL-2.0
#
# Shared rules for p2pmap's selftest directories. A directory Makefile sets
#   HERE       its own directory (absolute)
#   TESTS      program names, each built from $(HERE)/<name>.c
#   DEPS       headers the programs include (rebuild triggers)
#   EXTRA_CFLAGS / EXTRA_LIBS
# and includes this file. KSRC= (the linux-source tree, for
# kselftest_harness.h) is required; OUT= defaults to out/bin. The programs
# are static so they run in the VM's minimal initramfs.

REPO := $(abspath $(HERE)/../../..)

ifeq ($(strip $(KSRC)),)
$(error KSRC=<kernel source tree> is required)
endif
OUT ?= $(REPO)/out/bin

# tests/selftests/Makefile exports P2PMAP_TEST_CFLAGS; same set by default.
P2PMAP_TEST_CFLAGS ?= -static -std=gnu11 -O2 -Wall -Wextra -Werror \
	-I$(KSRC)/tools/testing/selftests
CFLAGS := $(P2PMAP_TEST_CFLAGS) -I$(REPO)/tests/selftests/common $(EXTRA_CFLAGS)
TARGETS := $(addprefix $(OUT)/,$(TESTS))

all: $(TARGETS)

$(OUT)/%: $(HERE)/%.c $(DEPS) $(REPO)/tests/selftests/common/p2pmap_selftest.h $(KSRC)/tools/testing/selftests/kselftest_harness.h
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -o $@ $< $(EXTRA_LIBS)

clean:
	rm -f $(TARGETS)

.PHONY: all clean
