# One Makefile for the suite. Sources are found by directory: every .c in
# common/ goes into libcommon.a; every .c in a daemon's directory except
# main.c goes into that daemon's library, which its unit tests and fuzzers
# link too.

VERSION = 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
# The initramfs-tools hook and boot script for a root over TLS, in the
# shape of /etc/initramfs-tools (hooks/, scripts/): copied from here into
# a Pi's image, or installed there straight with
#   make install-initramfs INITRAMFSDIR=/etc/initramfs-tools DESTDIR=/mnt/pi
INITRAMFSDIR ?= $(PREFIX)/share/netboot/initramfs-tools
# systemd units, runit services, inetd lines: examples/, with the paths of
# this PREFIX in them.
EXAMPLEDIR ?= $(PREFIX)/share/netboot/examples
BUILD ?= build
MAKEFLAGS += --no-print-directory

DAEMONS = dhcpproxyd tftpd nbdd
# Every program of the suite: the daemons and the tool that prepares an
# image for them (netboot-prep(8)). One directory each.
PROGRAMS = $(DAEMONS) netboot-prep

CC ?= cc
CFLAGS ?= -O2 -g
# Recursive (=) so that pkg-config runs only after tests/deps.sh has had a
# chance to install what it looks up.
BSD_CFLAGS = $(shell pkg-config --cflags libbsd-overlay)
BSD_LIBS = $(shell pkg-config --libs libbsd-overlay)
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)
# GnuTLS, for nbdd only (NBD over TLS): its objects, its binary, its unit
# tests and its fuzzers.
GNUTLS_CFLAGS = $(shell pkg-config --cflags gnutls)
GNUTLS_LIBS = $(shell pkg-config --libs gnutls)
nbdd_CFLAGS = $(GNUTLS_CFLAGS)
nbdd_LIBS = $(GNUTLS_LIBS)
# liburing, for tftpd only: a turn's packets go in batches (io_uring).
tftpd_LIBS = $(shell pkg-config --libs liburing)

HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ALL_CFLAGS = -std=gnu11 -Wall -Wextra -Werror $(HARDEN) \
	-D_GNU_SOURCE -DVERSION=\"$(VERSION)\" -I. $(BSD_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)

COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
LIBCOMMON = $(BUILD)/libcommon.a

lib_src = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))

BINS = $(PROGRAMS:%=$(BUILD)/%)
MAN_SRC = $(wildcard man/*.scd)
MANS = $(MAN_SRC:man/%.scd=$(BUILD)/man/%)
UNIT_SRC = $(wildcard tests/unit/*_test.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC = $(wildcard tests/tools/*.c)
TOOL_BINS = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

.PHONY: all deps check check-run unit integration sanitize san-build fuzz \
	fuzz-build bench demo install install-initramfs clean

all: $(BINS) $(MANS) $(TOOL_BINS)

# A daemon's own objects get its extra flags (AREA_CFLAGS).
obj_area = $(firstword $(subst /, ,$(patsubst $(BUILD)/obj/%,%,$(1))))
# Each object, unit test and tool also depends on the headers the compiler
# saw it include (-MMD: BUILD/.../NAME.d), and on this Makefile, whose
# flags it was built with.
DEPFLAGS = -MMD -MP
$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $($(call obj_area,$@)_CFLAGS) -c -o $@ $<
-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/tools/*.d)

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Each program: its library (everything but main.c) and the binary.
define daemon_rules
$(BUILD)/lib$(1).a: $(patsubst %.c,$(BUILD)/obj/%.o,$(call lib_src,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(BUILD)/$(1): $(BUILD)/obj/$(1)/main.o $(BUILD)/lib$(1).a $(LIBCOMMON)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $$@ $$^ $(BSD_LIBS) $$($(1)_LIBS)
endef
$(foreach d,$(PROGRAMS),$(eval $(call daemon_rules,$(d))))

# Unit tests: tests/unit/AREA_NAME_test.c links AREA's library (common for
# common_*), libcommon and Check.
unit_area = $(firstword $(subst _, ,$(notdir $(1))))
unit_libs = $(if $(filter common,$(call unit_area,$(1))),,$(BUILD)/lib$(call unit_area,$(1)).a) $(LIBCOMMON)

.SECONDEXPANSION:
$(BUILD)/tests/%_test: tests/unit/%_test.c $$(call unit_libs,%) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $($(call unit_area,$*)_CFLAGS) $(CHECK_CFLAGS) \
		$(ALL_LDFLAGS) -o $@ $< $(UNIT_HELPERS) $(call unit_libs,$*) $(CHECK_LIBS) \
		$(BSD_LIBS) $($(call unit_area,$*)_LIBS)

# The one fake librbd (tests/unit/rbdfake.c: not a test, a helper), linked
# into the tests of the files that call librbd.
RBDFAKE_TESTS = nbdd_rbdexport_test nbdd_rbdxmit_test tftpd_rbdimage_test \
	tftpd_rbdfetch_test
$(RBDFAKE_TESTS:%=$(BUILD)/tests/%): UNIT_HELPERS = $(BUILD)/tests/rbdfake.o
$(RBDFAKE_TESTS:%=$(BUILD)/tests/%): $(BUILD)/tests/rbdfake.o
$(BUILD)/tests/rbdfake.o: tests/unit/rbdfake.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(CHECK_CFLAGS) -c -o $@ $<

# Test clients of our own (the Pi-like clients): standalone programs that
# share no code with the daemons they test. The one that speaks TLS links
# GnuTLS.
$(BUILD)/tools/nbd-tls-client: TOOL_CFLAGS = $(GNUTLS_CFLAGS)
$(BUILD)/tools/nbd-tls-client: TOOL_LIBS = $(GNUTLS_LIBS)
$(BUILD)/tools/%: tests/tools/%.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEPFLAGS) $(TOOL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(BSD_LIBS) $(TOOL_LIBS)

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

# --- tests -----------------------------------------------------------------

deps:
	tests/deps.sh

# The one test command: installs what is missing, builds with -Werror, runs
# unit and integration tests, then again under ASan and UBSan, then the
# fuzzers briefly.
# The builds (plain, sanitizer, fuzzers) use every core; tests/run keeps
# its own count of tests at once (TEST_JOBS).
check: deps
	$(MAKE) -j$(shell nproc) check-run

check-run: all $(UNIT_BINS) san-build
	rm -f $(BUILD)/test-summary $(SAN_BUILD)/test-summary \
		$(FUZZ_BUILD)/test-summary
	BUILD=$(BUILD) SAN_BUILD=$(SAN_BUILD) tests/run
	$(MAKE) fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),10)
	@cat $(BUILD)/test-summary $(SAN_BUILD)/test-summary \
		$(FUZZ_BUILD)/test-summary | awk '{ p += $$1; f += $$2; s += $$3 } \
		END { printf "check: %d passed, %d failed, %d skipped\n", p, f, s; \
		exit f > 0 }' 

unit: all $(UNIT_BINS)
	BUILD=$(BUILD) tests/run unit

integration: all
	BUILD=$(BUILD) tests/run integration

SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
SAN_BUILD ?= build-san
san-build:
	$(MAKE) BUILD=$(SAN_BUILD) CFLAGS="$(SAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" all \
		$(UNIT_SRC:tests/unit/%.c=$(SAN_BUILD)/tests/%)
sanitize: san-build
	BUILD= SAN_BUILD=$(SAN_BUILD) tests/run

# Fuzzers: tests/fuzz/fuzz_AREA_NAME.c is a libFuzzer target built with
# clang against AREA's sources; tests/fuzz/corpus/fuzz_AREA_NAME/ seeds it.
# They, their working corpora, logs and crashes live in FUZZ_BUILD.
FUZZ_BUILD ?= $(BUILD)/fuzz
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -g -O1 -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(BSD_CFLAGS)
fuzz_area = $(word 2,$(subst _, ,$(notdir $(1))))
# (sort also drops the duplicates when AREA is common itself)
$(FUZZ_BUILD)/%: tests/fuzz/%.c $$(call lib_src,$$(call fuzz_area,%)) $(COMMON_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $($(call fuzz_area,$*)_CFLAGS) -o $@ $< \
		$(sort $(call lib_src,$(call fuzz_area,$*)) $(COMMON_SRC)) \
		$(BSD_LIBS) $($(call fuzz_area,$*)_LIBS)

fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	tests/fuzz/run $(or $(FUZZ_SECONDS),60) $(FUZZ_BINS)

bench:
	tests/deps.sh bench
	$(MAKE) all
	BUILD=$(BUILD) tests/bench/run

# The README's main job: netboot a Pi-like client end to end on loopback.
demo:
	tests/deps.sh demo
	$(MAKE) all
	BUILD=$(BUILD) tests/demo/run

# The documentation and the examples name the default prefix, /usr/local;
# installed, they name the one installed into.
EXAMPLES = $(wildcard examples/*.service examples/*.socket \
	examples/*.conf examples/inetd.conf.*) $(wildcard examples/runit/*/run)
install: all install-initramfs
	install -d $(DESTDIR)$(SBINDIR)
	install -m 755 $(BINS) $(DESTDIR)$(SBINDIR)
	for m in $(MANS); do \
		s=$${m##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		sed 's|/usr/local/|$(PREFIX)/|g' $$m > $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
		chmod 644 $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done
	for e in $(EXAMPLES); do \
		d=$(DESTDIR)$(EXAMPLEDIR)/$${e#examples/}; \
		install -d $${d%/*}; \
		sed 's|/usr/local/|$(PREFIX)/|g' $$e > $$d; \
		if [ -x $$e ]; then chmod 755 $$d; else chmod 644 $$d; fi; \
	done

install-initramfs:
	install -d $(DESTDIR)$(INITRAMFSDIR)/hooks $(DESTDIR)$(INITRAMFSDIR)/scripts
	install -m 755 examples/initramfs-tools/hooks/nbd-tls \
		$(DESTDIR)$(INITRAMFSDIR)/hooks/nbd-tls
	install -m 755 examples/initramfs-tools/scripts/nbd-tls-client \
		$(DESTDIR)$(INITRAMFSDIR)/scripts/nbd-tls-client

# What the builds, the benchmarks' BEFORE build and the demo (demo/srv,
# DEMO_SRV's default) leave; build-fuzz is where fuzzers were built before
# they moved under the build directory.
clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) build-fuzz build-before \
		demo/srv
	rmdir demo 2>/dev/null || true
