#include <sys/eventfd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "tftpd/rbdfetch.h"
#include "tftpd/rbdimage.h"

/* A file read whole, served from memory. */
struct memsource {
	struct source src;	/* first: a struct source * points here */
	uint8_t *bytes;
};

static ssize_t
mem_read(struct source *s, void *buf, size_t len, uint64_t off)
{
	struct memsource *m = (struct memsource *)s;

	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	memcpy(buf, m->bytes + off, len);
	return (ssize_t)len;
}

static void
mem_close(struct source *s)
{
	struct memsource *m = (struct memsource *)s;

	free(m->bytes);
	free(m);
}

static const struct source_ops mem_ops = {
	.read = mem_read,
	.close = mem_close,
};

/* Reads all of src into a memory source: SOURCE_OK, or SOURCE_ERROR
 * with why. src is closed either way. */
static enum source_status
read_whole(struct source *src, const char *fail_why, struct source **out,
    char *why, size_t whylen)
{
	struct memsource *m;
	uint64_t off = 0;
	ssize_t n;

	*out = NULL;
	if (src->size > RBDFETCH_FILE_MAX) {
		snprintf(why, whylen, "%s: %ju bytes, more than tftpd holds "
		    "of a file in Ceph (%ju)", src->name, (uintmax_t)src->size,
		    (uintmax_t)RBDFETCH_FILE_MAX);
		source_close(src);
		return SOURCE_ERROR;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL ||
	    (m->bytes = malloc(src->size ? src->size : 1)) == NULL) {
		snprintf(why, whylen, "%s: %ju bytes: %s", src->name,
		    (uintmax_t)src->size, strerror(errno));
		free(m);
		source_close(src);
		return SOURCE_ERROR;
	}
	while (off < src->size) {
		size_t want = src->size - off > (1u << 22) ? (1u << 22) :
		    (size_t)(src->size - off);

		if ((n = source_read(src, m->bytes + off, want, off)) <= 0) {
			strlcpy(why, n == 0 ? "the file ended early" :
			    fail_why, whylen);
			mem_close(&m->src);
			source_close(src);
			return SOURCE_ERROR;
		}
		off += (uint64_t)n;
	}
	m->src.ops = &mem_ops;
	m->src.size = src->size;
	strlcpy(m->src.name, src->name, sizeof(m->src.name));
	source_close(src);
	*out = &m->src;
	return SOURCE_OK;
}

static void
run(struct rbdfetch *f, struct rbdimage_cache *cache, struct rbdfetch_job *j)
{
	char fail_why[SOURCE_WHY_LEN] = "";
	struct source *src;

	j->src = NULL;
	j->why[0] = '\0';
	j->st = rbdimage_open_cached(cache, monotonic_ns(), f->cl, &j->target,
	    j->partition, j->entry, j->path, fail_why, sizeof(fail_why), &src,
	    j->why, sizeof(j->why));
	if (j->st != SOURCE_OK)
		return;
	strlcpy(src->name, j->name, sizeof(src->name));
	j->st = read_whole(src, fail_why, &j->src, j->why, sizeof(j->why));
}

static void *
worker(void *arg)
{
	struct rbdfetch *f = arg;
	struct rbdimage_cache cache;
	struct rbdfetch_job *j;
	uint64_t one = 1;

	memset(&cache, 0, sizeof(cache));
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (f->todo == NULL && !f->stopping)
			pthread_cond_wait(&f->work, &f->lock);
		if (f->todo == NULL)
			break;
		j = f->todo;
		if ((f->todo = j->next) == NULL)
			f->todo_tail = &f->todo;
		pthread_mutex_unlock(&f->lock);
		run(f, &cache, j);
		pthread_mutex_lock(&f->lock);
		j->next = f->done;
		f->done = j;
		/* Cannot fail short of a counter near 2^64. */
		(void)!write(f->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&f->lock);
	rbdimage_cache_clear(&cache);
	return NULL;
}

int
rbdfetch_start(struct rbdfetch *f, struct rbd_cluster *cl, char *why,
    size_t whylen)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->cl = cl;
	f->todo_tail = &f->todo;
	if ((f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(why, whylen, "eventfd: %s", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->work, NULL);
	for (int i = 0; i < RBDFETCH_WORKERS; i++) {
		if ((rc = pthread_create(&f->threads[i], NULL, worker,
		    f)) != 0) {
			snprintf(why, whylen, "starting a thread: %s",
			    strerror(rc));
			rbdfetch_stop(f);
			return -1;
		}
		f->nthreads++;
	}
	return 0;
}

void
rbdfetch_submit(struct rbdfetch *f, struct rbdfetch_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&f->lock);
	*f->todo_tail = j;
	f->todo_tail = &j->next;
	pthread_cond_signal(&f->work);
	pthread_mutex_unlock(&f->lock);
}

struct rbdfetch_job *
rbdfetch_take(struct rbdfetch *f)
{
	struct rbdfetch_job *list;
	uint64_t n;

	(void)!read(f->efd, &n, sizeof(n));
	pthread_mutex_lock(&f->lock);
	list = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->lock);
	return list;
}

void
rbdfetch_stop(struct rbdfetch *f)
{
	struct rbdfetch_job *j;

	pthread_mutex_lock(&f->lock);
	f->stopping = 1;
	/* What no worker has begun is not begun now. */
	while ((j = f->todo) != NULL) {
		f->todo = j->next;
		j->st = SOURCE_ERROR;
		j->src = NULL;
		strlcpy(j->why, "tftpd is shutting down", sizeof(j->why));
		j->next = f->done;
		f->done = j;
	}
	f->todo_tail = &f->todo;
	pthread_cond_broadcast(&f->work);
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < f->nthreads; i++)
		pthread_join(f->threads[i], NULL);
	f->nthreads = 0;
	close(f->efd);
	f->efd = -1;
}
