#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "unknown.h"

int
unknown_open(struct unknown_record *r, const char *path, char *why,
    size_t whylen)
{
	char *buf;
	struct stat st;
	ssize_t n;
	int fd;

	r->fd = -1;
	r->path = path;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s", S_ISREG(st.st_mode) ?
		    strerror(errno) : "not a regular file");
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if ((buf = calloc(1, ASKED_FILE_LEN)) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if ((n = pread(fd, buf, ASKED_FILE_LEN, 0)) == -1) {
		snprintf(why, whylen, "read: %s", strerror(errno));
		free(buf);
		close(fd);
		return -1;
	}
	asked_load(&r->table, buf, (size_t)n);
	free(buf);
	/* A longer file was not ours to begin with; the record is bounded. */
	if (st.st_size > ASKED_FILE_LEN && ftruncate(fd, ASKED_FILE_LEN) == -1) {
		snprintf(why, whylen, "truncate: %s", strerror(errno));
		close(fd);
		return -1;
	}
	r->fd = fd;
	return 0;
}

void
unknown_note(struct unknown_record *r, const char *serial,
    const uint8_t mac[6])
{
	char name[MAC_NAME_LEN + 1], line[ASKED_LINE_LEN];
	size_t slot;
	ssize_t n;

	if (r->fd == -1)
		return;
	mac_entry_name(mac, name);
	slot = asked_note(&r->table, serial, name, (int64_t)time(NULL), line);
	n = pwrite(r->fd, line, sizeof(line), (off_t)(slot * ASKED_LINE_LEN));
	if (n == (ssize_t)sizeof(line)) {
		r->write_failed = 0;
		return;
	}
	if (!r->write_failed)
		log_warn("-U %s: writing the record of %s: %s", r->path, name,
		    n == -1 ? strerror(errno) : "short write");
	r->write_failed = 1;
}
