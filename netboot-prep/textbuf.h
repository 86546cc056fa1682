/* layer: pure */
/* A file's text rewritten into a caller's buffer, piece by piece: what the
 * fstab and VAR=value rewriters share. Pure. */
#ifndef NETBOOT_PREP_TEXTBUF_H
#define NETBOOT_PREP_TEXTBUF_H

#include <stddef.h>

/* Appends s (n bytes) to out at *pos, keeping out NUL-terminated; returns
 * 0, or -1 (nothing appended) when out's outlen bytes cannot hold it. */
int text_append(char *out, size_t outlen, size_t *pos, const char *s,
    size_t n);

#endif
