#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "recognise.h"

const char *
distro_name(enum distro d)
{
	switch (d) {
	case DISTRO_RASPIOS:
		return "Raspberry Pi OS";
	case DISTRO_UBUNTU:
		return "Ubuntu for Raspberry Pi";
	case DISTRO_DEBIAN:
		return "Debian (raspi-firmware)";
	case DISTRO_UNKNOWN:
		break;
	}
	return "unknown";
}

void
os_release_value(const char *text, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	const char *p = text;

	if (len)
		buf[0] = '\0';
	while (p != NULL && *p) {
		const char *nl = strchr(p, '\n');
		size_t ll = nl ? (size_t)(nl - p) : strlen(p);

		if (ll > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
			const char *v = p + kl + 1;
			size_t vl = ll - kl - 1, o = 0;

			if (vl >= 2 && (v[0] == '"' || v[0] == '\'') &&
			    v[vl - 1] == v[0]) {
				v++;
				vl -= 2;
			}
			for (size_t i = 0; i < vl && o + 1 < len; i++)
				if (isprint((unsigned char)v[i]))
					buf[o++] = v[i];
			if (len)
				buf[o] = '\0';
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

void
recognise(const struct image_facts *f, struct recognition *out)
{
	char id[64], codename[64], pretty[96];

	memset(out, 0, sizeof(*out));
	if (!f->cmdline_txt || !f->config_txt) {
		snprintf(out->why, sizeof(out->why), "the FAT partition has no "
		    "%s: not a Raspberry Pi boot partition",
		    f->cmdline_txt ? "config.txt" : "cmdline.txt");
		return;
	}
	if (f->os_release == NULL) {
		snprintf(out->why, sizeof(out->why), "the root file system has "
		    "no /etc/os-release (nor /usr/lib/os-release)");
		return;
	}
	os_release_value(f->os_release, "ID", id, sizeof(id));
	os_release_value(f->os_release, "VERSION_CODENAME", codename,
	    sizeof(codename));
	os_release_value(f->os_release, "PRETTY_NAME", pretty, sizeof(pretty));
	snprintf(out->name, sizeof(out->name), "%s", pretty[0] ? pretty :
	    id[0] ? id : "no name");
	if (f->rpi_issue || f->sys_mods || strcmp(id, "raspbian") == 0) {
		if (strcmp(codename, "buster") == 0 ||
		    strcmp(codename, "bullseye") == 0 ||
		    strcmp(codename, "stretch") == 0) {
			snprintf(out->why, sizeof(out->why), "Raspberry Pi OS "
			    "%s: only bookworm and later (boot partition on "
			    "/boot/firmware) are supported", codename);
			return;
		}
		out->distro = DISTRO_RASPIOS;
		snprintf(out->why, sizeof(out->why), "%s%s%s",
		    f->rpi_issue ? "/etc/rpi-issue" : "",
		    f->rpi_issue && f->sys_mods ? ", " : "",
		    f->sys_mods ? "raspberrypi-sys-mods" :
		    f->rpi_issue ? "" : "ID=raspbian");
		return;
	}
	if (strcmp(id, "ubuntu") == 0) {
		if (!f->flash_kernel) {
			snprintf(out->why, sizeof(out->why), "ID=ubuntu "
			    "without flash-kernel: not Ubuntu's Raspberry Pi "
			    "image");
			return;
		}
		out->distro = DISTRO_UBUNTU;
		snprintf(out->why, sizeof(out->why), "ID=ubuntu, flash-kernel");
		return;
	}
	if (strcmp(id, "debian") == 0) {
		if (!f->raspi_firmware) {
			snprintf(out->why, sizeof(out->why), "ID=debian without "
			    "/etc/default/raspi-firmware (package raspi-firmware) "
			    "nor raspberrypi-sys-mods");
			return;
		}
		out->distro = DISTRO_DEBIAN;
		snprintf(out->why, sizeof(out->why), "ID=debian, "
		    "/etc/default/raspi-firmware");
		return;
	}
	snprintf(out->why, sizeof(out->why), "ID=%s: not Raspberry Pi OS, "
	    "Ubuntu or Debian", id[0] ? id : "(none)");
}

static int
word_eq(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(p, w, n) == 0;
}

static int
seen(char names[][FAT_FILE_NAME], size_t n, const char *p, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], p, len) == 0)
			return 1;
	return 0;
}

static size_t
add_name(char names[][FAT_FILE_NAME], size_t n, size_t max, const char *p,
    size_t len)
{
	if (n == max || len == 0 || len >= FAT_FILE_NAME ||
	    seen(names, n, p, len))
		return n;
	memcpy(names[n], p, len);
	names[n][len] = '\0';
	return n + 1;
}

/* The firmware's own names with auto_initramfs=1: "initramfs" and a
 * suffix of letters, digits and underscores, as kernel*.img has. */
static int
auto_name(const char *n)
{
	if (strncmp(n, "initramfs", 9) != 0 || n[9] == '\0')
		return 0;
	for (const char *p = n + 9; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

size_t
config_initramfs(const char *config, size_t len, const char *const *fat_names,
    size_t nfat, char names[][FAT_FILE_NAME], size_t max)
{
	size_t i = 0, n = 0;
	int autoi = 0;

	while (i < len) {
		const char *l = config + i, *nl = memchr(l, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - l) : len - i, j = 0, ws;

		i += ll + (nl ? 1 : 0);
		while (j < ll && isspace((unsigned char)l[j]))
			j++;
		ws = j;
		while (j < ll && !isspace((unsigned char)l[j]) && l[j] != '=')
			j++;
		if (word_eq(l + ws, j - ws, "initramfs")) {
			size_t s;

			while (j < ll && isspace((unsigned char)l[j]))
				j++;
			s = j;
			while (j < ll && !isspace((unsigned char)l[j]))
				j++;
			n = add_name(names, n, max, l + s, j - s);
		} else if (word_eq(l + ws, j - ws, "auto_initramfs") &&
		    j < ll && l[j] == '=' && j + 1 < ll && l[j + 1] == '1') {
			autoi = 1;
		}
	}
	for (size_t k = 0; autoi && k < nfat; k++)
		if (auto_name(fat_names[k]))
			n = add_name(names, n, max, fat_names[k],
			    strlen(fat_names[k]));
	return n;
}
