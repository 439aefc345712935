# SPDX-License-Identifier: GPL-2.0-or-later
# qmigrate: a plain GNU Makefile.  `make help` lists the targets.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
CC ?= cc
PKG_CONFIG ?= pkg-config
BUILD ?= build
# The release's version lives in VERSION alone; `make check-release` checks
# that debian/changelog and the man page say the same.
VERSION := $(shell cat VERSION)

# SAN=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer into
# its own directory, so sanitizer and plain objects never meet in one link.
ifeq ($(SAN),1)
BUILD := build-asan
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
endif

# FUZZ=1 builds the libFuzzer targets with clang, ASan and UBSan.
ifeq ($(FUZZ),1)
BUILD := build-fuzz
CC := clang
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined \
             -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

JANSSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags jansson 2>/dev/null)
JANSSON_LIBS := $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null || echo -ljansson)
# Debian 12 ships no libev.pc.
EV_CFLAGS := $(shell $(PKG_CONFIG) --cflags libev 2>/dev/null)
EV_LIBS := $(shell $(PKG_CONFIG) --libs libev 2>/dev/null || echo -lev)
CMOCKA_CFLAGS := $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla \
        -Wno-missing-field-initializers
QM_CFLAGS := -std=gnu11 $(WARN) -O2 -g -D_GNU_SOURCE -I. \
             -DQMIGRATE_VERSION=\"$(VERSION)\" \
             $(JANSSON_CFLAGS) $(EV_CFLAGS) $(SAN_FLAGS)
# The user's CPPFLAGS, CFLAGS and LDFLAGS come last, so they win.
ALL_CFLAGS = $(QM_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)
LIBS := $(JANSSON_LIBS) $(EV_LIBS) -lm

QMP_SRC := $(sort $(wildcard qmp/*.c))
POLICY_SRC := $(sort $(wildcard policy/*.c))
MIGRATE_SRC := $(sort $(wildcard migrate/*.c))
CLI_SRC := $(filter-out cli/main.c,$(sort $(wildcard cli/*.c)))
FAKE_LIB_SRC := $(filter-out tests/fake-qemu/main.c,$(sort $(wildcard tests/fake-qemu/*.c)))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_LIB_SRC := $(sort $(wildcard tests/unit/lib/*.c))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBQMP := $(BUILD)/libqmp.a
LIBPOLICY := $(BUILD)/libpolicy.a
LIBMIGRATE := $(BUILD)/libmigrate.a
LIBCLI := $(BUILD)/libcli.a
LIBFAKE := $(BUILD)/libfakeqemu.a
LIBUNIT := $(BUILD)/libunit.a
QMIGRATE := $(BUILD)/qmigrate
FAKE_QEMU := $(BUILD)/fake-qemu
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 60
GUEST := $(BUILD)/guest/dirty.elf
ALL_LIBS := $(LIBCLI) $(LIBMIGRATE) $(LIBPOLICY) $(LIBQMP)

.SECONDARY:
.DELETE_ON_ERROR:

.PHONY: all check check-unit check-integration check-valgrind asan \
        install uninstall clean demo deps lint format help bench fuzz \
        fuzz-run check-release dist bench-programs

all: $(QMIGRATE) $(if $(wildcard tests/fake-qemu/main.c),$(FAKE_QEMU))

help:
	@echo "make            build $(QMIGRATE)"
	@echo "make demo       install deps, migrate a live guest between two local QEMUs"
	@echo "make check      install deps, run unit and integration tests"
	@echo "make asan       the unit and integration tests under ASan + UBSan"
	@echo "make check-valgrind   the unit tests under valgrind memcheck"
	@echo "make bench      benchmarks, not part of check (BENCH_PARTS=\"sim qmp\" BENCH_MODE=quick)"
	@echo "make fuzz       each libFuzzer target for FUZZ_SECONDS ($(FUZZ_SECONDS))"
	@echo "make dist       qmigrate-$(VERSION).tar.gz, the release tarball"
	@echo "make install    install into \$$(DESTDIR)\$$(PREFIX) ($(PREFIX))"
	@echo "make lint       clang-format and clang-tidy checks"

deps:
	@scripts/install-deps

# A stamp of the flags: objects rebuild when the flags change.
$(BUILD)/.flags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' | cmp -s - $@ || \
	    echo '$(ALL_CFLAGS) $(ALL_LDFLAGS)' > $@
FORCE:

$(BUILD)/obj/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -MMD -MP -c -o $@ $<

$(LIBQMP): $(call obj,$(QMP_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIBPOLICY): $(call obj,$(POLICY_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIBMIGRATE): $(call obj,$(MIGRATE_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIBCLI): $(call obj,$(CLI_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIBUNIT): $(call obj,$(UNIT_LIB_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIBFAKE): $(call obj,$(FAKE_LIB_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

$(QMIGRATE): $(call obj,cli/main.c) $(ALL_LIBS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(FAKE_QEMU): $(call obj,tests/fake-qemu/main.c) $(LIBFAKE) $(LIBQMP)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBUNIT) $(LIBFAKE) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBFAKE) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

# The test guest is assembled at test time from its source.
$(GUEST): tests/guest/dirty.S
	@mkdir -p $(dir $@)
	as --32 -o $(BUILD)/guest/dirty.o $<
	ld -m elf_i386 -Ttext 0x100000 -o $@ $(BUILD)/guest/dirty.o

TEST_BINS := $(QMIGRATE) $(if $(wildcard tests/fake-qemu/main.c),$(FAKE_QEMU)) \
             $(UNIT_BINS) $(TOOL_BINS) $(GUEST)

# The Linux test guest, packed from the Debian packages install-deps put in
# build/debs/guest.  `make check` tests against two QEMUs: the system's
# (Debian 12: 7.2) and 10.0 from bookworm-backports (scripts/install-deps).
LINUX_GUEST := $(BUILD)/guest/linux/initramfs.cpio.gz
QEMU10 := $(CURDIR)/build/qemu/10.0/bin/qemu-system-x86_64

$(LINUX_GUEST): tests/guest/linux/build tests/guest/linux/init \
                build/debs/guest/MANIFEST
	tests/guest/linux/build $(BUILD)/guest/linux
build/debs/guest/MANIFEST $(QEMU10):
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory check-unit
	@rm -f $(BUILD)/integration/*/summary; rc=0; \
	$(MAKE) --no-print-directory check-integration \
	    QEMU=qemu-system-x86_64 || rc=1; \
	INTEGRATION_QEMU_ONLY=1 $(MAKE) --no-print-directory check-integration \
	    QEMU=$(QEMU10) || rc=1; \
	cat $(BUILD)/integration/*/summary; exit $$rc

check-unit: $(filter-out $(GUEST),$(TEST_BINS)) check-release
	@tests/run-unit $(BUILD) $(UNIT_BINS)

# What a release ships agrees: VERSION, debian/changelog, the man page and
# --version; the example config's keys and defaults; the bash completion;
# the man page's entries for every option; the systemd units (verified
# where systemd-analyze is).
check-release: $(QMIGRATE) $(FAKE_QEMU)
	@scripts/check-version . $(QMIGRATE)
	@tests/package/check-version-test
	@BUILD=$(BUILD) tests/package/conf-test
	@BUILD=$(BUILD) tests/package/completion-test
	@BUILD=$(BUILD) tests/package/man-test
	@BUILD=$(BUILD) tests/package/units-test || [ $$? -eq 77 ]

check-integration: $(TEST_BINS) $(LINUX_GUEST)
	@BUILD=$(BUILD) QEMU=$(QEMU) tests/run-integration

# The memory checks run the suite once, on the system's QEMU, without the
# Linux guest's tests and the two hosts' link tests (91-96): they drive no
# qmigrate code the others do not (90, ssh:// monitors, does run).
# MEMCHECK_SKIP= runs them all.
MEMCHECK_SKIP ?= linux 91- 92- 93- 94- 95- 96-
# MEMCHECK_FAKE_ONLY=1: valgrind runs only the tests that start no real QEMU
# (CI, for time: ASan and UBSan run the real ones; before an issue is
# called resolved, check-valgrind runs them all).
MEMCHECK_FAKE_ONLY ?= 0
check-valgrind: $(TEST_BINS)
	@VALGRIND=1 tests/run-unit $(BUILD) $(UNIT_BINS)
	@VALGRIND=1 INTEGRATION_SKIP="$(MEMCHECK_SKIP)" BUILD=$(BUILD) \
	    INTEGRATION_FAKE_ONLY=$(MEMCHECK_FAKE_ONLY) tests/run-integration

asan:
	@INTEGRATION_SKIP="$(MEMCHECK_SKIP)" $(MAKE) --no-print-directory SAN=1 \
	    check-unit check-integration

# Each fuzz target runs FUZZ_SECONDS from its seed corpus (CI: briefly).
fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-run

fuzz-run: $(FUZZ_BINS)
	@tests/run-fuzz $(BUILD) $(FUZZ_SECONDS) $(FUZZ_BINS)

# BENCH_PARTS (sim real ctrl qmp) and BENCH_MODE (full or quick) choose.
BENCH_MODE ?= full
bench-programs: $(QMIGRATE) $(FAKE_QEMU) $(GUEST) $(LINUX_GUEST) $(BENCH_BINS) \
	$(TOOL_BINS)

bench: deps bench-programs
	@bench/run $(BUILD) $(BENCH_MODE)

demo: deps
	@$(MAKE) --no-print-directory $(QMIGRATE) $(GUEST)
	@scripts/demo $(BUILD)

# The example config: every key commented out with its default, made
# from the options' help, so a new option appears in it by itself.
$(BUILD)/qmigrate.conf: $(QMIGRATE) scripts/gen-conf
	scripts/gen-conf $(QMIGRATE) >$@

UNITS := $(wildcard contrib/systemd/*.service)
# The config is installed only where there is none: never over a host's.
install: $(QMIGRATE) $(BUILD)/qmigrate.conf
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(QMIGRATE) $(DESTDIR)$(BINDIR)/qmigrate
	install -m 644 docs/qmigrate.1 $(DESTDIR)$(MANDIR)/man1/qmigrate.1
	install -d $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 644 contrib/qmigrate.bash-completion \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/qmigrate
	$(if $(UNITS),install -d $(DESTDIR)$(SYSTEMDUNITDIR) && \
	    install -m 644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/)
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/qmigrate.conf ]; then \
	    echo "kept $(DESTDIR)$(SYSCONFDIR)/qmigrate.conf"; else \
	    echo "install -D -m 644 $(BUILD)/qmigrate.conf" \
	        "$(DESTDIR)$(SYSCONFDIR)/qmigrate.conf"; \
	    install -D -m 644 $(BUILD)/qmigrate.conf \
	        $(DESTDIR)$(SYSCONFDIR)/qmigrate.conf; fi

# The release tarball: HEAD as committed (git archive), so it holds what a
# clean checkout holds; CI builds and tests it unpacked elsewhere.
DIST := qmigrate-$(VERSION)
dist:
	@git rev-parse --verify -q HEAD >/dev/null || \
	    { echo "make dist: packs git's HEAD: run it in a clone" >&2; exit 1; }
	@git diff --quiet HEAD -- || \
	    echo "make dist: uncommitted changes are left out" >&2
	git archive --format=tar.gz --prefix=$(DIST)/ -o $(DIST).tar.gz HEAD
	@echo "wrote $(DIST).tar.gz"

# The config stays: it may hold the host's settings.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qmigrate $(DESTDIR)$(MANDIR)/man1/qmigrate.1 \
	      $(DESTDIR)$(DATADIR)/bash-completion/completions/qmigrate \
	      $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(notdir $(UNITS)))

LINT_SRC = $(QMP_SRC) $(POLICY_SRC) $(MIGRATE_SRC) $(CLI_SRC) cli/main.c \
           $(wildcard tests/fake-qemu/*.c)
lint:
	clang-format --dry-run --Werror $(LINT_SRC) \
	    $(wildcard qmp/*.h policy/*.h migrate/*.h cli/*.h tests/fake-qemu/*.h)
	clang-tidy --quiet $(LINT_SRC) -- $(QM_CFLAGS)

format:
	clang-format -i $(LINT_SRC) \
	    $(wildcard qmp/*.h policy/*.h migrate/*.h cli/*.h tests/fake-qemu/*.h)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
