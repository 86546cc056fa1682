/* netboot-prep: makes a stock Raspberry Pi OS, Ubuntu or Debian image
 * boot over NBD from this server (netboot-prep(8)), and enrols the Pis
 * that boot it. main.c reads the command line and runs the steps. */
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/asked.h"
#include "common/log.h"
#include "names.h"
#include "prep.h"

#define UNKNOWN_DEFAULT	"/run/dhcpproxyd/unknown"

/* The preparation under way, for the signal handler alone: an
 * interrupted run must not leave the image's root mounted or a loop
 * device attached. */
static struct prep *interrupted_prep;

static void
on_signal(int sig)
{
	static const char msg[] = "netboot-prep: interrupted: undoing the "
	    "work\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	signal(sig, SIG_DFL);
	if (interrupted_prep != NULL)
		prep_cleanup(interrupted_prep);
	_exit(128 + sig);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: netboot-prep [-bfv] [-r DIR] [-s SERVER] [-S SIZE] "
	    "[-u USER] [-g GROUP]\n"
	    "           [-m MODE] [-d DEB]... [-P SERIAL|MAC]... IMAGE NAME\n"
	    "       netboot-prep [-v] [-r DIR] [-U FILE] -e NAME "
	    "[-a] [-P SERIAL|MAC]...\n"
	    "       netboot-prep [-r DIR] [-U FILE] -L\n"
	    "  -r DIR     the images' directory (default /srv)\n"
	    "  -s SERVER  nbdroot= server (default: this server's address)\n"
	    "  -S SIZE    grow the image and its root to SIZE (4G, 8000M)\n"
	    "  -b         a shared base (no write bit; root:GROUP 0440)\n"
	    "  -u USER    nbdd's user, owner of a Pi's image (default nbd)\n"
	    "  -g GROUP   the images' group (default netboot)\n"
	    "  -m MODE    the image's mode (default 0640, -b 0440)\n"
	    "  -d DEB     install this .deb for nbd-client (repeatable); "
	    "default: apt\n"
	    "  -f         replace DIR/NAME.img\n"
	    "  -P ID      enrol the Pi with this serial or MAC (repeatable)\n"
	    "  -e NAME    enrol into DIR/NAME.img, without preparing\n"
	    "  -a         with -e: every machine -L lists\n"
	    "  -L         list machines that asked and have no entry\n"
	    "  -U FILE    dhcpproxyd -U's record (default "
	    UNKNOWN_DEFAULT ")\n"
	    "  -v         say more; -h help; -V version\n");
}

static void
usage_error(const char *fmt, const char *arg, const char *why)
{
	fprintf(stderr, "netboot-prep: ");
	fprintf(stderr, fmt, arg, why);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

/* The address of this server on the Pis' network: the first IPv4
 * address of an interface that is up and not loopback. */
static const char *
guess_server(char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	const char *r = NULL;

	if (getifaddrs(&ifa) == -1)
		return NULL;
	for (i = ifa; i != NULL && r == NULL; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    strcmp(i->ifa_name, "lo") != 0)
			r = inet_ntop(AF_INET, &((struct sockaddr_in *)
			    i->ifa_addr)->sin_addr, buf, (socklen_t)len);
	freeifaddrs(ifa);
	return r;
}

static int
has_entry(const char *dir, const char *name)
{
	char path[PATH_MAX * 2];
	struct stat st;

	snprintf(path, sizeof(path), "%s/boot/%s", dir, name);
	return lstat(path, &st) == 0;
}

/* The machines of the record that have no entry yet, newest first. */
static size_t
unknown_list(const char *dir, const char *file, struct asked_entry *out)
{
	struct asked_table *t = calloc(1, sizeof(*t));
	char *buf = malloc(ASKED_FILE_LEN);
	size_t n = 0;
	ssize_t got;
	int fd;

	if (t == NULL || buf == NULL)
		log_fatal("out of memory");
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		log_fatal("%s: %s: dhcpproxyd keeps this record when run with "
		    "-U %s", file, strerror(errno), file);
	got = read(fd, buf, ASKED_FILE_LEN);
	close(fd);
	asked_load(t, buf, got > 0 ? (size_t)got : 0);
	for (size_t i = 0; i < ASKED_SLOTS; i++) {
		const struct asked_entry *e = &t->slot[i];

		if (!e->used || (e->serial[0] && has_entry(dir, e->serial)) ||
		    has_entry(dir, e->mac))
			continue;
		out[n++] = *e;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && out[j].last > out[j - 1].last; j--) {
			struct asked_entry x = out[j];

			out[j] = out[j - 1];
			out[j - 1] = x;
		}
	free(t);
	free(buf);
	return n;
}

int
main(int argc, char *argv[])
{
	static struct prep p;
	static struct asked_entry asked[ASKED_SLOTS];
	const char *enrol_name = NULL, *unknown = UNKNOWN_DEFAULT, *why;
	int ch, list = 0, all = 0, verbose = 0;
	char w[1024];
	long long mode;

	p.dir = "/srv";
	p.user = "nbd";
	p.group = "netboot";
	p.mode = -1;
	p.fd = -1;
	while ((ch = getopt(argc, argv, "abd:e:fg:hLm:P:r:s:S:u:U:vV")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'b':
			p.shared = 1;
			break;
		case 'd':
			if (p.ndebs == PREP_DEBS_MAX)
				usage_error("-d %s: %s", optarg, "too many");
			p.debs[p.ndebs++] = optarg;
			break;
		case 'e':
			if ((why = prep_name_check(optarg)) != NULL)
				usage_error("-e %s: %s", optarg, why);
			enrol_name = optarg;
			break;
		case 'f':
			p.force = 1;
			break;
		case 'g':
			p.group = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'L':
			list = 1;
			break;
		case 'm':
			mode = strtoll(optarg, NULL, 8);
			if (strspn(optarg, "01234567") != strlen(optarg) ||
			    mode > 0777 || *optarg == '\0')
				usage_error("-m %s: %s", optarg,
				    "not an octal mode (0640)");
			p.mode = (int)mode;
			break;
		case 'P':
			if (p.nentries == PREP_ENTRIES_MAX)
				usage_error("-P %s: %s", optarg, "too many");
			if ((why = pi_entry_name(optarg,
			    p.entries[p.nentries])) != NULL)
				usage_error("-P %s: %s", optarg, why);
			p.nentries++;
			break;
		case 'r':
			p.dir = optarg;
			break;
		case 's':
			if (strlen(optarg) == 0 || strlen(optarg) > 63 ||
			    strpbrk(optarg, " \t/"))
				usage_error("-s %s: %s", optarg,
				    "not a server address");
			p.server = optarg;
			break;
		case 'S': {
			uint64_t v;

			if (prep_size_parse(optarg, &v) == -1 || v == 0)
				usage_error("-S %s: %s", optarg,
				    "not a size (4G, 8000M)");
			p.size = v;
			break;
		}
		case 'u':
			p.user = optarg;
			break;
		case 'U':
			unknown = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("netboot-prep %s\n", VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	log_init("netboot-prep", 0, verbose);

	if (list) {
		size_t n = unknown_list(p.dir, unknown, asked);
		char when[32];

		if (argc != 0 || enrol_name)
			usage_error("-L %s%s", "takes no other arguments", "");
		for (size_t i = 0; i < n; i++) {
			time_t t = (time_t)asked[i].last;
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
			    localtime_r(&t, &tm));
			printf("%-8s %s  last asked %s, %u times\n",
			    asked[i].serial[0] ? asked[i].serial : "-",
			    asked[i].mac, when, asked[i].count);
		}
		if (n == 0)
			fprintf(stderr, "netboot-prep: no machine without an "
			    "entry has asked (%s)\n", unknown);
		return 0;
	}
	if (enrol_name) {
		char img[PATH_MAX * 2];
		struct stat st;
		int failed = 0;

		if (argc != 0)
			usage_error("-e %s: %s", enrol_name,
			    "takes no IMAGE NAME");
		if (all) {
			size_t n = unknown_list(p.dir, unknown, asked);

			for (size_t i = 0; i < n && p.nentries <
			    PREP_ENTRIES_MAX; i++)
				strlcpy(p.entries[p.nentries++],
				    asked[i].serial[0] ? asked[i].serial :
				    asked[i].mac, MAC_NAME_LEN + 1);
		}
		if (p.nentries == 0)
			usage_error("-e %s: %s", enrol_name, "no Pi to enrol "
			    "(-P SERIAL, or -a)");
		snprintf(img, sizeof(img), "%s/%s.img", p.dir, enrol_name);
		if (stat(img, &st) == -1)
			log_fatal("enrol: %s: %s: prepare it first", img,
			    strerror(errno));
		for (size_t i = 0; i < p.nentries; i++)
			if (enrol(p.dir, enrol_name, p.entries[i], w,
			    sizeof(w)) == -1) {
				log_err("enrol: %s", w);
				failed = 1;
			}
		return failed;
	}
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	p.image = argv[0];
	p.name = argv[1];
	if ((why = prep_name_check(p.name)) != NULL)
		usage_error("NAME %s: %s", p.name, why);
	if (p.server == NULL &&
	    (p.server = guess_server(p.server_buf, sizeof(p.server_buf))) ==
	    NULL)
		log_fatal("no IPv4 address on this server to put in nbdroot=: "
		    "give the Pis' server with -s");
	interrupted_prep = &p;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	step_check(&p);
	step_copy(&p);
	step_partitions(&p);
	step_size(&p);
	step_mount(&p);
	step_recognise(&p);
	step_cmdline(&p);
	step_fstab(&p);
	step_firstboot(&p);
	step_nbd_client(&p);
	step_finish(&p);
	for (size_t i = 0; i < p.nentries; i++)
		if (enrol(p.dir, p.name, p.entries[i], w, sizeof(w)) == -1)
			log_fatal("enrol: %s", w);
	return 0;
}
